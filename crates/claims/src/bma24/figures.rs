//! BMA24's figure: UC- and C-NFA per layer over training, one per data
//! set and regime of the NFA study.

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
        .collect()
}

/// (d) UC-NFA and C-NFA per hidden layer over training on `data`, mean ±
/// spread over seeds as a band.
fn bma24_nfa(results: &[ClaimResult], data: &str, regime: &str) -> Option<Figure> {
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
