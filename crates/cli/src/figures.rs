//! The report's figures, drawn from the claims' results (their measured
//! values and the typed [`claims::Details`]: series, values, matrix) with
//! [`crate::plot`].
//!
//! A figure whose claims are absent (not run, or filtered out by `--only`)
//! is simply not produced. Each figure is an SVG file written next to
//! `report.md` and linked from its "Figures" section.
//!
//! | file | claims | shows |
//! |---|---|---|
//! | `tmc25_nfa_relerr.svg` | `A.identity`, `B.asymptotic_nfa`, `B.no_decay_persists` | `relerr(W_1ᵀW_1, G_1^{1/L})` vs t, balanced/unbalanced × with/without decay |
//! | `tmc25_imbalance_decay.svg` | `B.decay_rate` | `‖D_l(t)‖_F` (log) vs `2λt` against `‖D_l(0)‖_F e^{−2λt}` |
//! | `tmc25_alpha_depth.svg` | `A.alpha` | α̂ by each estimator vs depth against `1/L` |
//! | `bma24_nfa_DATA_REGIME.svg` | `nfa.uc_vs_c` | UC- and C-NFA per layer over training, mean and 95 % interval over seeds |
//! | `abp22_silent_alignment.svg` | `silent_timing` | kernel–target alignment and loss vs t (log), whitened and anisotropic inputs |
//! | `abp22_relu_silent_alignment.svg` | `relu_silent_alignment` | two-layer ReLU on whitened digits 0/1: loss, kernel scale and alignments vs t (log), mean over seeds with 95 % bands |
//! | `sb21_specialisation_DATA[_TARGET]_NET_MOTION_motion.svg` | `specialisation` | heat map of `S_cc' = A(K_c, y_c')` after training (mean over seeds; uncentred, full kernels) |

use std::fmt::Write as _;

use claims::details::Series as DetailSeries;
use claims::{ClaimResult, Details};
use plotters::prelude::SeriesLabelPosition;
use serde_json::Value;

use crate::plot::{
    Axis, HeatMap, Panel, PlotError, Series, Style, TimeSeriesPlot, heat_map_svg, time_series_svg,
};

/// One figure of the report.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File name, written next to `report.md`.
    pub file: String,
    /// What the figure shows, with its conventions (the markdown caption).
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// The sorted distinct values of the integer parameter `name` over the
/// claims with `key` (and `filter`).
fn values(results: &[ClaimResult], key: &str, name: &str, filter: &[(&str, u64)]) -> Vec<u64> {
    let mut v: Vec<u64> = results
        .iter()
        .filter(|r| is(r, key, filter))
        .filter_map(|r| param(r, name).and_then(Value::as_u64))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
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

fn param<'a>(r: &'a ClaimResult, name: &str) -> Option<&'a Value> {
    r.params.get(name)
}

fn is(r: &ClaimResult, key: &str, params: &[(&str, u64)]) -> bool {
    r.key == key
        && params
            .iter()
            .all(|(p, v)| param(r, p).and_then(Value::as_u64) == Some(*v))
}

/// Missing values as NaN (gaps in a plotted line).
fn gaps(values: &[Option<f64>]) -> Vec<f64> {
    values.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

/// The points `(x, y)` of a series, undefined values as NaN.
fn points(s: &DetailSeries) -> (Vec<f64>, Vec<f64>) {
    (s.x.clone(), gaps(&s.y))
}

/// The series `name` of a claim's details, as points.
fn time_series(r: &ClaimResult, name: &str) -> Option<(Vec<f64>, Vec<f64>)> {
    r.details.as_ref()?.series_named(name).map(points)
}

/// Every figure the results support, in report order.
pub fn figures(results: &[ClaimResult]) -> Result<Vec<Figure>, PlotError> {
    let mut out = Vec::new();
    for figure in [nfa_relerr, imbalance_decay, alpha_depth] {
        if let Some(f) = figure(results) {
            out.push(f?);
        }
    }
    for (data, regime) in [
        ("digits", "early"),
        ("synthetic", "early"),
        ("digits", "code"),
    ] {
        if let Some(f) = bma24_nfa(results, data, regime) {
            out.push(f?);
        }
    }
    if let Some(f) = silent_alignment(results) {
        out.push(f?);
    }
    if let Some(f) = relu_silent_alignment(results) {
        out.push(f?);
    }
    for r in results
        .iter()
        .filter(|r| r.paper == "SB21" && r.key == "specialisation")
    {
        if let Some(f) = specialisation(r) {
            out.push(f?);
        }
    }
    Ok(out)
}

/// (a) `relerr(W_1ᵀW_1, G_1^{1/L})` against time for balanced and
/// unbalanced inits, with and without weight decay.
fn nfa_relerr(results: &[ClaimResult]) -> Option<Result<Figure, PlotError>> {
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
    Some(time_series_svg(&plot).map(|svg| Figure {
        file: "tmc25_nfa_relerr.svg".into(),
        caption: format!(
            "NFA error `relerr(W_1ᵀW_1, G_1^{{1/L}}) = ‖W_1ᵀW_1 − G_1^{{1/L}}‖_F / ‖G_1^{{1/L}}‖_F` of a depth-{depth} linear network under gradient flow. \
             Balanced inits satisfy it to round-off at all times (Theorem A; with decay too, since balancedness is preserved); \
             from an unbalanced init weight decay drives it to zero (Theorem B), while without decay the conserved imbalance keeps it broken. \
             The λ = 0 balanced run is `A.identity` (its own fixture, C = {outputs}, width {width}); the others share the Theorem B fixture. \
             The bump of the balanced run with decay is a mode that weight decay switches off: once its AGOP eigenvalue falls below the \
             eigenvalue cutoff `n·ε_mach·λ_max` it is clipped to zero while `W_1ᵀW_1` still holds its small share, until the mode has decayed."
        ),
        svg,
    }))
}

/// (b) `‖D_l(t)‖_F` on a log axis against `‖D_l(0)‖_F e^{−2λt}`.
fn imbalance_decay(results: &[ClaimResult]) -> Option<Result<Figure, PlotError>> {
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
    Some(time_series_svg(&plot).map(|svg| Figure {
        file: "tmc25_imbalance_decay.svg".into(),
        caption: format!(
            "Imbalance norms `‖D_l(t)‖_F` of a depth-{depth} linear network under gradient flow with weight decay λ (markers; colour = layer, shape = λ) \
             against the prediction `‖D_l(0)‖_F e^{{−2λt}}` (dashed), with time rescaled to 2λt so that every λ falls on the same line."
        ),
        svg,
    }))
}

/// (c) α̂ against depth for each estimator, against `1/L`.
fn alpha_depth(results: &[ClaimResult]) -> Option<Result<Figure, PlotError>> {
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
    Some(time_series_svg(&plot).map(|svg| Figure {
        file: "tmc25_alpha_depth.svg".into(),
        caption: format!(
            "NFA exponent α̂ of balanced linear networks trained by gradient flow (C = {outputs}, width {width}), by the three estimators \
             (`corr`: argmax cosine; `eig`: log-log slope of matched eigenvalues; `fit`: argmin relerr_scaled), the worst checkpoint of each run, \
             against Theorem A's `α = 1/L` (dashed). C = 1 is absent: α is unidentifiable when rank G_1 = 1."
        ),
        svg,
    }))
}

/// (d) UC-NFA and C-NFA per hidden layer over training on `data`, mean ±
/// spread over seeds as a band.
fn bma24_nfa(
    results: &[ClaimResult],
    data: &str,
    regime: &str,
) -> Option<Result<Figure, PlotError>> {
    let text =
        |r: &ClaimResult, name: &str| param(r, name).and_then(Value::as_str).map(str::to_owned);
    let rows: Vec<&ClaimResult> = results
        .iter()
        .filter(|r| {
            r.key == "nfa.uc_vs_c"
                && text(r, "data").as_deref() == Some(data)
                && text(r, "regime").as_deref() == Some(regime)
                && param(r, "quantity").is_none()
        })
        .collect();
    let seeds = rows
        .first()
        .and_then(|r| param(r, "seeds")?.as_array().map(Vec::len))?;
    let panel = |quantity: &str| -> Vec<Series> {
        rows.iter()
            .filter_map(|r| {
                let layer = param(r, "layer")?.as_u64()?;
                let series = r.details.as_ref()?.series_named(quantity)?;
                let (x, mean) = points(series);
                let (lower, upper) = interval_band(series, &mean);
                let colour = layer.saturating_sub(1) as usize;
                Some(
                    Series::new(format!("layer {layer}"), x, mean, colour)
                        .style(Style::LineMarkers)
                        .band(lower, upper),
                )
            })
            .collect()
    };
    let (uc, c) = (panel("UC-NFA (pearson)"), panel("C-NFA (pearson)"));
    if uc.is_empty() {
        return None;
    }
    // The measured epochs, from the rows (quick and full mode differ).
    let last_epoch = rows
        .first()
        .and_then(|r| param(r, "epochs")?.as_array()?.last()?.as_u64());
    let setting = match (regime, last_epoch) {
        ("code", Some(epochs)) => format!(
            "the regime of BMA24's code (PyTorch's default init, a warm-up epoch, measured to epoch {epochs})"
        ),
        ("code", None) => {
            "the regime of BMA24's code (PyTorch's default init, a warm-up epoch)".into()
        }
        _ => "the first epochs from a He init".into(),
    };
    let x = Axis::linear("epoch (passes over the training set)");
    let plot = TimeSeriesPlot {
        title: format!(
            "BMA24: NFA per layer during SGD ({data}, {regime} regime; band: 95 % interval over {seeds} seeds)"
        ),
        x,
        panels: vec![
            Panel::new(Axis::linear("UC-NFA: pearson(W_lᵀK_lW_l, W_lᵀW_l)"), uc)
                .legend(SeriesLabelPosition::LowerRight),
            Panel::new(Axis::linear("C-NFA: pearson(ΔW_lᵀK_lΔW_l, ΔW_lᵀΔW_l)"), c)
                .legend(SeriesLabelPosition::LowerLeft),
        ],
    };
    Some(time_series_svg(&plot).map(|svg| Figure {
        file: format!("bma24_nfa_{data}_{regime}.svg"),
        caption: format!(
            "Uncentred (top) and centred (bottom) NFA of each hidden layer of a bias-free ReLU MLP trained by minibatch SGD on {data} in {setting}, \
             Pearson correlation with α = 1 (BMA24's convention; `K_l` the pre-activation tangent kernel, `ΔW_l = W_l − W_l(0)`): \
             mean over {seeds} seeds with the 95 % Student t interval of the mean as a band. The C-NFA is undefined where ΔW = 0."
        ),
        svg,
    }))
}

/// The band of a series of means: its 95 % interval where recorded,
/// otherwise ± its spread.
fn interval_band(series: &DetailSeries, mean: &[f64]) -> (Vec<f64>, Vec<f64>) {
    if series.lower.len() == mean.len() && series.upper.len() == mean.len() {
        (gaps(&series.lower), gaps(&series.upper))
    } else {
        let spread = gaps(&series.spread);
        mean.iter()
            .zip(&spread)
            .map(|(m, s)| (m - s, m + s))
            .unzip()
    }
}

/// (e) Kernel–target alignment and loss against log time: the whitened run
/// with the two times of the ordering, and the alignment over the γ sweep.
fn silent_alignment(results: &[ClaimResult]) -> Option<Result<Figure, PlotError>> {
    let runs: Vec<(f64, &Details)> = results
        .iter()
        .filter(|r| r.paper == "ABP22" && r.key == "silent_timing")
        .filter_map(|r| Some((param(r, "gamma")?.as_f64()?, r.details.as_ref()?)))
        .collect();
    let (_, whitened) = runs.iter().find(|(g, _)| *g == 0.0)?;
    let (t, loss) = points(whitened.series_named("loss")?);
    let (_, alignment) = points(whitened.series_named("alignment")?);
    let (t_align, t_loss) = (whitened.value("t_align")?, whitened.value("t_loss")?);
    let finite = loss.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let vertical = |name: &str, at: f64, colour: usize| {
        Series::new(name, vec![at, at], vec![lo, hi], colour).style(Style::Dashed)
    };
    let top = Panel::new(
        Axis::linear("training loss ℒ(t) (MSE / 2)"),
        vec![
            Series::new("loss", t.clone(), loss, 0),
            Series::new("alignment A(K_t, y)", t, alignment, 1).on_right(),
            vertical("t: A ≥ 0.9·A_final", t_align, 1),
            vertical("t: ℒ ≤ 0.9·ℒ_0", t_loss, 0),
        ],
    )
    .right_axis(Axis::linear("kernel–target alignment yᵀKy/(‖K‖_F‖y‖²)"))
    .legend(SeriesLabelPosition::MiddleLeft);
    let sweep: Vec<Series> = runs
        .iter()
        .enumerate()
        .filter_map(|(k, (gamma, d))| {
            let (t, a) = points(d.series_named("alignment")?);
            Some(Series::new(format!("γ = {gamma}"), t, a, k))
        })
        .collect();
    let bottom = Panel::new(Axis::linear("kernel–target alignment A(K_t, y)"), sweep)
        .legend(SeriesLabelPosition::UpperLeft);
    let plot = TimeSeriesPlot {
        title: "ABP22: silent alignment of the NTK (deep linear, small init)".into(),
        x: Axis::log("time t (gradient-flow time, log scale)"),
        panels: vec![top, bottom],
    };
    Some(time_series_svg(&plot).map(|svg| Figure {
        file: "abp22_silent_alignment.svg".into(),
        caption: "Top: loss (left axis) and kernel–target alignment `A(K, y) = yᵀKy / (‖K‖_F‖y‖²)` of the empirical NTK (right axis) \
                  of a deep linear network trained by gradient flow from a small init on whitened inputs; the dashed lines mark the first checkpoints \
                  where the alignment reaches 90% of its final value and where the loss has fallen by 10% (silent alignment: the first comes first). \
                  Bottom: the alignment for anisotropic inputs `X_γ = U S^γ Vᵀ`; γ = 0 is the whitened run."
            .into(),
        svg,
    }))
}

/// A mean-over-seeds series of a claim's details as a plotted line with its
/// 95 % interval as the band.
fn mean_with_band(
    d: &Details,
    name: &str,
    label: impl Into<String>,
    colour: usize,
) -> Option<Series> {
    let s = d.series_named(name)?;
    let (x, y) = points(s);
    Some(Series::new(label, x, y, colour).band(gaps(&s.lower), gaps(&s.upper)))
}

/// (e′) ABP22's first figure on digits: loss and normalised kernel scale
/// (top), uncentred and centred kernel–target alignment (bottom) of the
/// two-layer ReLU network, means over seeds with 95 % intervals, and the
/// two times of the ordering.
fn relu_silent_alignment(results: &[ClaimResult]) -> Option<Result<Figure, PlotError>> {
    let r = results
        .iter()
        .find(|r| r.paper == "ABP22" && r.key == "relu_silent_alignment" && r.details.is_some())?;
    let d = r.details.as_ref()?;
    let seeds = param(r, "seeds")?.as_array()?.len();
    let data = param(r, "data")?.as_str()?;
    let width = param(r, "hidden")?.as_u64()?;
    let (t_align, t_loss) = (
        d.value("t_align_geometric_mean")?,
        d.value("t_loss_geometric_mean")?,
    );
    let loss = mean_with_band(d, "loss", "loss", 0)?;
    let alignment = mean_with_band(d, "alignment", "A(K_t, y) = yᵀKy/(‖K‖_F‖y‖²)", 1)?;
    let centred = mean_with_band(d, "centred alignment", "centred A(HK_tH, Hy)", 3)?;
    let range = |series: &[&Series]| {
        let values = series.iter().flat_map(|s| s.y.iter()).copied();
        values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
    };
    let vertical = |name: &str, at: f64, (lo, hi): (f64, f64), colour: usize| {
        Series::new(name, vec![at, at], vec![lo, hi], colour).style(Style::Dashed)
    };
    let (loss_range, alignment_range) = (range(&[&loss]), range(&[&alignment, &centred]));
    let top = Panel::new(
        Axis::linear("training loss ℒ(t) (MSE / 2)"),
        vec![
            loss,
            mean_with_band(
                d,
                "kernel scale ‖K_t‖_F/‖K_T‖_F",
                "kernel scale ‖K_t‖_F/‖K_T‖_F",
                2,
            )?
            .on_right(),
            vertical("t_align (geometric mean)", t_align, loss_range, 1),
            vertical("t_loss (geometric mean)", t_loss, loss_range, 0),
        ],
    )
    .right_axis(Axis::linear("‖K_t‖_F / ‖K_T‖_F (final kernel = 1)"))
    .legend(SeriesLabelPosition::MiddleLeft);
    let bottom = Panel::new(
        Axis::linear("kernel–target alignment"),
        vec![
            alignment,
            centred,
            vertical("t_align", t_align, alignment_range, 1),
            vertical("t_loss", t_loss, alignment_range, 0),
        ],
    )
    .legend(SeriesLabelPosition::LowerRight);
    let plot = TimeSeriesPlot {
        title: format!("ABP22: two-layer ReLU net on {data} (95 % bands, {seeds} seeds)"),
        x: Axis::log("time t = kη (full-batch GD, log scale; t = 0 not shown)"),
        panels: vec![top, bottom],
    };
    Some(time_series_svg(&plot).map(|svg| Figure {
        file: "abp22_relu_silent_alignment.svg".into(),
        caption: format!(
            "ABP22's first figure on the 8×8 digits 0 and 1 ({data}; the paper uses MNIST): a bias-free two-layer ReLU network of width {width} \
             trained by full-batch GD from a small init on inputs whitened on the training rows. Top: loss (left axis) and kernel scale \
             `‖K_t‖_F/‖K_T‖_F` of the empirical NTK on the training rows (right axis); bottom: its uncentred and centred kernel–target alignment. \
             Lines are means over {seeds} seeds, bands their 95 % Student t intervals; the dashed lines mark the geometric means over seeds of \
             t_align (the alignment has made 90% of its final gain) and t_loss (the loss has fallen 10%): the kernel aligns while its scale and \
             the loss are still at their initial values (`relu_silent_alignment`)."
        ),
        svg,
    }))
}

/// (f) SB21's specialisation matrix `S_cc' = A(K_c, y_c')` of one setting
/// (kernel motion, data set and target, network) as a heat map, in SB21's
/// convention (uncentred alignment of the full kernels): the linear
/// network's claim and the ReLU network's contrast-from-init claim in that
/// convention.
fn specialisation(r: &ClaimResult) -> Option<Result<Figure, PlotError>> {
    let text = |name: &str| param(r, name).and_then(|v| v.as_str());
    let sb21_convention = match text("by") {
        None => true,
        Some("contrast") => {
            text("vs") == Some("init")
                && text("kernel") == Some("full")
                && text("alignment") == Some("uncentred")
        }
        Some(_) => false,
    };
    if !sb21_convention {
        return None;
    }
    let matrix = r.details.as_ref()?.matrix.as_ref()?;
    let (data, net, motion) = (text("data")?, text("net")?, text("kernel_motion")?);
    let (task, task_file) = match text("target") {
        Some(target) => (
            format!("{data} ({target} targets)"),
            format!("{data}_{target}"),
        ),
        None => (data.to_owned(), data.to_owned()),
    };
    let map = HeatMap {
        title: format!(
            "SB21: specialisation matrix, {net} network, {task}, {motion} kernel motion"
        ),
        x_label: "target column y_c'".into(),
        y_label: "per-output kernel K_c".into(),
        columns: matrix.columns.clone(),
        rows: matrix.rows.clone(),
        values: matrix.values.iter().map(|row| gaps(row)).collect(),
        colour_label: "A(K_c, y_c') = y_c'ᵀK_c y_c'/(‖K_c‖_F‖y_c'‖²)".into(),
        range: None,
    };
    Some(heat_map_svg(&map).map(|svg| Figure {
        file: format!("sb21_specialisation_{task_file}_{net}_{motion}_motion.svg"),
        caption: format!(
            "Specialisation matrix `S_cc' = A(K_c, y_c')` (uncentred kernel–target alignment of output c's empirical NTK with target column c') \
             of the {net} network on {task} in the regime of {motion} kernel motion after training, mean over seeds. Specialisation shows as a \
             diagonal above the off-diagonal entries (SB21's rows judge its rise from init); a linear network's kernels share their feature part, \
             so its rows differ only by a per-output weight."
        ),
        svg,
    }))
}

/// The "Figures" section of `report.md`: each figure as an image link with
/// its caption.
pub fn markdown_section(figures: &[Figure]) -> String {
    if figures.is_empty() {
        return String::new();
    }
    let mut out = String::from("## Figures\n\n");
    for f in figures {
        let _ = writeln!(out, "![{}]({})\n\n{}\n", f.file, f.file, f.caption);
    }
    out
}
