//! The figures of TMC25's Theorems A and B, drawn from their claims:
//! the NFA error over gradient flow, the decay of the imbalances under
//! weight decay, and α̂ against depth.

use figure::{
    Axis, Declared, Figure, Missing, Panel, Plot, Series, SeriesLabelPosition, Style,
    TimeSeriesPlot,
};
use serde_json::Value;

use crate::ClaimResult;
use crate::figure_input::{gaps, is, param, time_series, values};

/// Theorem A's figure: α̂ against depth.
pub(crate) fn theorem_a(claims: &[ClaimResult]) -> Vec<Declared> {
    vec![
        alpha_depth(claims)
            .ok_or_else(|| Missing::new("tmc25_alpha_depth.svg", "no A.alpha rows with C > 1")),
    ]
}

/// Theorem B's figures: the NFA error over time (beside A.identity's
/// balanced run) and the imbalance decay.
pub(crate) fn theorem_b(claims: &[ClaimResult]) -> Vec<Declared> {
    vec![
        nfa_relerr(claims).ok_or_else(|| {
            Missing::new(
                "tmc25_nfa_relerr.svg",
                "no B.asymptotic_nfa rows with a relerr series",
            )
        }),
        imbalance_decay(claims).ok_or_else(|| {
            Missing::new(
                "tmc25_imbalance_decay.svg",
                "no B.decay_rate rows with imbalance series",
            )
        }),
    ]
}

/// The depth a TMC25 time-series figure shows, from the claims it plots:
/// the smallest L ≥ 3 they cover (L = 2 has a single imbalance), else the
/// largest.
fn series_depth(results: &[ClaimResult], key: &str) -> Option<u64> {
    let depths = values(results, key, "L", &[]);
    depths
        .iter()
        .copied()
        .find(|&l| l >= 3)
        .or(depths.last().copied())
}

/// The output dimension and hidden width of the Theorem A rows a figure
/// shows, from those rows: the smallest C > 1 (C = 1 leaves α
/// unidentifiable) and then the smallest width.
fn theorem_a_shape(
    results: &[ClaimResult],
    key: &str,
    filter: &[(&str, u64)],
) -> Option<(u64, u64)> {
    let outputs = values(results, key, "C", filter)
        .into_iter()
        .find(|&c| c > 1)?;
    let mut with_c = filter.to_vec();
    with_c.push(("C", outputs));
    let width = *values(results, key, "width", &with_c).first()?;
    Some((outputs, width))
}

/// (a) `relerr(W_1ᵀW_1, G_1^{1/L})` against time for balanced and
/// unbalanced inits, with and without weight decay.
fn nfa_relerr(results: &[ClaimResult]) -> Option<Figure> {
    let depth = series_depth(results, "B.asymptotic_nfa")?;
    let at_depth = |key: &str| {
        results
            .iter()
            .find(|r| is(r, key, &[("L", depth)]) && r.details.is_some())
    };
    let (outputs, width) =
        theorem_a_shape(results, "A.identity", &[("L", depth)]).unwrap_or_default();
    let lambda = |r: &ClaimResult| param(r, "lambda").and_then(Value::as_f64).unwrap_or(0.0);
    let mut series = Vec::new();
    let identity = results.iter().find(|r| {
        is(
            r,
            "A.identity",
            &[("L", depth), ("C", outputs), ("width", width)],
        )
    });
    if let Some((t, y)) = identity.and_then(|r| time_series(r, "relerr")) {
        series.push(Series::new("balanced, λ = 0 (A.identity)", t, y, 0).style(Style::LineMarkers));
    }
    if let Some(r) = at_depth("B.asymptotic_nfa") {
        if let Some((t, y)) = time_series(r, "relerr_balanced_init") {
            let name = format!("balanced, λ = {}", lambda(r));
            series.push(Series::new(name, t, y, 2).style(Style::Line));
        }
        if let Some((t, y)) = time_series(r, "relerr") {
            let name = format!("unbalanced, λ = {} (B.asymptotic_nfa)", lambda(r));
            series.push(Series::new(name, t, y, 1).style(Style::LineMarkers));
        }
    }
    if let Some((t, y)) = at_depth("B.no_decay_persists").and_then(|r| time_series(r, "relerr")) {
        series.push(
            Series::new("unbalanced, λ = 0 (B.no_decay_persists)", t, y, 3)
                .style(Style::LineMarkers),
        );
    }
    if series.is_empty() {
        return None;
    }
    let plot = TimeSeriesPlot {
        title: format!("TMC25: NFA error over gradient flow, L = {depth}"),
        x: Axis::log("time t (gradient-flow time, log scale; t = 0 not shown)"),
        panels: vec![
            Panel::new(Axis::log("relerr(W_1ᵀW_1, G_1^(1/L)) (log scale)"), series)
                .legend(SeriesLabelPosition::LowerLeft),
        ],
    };
    Some(Figure {
        file: "tmc25_nfa_relerr.svg".into(),
        caption: format!(
            "NFA error `relerr(W_1ᵀW_1, G_1^{{1/L}}) = ‖W_1ᵀW_1 − G_1^{{1/L}}‖_F / ‖G_1^{{1/L}}‖_F` of a depth-{depth} linear network under gradient flow. \
             Balanced inits satisfy it to round-off at all times (Theorem A; with decay too, since balancedness is preserved); \
             from an unbalanced init weight decay drives it to zero (Theorem B), while without decay the conserved imbalance keeps it broken. \
             The λ = 0 balanced run is `A.identity` (its own fixture, C = {outputs}, width {width}); the others share the Theorem B fixture. \
             The bump of the balanced run with decay is a mode that weight decay switches off: once its AGOP eigenvalue falls below the \
             eigenvalue cutoff `n·ε_mach·λ_max` it is clipped to zero while `W_1ᵀW_1` still holds its small share, until the mode has decayed."
        ),
        plot: Plot::Lines(plot),
    })
}

/// (b) `‖D_l(t)‖_F` on a log axis against `‖D_l(0)‖_F e^{−2λt}`.
fn imbalance_decay(results: &[ClaimResult]) -> Option<Figure> {
    let depth = series_depth(results, "B.decay_rate")?;
    // Per λ: the checkpoint times and `‖D_l‖_F` per layer (one series each).
    let runs: Vec<(f64, Vec<f64>, Vec<Vec<f64>>)> = results
        .iter()
        .filter(|r| is(r, "B.decay_rate", &[("L", depth)]))
        .filter_map(|r| {
            let lambda = param(r, "lambda")?.as_f64()?;
            let d = r.details.as_ref()?;
            let t = d.series_named("imbalance")?.x.clone();
            let layers = d
                .all_series_named("imbalance")
                .map(|s| gaps(&s.y))
                .collect();
            Some((lambda, t, layers))
        })
        .collect();
    let (_, _, first) = runs.first()?;
    // Colour = layer, marker = λ. The λ collapse onto one curve in 2λt, so
    // the markers are drawn largest first: circles, triangles, then crosses.
    let markers = [Style::Circles, Style::Triangles, Style::Crosses];
    let mut series = Vec::new();
    for (k, (lambda, t, layers)) in runs.iter().enumerate() {
        let x: Vec<f64> = t.iter().map(|t| 2.0 * lambda * t).collect();
        for (l, norms) in layers.iter().enumerate() {
            series.push(
                Series::new(
                    format!("‖D_{}‖_F, λ = {lambda}", l + 1),
                    x.clone(),
                    norms.clone(),
                    l,
                )
                .style(markers[k % markers.len()]),
            );
        }
    }
    // Every λ starts from the same init (same seed), so one predicted line
    // per layer: ‖D_l(0)‖_F e^{−2λt} as a function of 2λt.
    let x_max = runs
        .iter()
        .flat_map(|(lambda, t, _)| t.iter().map(move |t| 2.0 * lambda * t))
        .fold(0.0, f64::max);
    let grid: Vec<f64> = (0..=40).map(|k| x_max * k as f64 / 40.0).collect();
    for (l, norms) in first.iter().enumerate() {
        // The first checkpoint of a trajectory is t = 0.
        let d0 = *norms.first()?;
        let predicted = grid.iter().map(|x| d0 * (-x).exp()).collect();
        series.push(
            Series::new(
                format!("predicted ‖D_{}(0)‖_F e^(−2λt)", l + 1),
                grid.clone(),
                predicted,
                l,
            )
            .style(Style::Dashed),
        );
    }
    let plot = TimeSeriesPlot {
        title: format!("TMC25 Theorem B: imbalance decay under weight decay, L = {depth}"),
        x: Axis::linear("2λt (weight decay λ × gradient-flow time t, dimensionless)"),
        panels: vec![
            Panel::new(
                Axis::log("‖D_l(t)‖_F, D_l = W_(l+1)ᵀW_(l+1) − W_lW_lᵀ (log scale)"),
                series,
            )
            .legend(SeriesLabelPosition::LowerLeft),
        ],
    };
    Some(Figure {
        file: "tmc25_imbalance_decay.svg".into(),
        caption: format!(
            "Imbalance norms `‖D_l(t)‖_F` of a depth-{depth} linear network under gradient flow with weight decay λ (markers; colour = layer, shape = λ) \
             against the prediction `‖D_l(0)‖_F e^{{−2λt}}` (dashed), with time rescaled to 2λt so that every λ falls on the same line."
        ),
        plot: Plot::Lines(plot),
    })
}

/// (c) α̂ against depth for each estimator, against `1/L`.
fn alpha_depth(results: &[ClaimResult]) -> Option<Figure> {
    let (outputs, width) = theorem_a_shape(results, "A.alpha", &[])?;
    let rows: Vec<&ClaimResult> = results
        .iter()
        .filter(|r| is(r, "A.alpha", &[("C", outputs), ("width", width)]))
        .collect();
    let mut series = Vec::new();
    let styles = [Style::Circles, Style::Crosses, Style::Triangles];
    for (k, est) in ["corr", "eig", "fit"].into_iter().enumerate() {
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| param(r, "estimator").and_then(Value::as_str) == Some(est))
            .filter_map(|r| Some((param(r, "L")?.as_f64()?, r.measured?)))
            .collect();
        if !points.is_empty() {
            let (x, y) = points.into_iter().unzip();
            series.push(Series::new(format!("α̂ ({est})"), x, y, k).style(styles[k]));
        }
    }
    if series.is_empty() {
        return None;
    }
    let depths: Vec<f64> = rows
        .iter()
        .filter_map(|r| param(r, "L")?.as_f64())
        .collect();
    let (lo, hi) = depths
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &d| {
            (a.min(d), b.max(d))
        });
    let grid: Vec<f64> = (0..=50).map(|k| lo + (hi - lo) * k as f64 / 50.0).collect();
    let predicted = grid.iter().map(|l| 1.0 / l).collect();
    series.push(Series::new("predicted 1/L", grid, predicted, 6).style(Style::Dashed));
    let plot = TimeSeriesPlot {
        title: "TMC25 Theorem A: NFA exponent α̂ vs depth".into(),
        x: Axis::linear("depth L (number of weight matrices)"),
        panels: vec![Panel::new(
            Axis::linear("α̂ in W_1ᵀW_1 ∝ G_1^α (worst checkpoint)"),
            series,
        )],
    };
    Some(Figure {
        file: "tmc25_alpha_depth.svg".into(),
        caption: format!(
            "NFA exponent α̂ of balanced linear networks trained by gradient flow (C = {outputs}, width {width}), by the three estimators \
             (`corr`: argmax cosine; `eig`: log-log slope of matched eigenvalues; `fit`: argmin relerr_scaled), the worst checkpoint of each run, \
             against Theorem A's `α = 1/L` (dashed). C = 1 is absent: α is unidentifiable when rank G_1 = 1."
        ),
        plot: Plot::Lines(plot),
    })
}
