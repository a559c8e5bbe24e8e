//! BMA24's figures: UC- and C-NFA per layer over training, one per data
//! set and regime of the NFA study of the MLP, and one of the MLP beside
//! the CNN in the regimes of BMA24's code.

use figure::{
    Axis, Declared, Figure, Missing, Panel, Plot, Series, SeriesLabelPosition, Style,
    TimeSeriesPlot,
};
use serde_json::Value;

use crate::ClaimResult;
use crate::figure_input::{interval_band, param, points};

/// One figure per `(data set, regime)` of the NFA study.
pub(crate) fn nfa(claims: &[ClaimResult], cells: &[(&str, &str)]) -> Vec<Declared> {
    cells
        .iter()
        .map(|&(data, regime)| {
            bma24_nfa(claims, data, regime).ok_or_else(|| {
                Missing::new(
                    format!("bma24_nfa_{data}_{regime}.svg"),
                    "no nfa.uc_vs_c rows of this data set and regime with UC- and C-NFA series",
                )
            })
        })
        .chain(std::iter::once(mlp_vs_cnn(claims).ok_or_else(|| {
            Missing::new(
                "bma24_nfa_mlp_vs_cnn.svg",
                "no nfa.uc_vs_c rows of the code and conv regimes with UC- and C-NFA series",
            )
        })))
        .collect()
}

/// The series rows (no `quantity`) of nfa.uc_vs_c on `data` in `regime`.
fn series_rows<'a>(results: &'a [ClaimResult], data: &str, regime: &str) -> Vec<&'a ClaimResult> {
    let text =
        |r: &ClaimResult, name: &str| param(r, name).and_then(Value::as_str).map(str::to_owned);
    results
        .iter()
        .filter(|r| {
            r.key == "nfa.uc_vs_c"
                && text(r, "data").as_deref() == Some(data)
                && text(r, "regime").as_deref() == Some(regime)
                && param(r, "quantity").is_none()
        })
        .collect()
}

/// One series per layer of `quantity`, mean with its interval as a band;
/// x divided by `x_scale`.
fn layer_series(rows: &[&ClaimResult], quantity: &str, x_scale: f64) -> Vec<Series> {
    rows.iter()
        .filter_map(|r| {
            let layer = param(r, "layer")?.as_u64()?;
            let series = r.details.as_ref()?.series_named(quantity)?;
            let (x, mean) = points(series);
            let (lower, upper) = interval_band(series, &mean);
            let colour = layer.saturating_sub(1) as usize;
            let x = x.into_iter().map(|e| e / x_scale).collect();
            Some(
                Series::new(format!("layer {layer}"), x, mean, colour)
                    .style(Style::LineMarkers)
                    .band(lower, upper),
            )
        })
        .collect()
}

/// The last measured epoch of the rows.
fn last_epoch(rows: &[&ClaimResult]) -> Option<u64> {
    rows.first()
        .and_then(|r| param(r, "epochs")?.as_array()?.last()?.as_u64())
}

/// UC- and C-NFA per layer of the MLP in the regime of BMA24's MLP code
/// (top) beside the CNN in the regime of its `Conv/` code (bottom), over
/// the fraction of each run's epochs.
fn mlp_vs_cnn(results: &[ClaimResult]) -> Option<Figure> {
    let (mlp, cnn) = (
        series_rows(results, "digits", "code"),
        series_rows(results, "digits", "conv"),
    );
    let (mlp_epochs, cnn_epochs) = (last_epoch(&mlp)?, last_epoch(&cnn)?);
    let seeds = cnn
        .first()
        .and_then(|r| param(r, "seeds")?.as_array().map(Vec::len))?;
    let panel = |rows: &[&ClaimResult], quantity: &str, epochs: u64, label: String| {
        let series = layer_series(rows, quantity, epochs.max(1) as f64);
        (!series.is_empty()).then(|| {
            Panel::new(Axis::linear(label), series).legend(SeriesLabelPosition::LowerRight)
        })
    };
    let panels = vec![
        panel(
            &mlp,
            "UC-NFA (pearson)",
            mlp_epochs,
            "MLP, hidden layer: UC-NFA".into(),
        )?,
        panel(
            &mlp,
            "C-NFA (pearson)",
            mlp_epochs,
            "MLP, hidden layer: C-NFA".into(),
        )?,
        panel(
            &cnn,
            "UC-NFA (pearson)",
            cnn_epochs,
            "CNN, convolution: UC-NFA".into(),
        )?,
        panel(
            &cnn,
            "C-NFA (pearson)",
            cnn_epochs,
            "CNN, convolution: C-NFA".into(),
        )?,
    ];
    Some(Figure {
        file: "bma24_nfa_mlp_vs_cnn.svg".into(),
        caption: format!(
            "Uncentred and centred NFA (Pearson, α = 1, BMA24's convention) per layer on the digits in the regimes of BMA24's code: \
             the bias-free ReLU MLP of `MLP/` (top two panels, {mlp_epochs} epochs after a warm-up epoch) and the VGG-style CNN of `Conv/` \
             reconstructed on 1×8×8 images (bottom two, each convolution's flattened filter bank and its PTK, {cnn_epochs} epochs after a warm-up epoch), \
             over the fraction of each run's epochs: mean over {seeds} seeds with the 95 % Student t interval of the mean as a band. \
             The C-NFA is undefined where ΔW = 0."
        ),
        plot: Plot::Lines(TimeSeriesPlot {
            title: "BMA24: NFA per layer, MLP and CNN (regimes of BMA24's code, digits)".into(),
            x: Axis::linear("epoch ÷ last epoch of the run"),
            panels,
        }),
    })
}

/// (d) UC-NFA and C-NFA per hidden layer over training on `data`, mean ±
/// spread over seeds as a band.
fn bma24_nfa(results: &[ClaimResult], data: &str, regime: &str) -> Option<Figure> {
    let rows = series_rows(results, data, regime);
    let seeds = rows
        .first()
        .and_then(|r| param(r, "seeds")?.as_array().map(Vec::len))?;
    let (uc, c) = (
        layer_series(&rows, "UC-NFA (pearson)", 1.0),
        layer_series(&rows, "C-NFA (pearson)", 1.0),
    );
    if uc.is_empty() {
        return None;
    }
    // The measured epochs, from the rows (quick and full mode differ).
    let setting = match (regime, last_epoch(&rows)) {
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
    Some(Figure {
        file: format!("bma24_nfa_{data}_{regime}.svg"),
        caption: format!(
            "Uncentred (top) and centred (bottom) NFA of each hidden layer of a bias-free ReLU MLP trained by minibatch SGD on {data} in {setting}, \
             Pearson correlation with α = 1 (BMA24's convention; `K_l` the pre-activation tangent kernel, `ΔW_l = W_l − W_l(0)`): \
             mean over {seeds} seeds with the 95 % Student t interval of the mean as a band. The C-NFA is undefined where ΔW = 0."
        ),
        plot: Plot::Lines(plot),
    })
}
