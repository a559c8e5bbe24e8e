//! ABP22's figures: silent alignment of the deep linear network's NTK,
//! and ABP22's first figure (two-layer ReLU network) on digits.

use figure::{
    Axis, Declared, Figure, Missing, Panel, Plot, Series, SeriesLabelPosition, Style,
    TimeSeriesPlot,
};

use crate::figure_input::{mean_with_band, param, points};
use crate::{ClaimResult, Details};

/// (e) Kernel–target alignment and loss against log time: the whitened run
/// with the two times of the ordering, and the alignment over the γ sweep;
/// or why it cannot be drawn.
pub(crate) fn silent_alignment(claims: &[ClaimResult]) -> Declared {
    draw_silent_alignment(claims).ok_or_else(|| {
        Missing::new(
            "abp22_silent_alignment.svg",
            "no silent_timing row at γ = 0 with loss and alignment series and t_align, t_loss",
        )
    })
}

fn draw_silent_alignment(results: &[ClaimResult]) -> Option<Figure> {
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
    Some(Figure {
        file: "abp22_silent_alignment.svg".into(),
        caption: "Top: loss (left axis) and kernel–target alignment `A(K, y) = yᵀKy / (‖K‖_F‖y‖²)` of the empirical NTK (right axis) \
                  of a deep linear network trained by gradient flow from a small init on whitened inputs; the dashed lines mark the first checkpoints \
                  where the alignment reaches 90% of its final value and where the loss has fallen by 10% (silent alignment: the first comes first). \
                  Bottom: the alignment for anisotropic inputs `X_γ = U S^γ Vᵀ`; γ = 0 is the whitened run."
            .into(),
        plot: Plot::Lines(plot),
    })
}

/// (e′) ABP22's first figure on digits: loss and normalised kernel scale
/// (top), uncentred and centred kernel–target alignment (bottom) of the
/// two-layer ReLU network, means over seeds with 95 % intervals, and the
/// two times of the ordering; or why it cannot be drawn.
pub(crate) fn relu_silent_alignment(claims: &[ClaimResult]) -> Declared {
    draw_relu_silent_alignment(claims).ok_or_else(|| {
        Missing::new(
            "abp22_relu_silent_alignment.svg",
            "no relu_silent_alignment row with its mean series and times",
        )
    })
}

fn draw_relu_silent_alignment(results: &[ClaimResult]) -> Option<Figure> {
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
    Some(Figure {
        file: "abp22_relu_silent_alignment.svg".into(),
        caption: format!(
            "ABP22's first figure on the 8×8 digits 0 and 1 ({data}; the paper uses MNIST): a bias-free two-layer ReLU network of width {width} \
             trained by full-batch GD from a small init on inputs whitened on the training rows. Top: loss (left axis) and kernel scale \
             `‖K_t‖_F/‖K_T‖_F` of the empirical NTK on the training rows (right axis); bottom: its uncentred and centred kernel–target alignment. \
             Lines are means over {seeds} seeds, bands their 95 % Student t intervals; the dashed lines mark the geometric means over seeds of \
             t_align (the alignment has made 90% of its final gain) and t_loss (the loss has fallen 10%): the kernel aligns while its scale and \
             the loss are still at their initial values (`relu_silent_alignment`)."
        ),
        plot: Plot::Lines(plot),
    })
}
