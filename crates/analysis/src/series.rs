//! A network's metrics over training: one [`Point`] per checkpoint or per
//! measured step, as `analyze --weights 'ckpt/*.pt'` and the Python
//! `Tracker` record them, and their three serialisations — the JSON list
//! of records (each the record of [`crate::record`], with its step), a CSV
//! of one row per point and the SVG of the curves (SPEC §4, §6).
//!
//! CSV columns, in the similarity convention of the series (`cosine` by
//! default; SPEC §1.1), for layers l = 1…L: `step`, `checkpoint`, then
//! `nfa_l` = sim(F_l, G_l) at α = 1, `alpha_hat_l` = argmin_α
//! relerr_scaled(F_l, G_l^α), `uc_nfa_l` = sim(W_lᵀK_lW_l, W_lᵀW_l),
//! `c_nfa_l` = sim(ΔW_lᵀK_lΔW_l, ΔW_lᵀΔW_l) (with initial weights), and with
//! labels `ntk_alignment` = mean_c A(Θ_c, y_c), `ntk_centred_alignment`
//! (the same with centred kernels and labels) and `ntk_diagonal_contrast`
//! (SB21's specialisation, 0 when every output shares one kernel). Only
//! the columns of the [`Tracked`] metrics are written. A value that is
//! undefined (a zero ΔW at the initial step, an unidentifiable α) is an
//! empty cell, which pandas reads as NaN.

use metrics::Similarity;
use networks::Sequential;
use serde::Serialize;

use crate::record::{Record, SCHEMA, record_of};
use crate::{Analysis, Exponent, LayerMetrics, NtkMetrics, Value};

/// Which metrics a series records in its CSV and draws (the JSON records
/// hold every metric that was computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracked {
    /// `nfa_l`: the NFA at α = 1.
    pub nfa: bool,
    /// `alpha_hat_l`.
    pub alpha: bool,
    /// `uc_nfa_l`.
    pub uc_nfa: bool,
    /// `c_nfa_l` (needs initial weights).
    pub c_nfa: bool,
    /// The NTK alignments (need labels).
    pub ntk: bool,
}

impl Tracked {
    /// Every metric.
    pub const ALL: Tracked = Tracked {
        nfa: true,
        alpha: true,
        uc_nfa: true,
        c_nfa: true,
        ntk: true,
    };

    /// The metrics named in `names` (`nfa`, `uc_nfa`, `c_nfa`, `alpha`,
    /// `ntk`); an unknown name is an error naming it.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut t = Tracked {
            nfa: false,
            alpha: false,
            uc_nfa: false,
            c_nfa: false,
            ntk: false,
        };
        for name in names {
            match name {
                "nfa" => t.nfa = true,
                "alpha" => t.alpha = true,
                "uc_nfa" => t.uc_nfa = true,
                "c_nfa" => t.c_nfa = true,
                "ntk" => t.ntk = true,
                other => {
                    return Err(format!(
                        "unknown metric `{other}`, expected nfa, uc_nfa, c_nfa, alpha or ntk"
                    ));
                }
            }
        }
        Ok(t)
    }
}

/// The metrics of the network at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The step (an epoch, or the number in a checkpoint's name).
    pub step: f64,
    /// The checkpoint file, when the point was read from one.
    pub checkpoint: Option<String>,
    /// n.
    pub samples: usize,
    /// The layers' metrics, from the input.
    pub layers: Vec<LayerMetrics>,
    /// With labels: the NTK metrics.
    pub ntk: Option<NtkMetrics>,
    /// `(weight, bias)` tensor names per parametrised layer.
    pub tensors: Vec<(String, Option<String>)>,
}

impl Point {
    /// The point of `analysis` at `step` (its matrices are dropped).
    pub fn new(
        step: f64,
        checkpoint: Option<String>,
        analysis: Analysis,
        tensors: Vec<(String, Option<String>)>,
    ) -> Self {
        Point {
            step,
            checkpoint,
            samples: analysis.samples,
            layers: analysis.layers.into_iter().map(|l| l.metrics).collect(),
            ntk: analysis.ntk,
            tensors,
        }
    }

    /// The point's record: `step`, `checkpoint` and the record of
    /// [`crate::record`].
    pub fn record<'a>(&'a self, net: &Sequential) -> PointRecord<'a> {
        PointRecord {
            step: self.step,
            checkpoint: self.checkpoint.as_deref(),
            record: record_of(self.samples, &self.layers, &self.ntk, net, &self.tensors),
        }
    }
}

/// One point as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct PointRecord<'a> {
    /// The step.
    pub step: f64,
    /// The checkpoint file, if any.
    pub checkpoint: Option<&'a str>,
    /// The analysis record.
    #[serde(flatten)]
    pub record: Record<'a>,
}

/// A checkpoint that could not be analysed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// The file.
    pub checkpoint: String,
    /// The one-line error.
    pub error: String,
}

/// The series as JSON: `schema`, `similarity` (the convention of the CSV
/// and the figure), `points` and `skipped`.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesJson<'a> {
    /// [`SCHEMA`].
    pub schema: u64,
    /// The convention of the CSV columns and the figure.
    pub similarity: &'static str,
    /// The points in order.
    pub points: Vec<PointRecord<'a>>,
    /// Checkpoints that could not be analysed.
    pub skipped: &'a [Skipped],
}

/// A network's metrics over training (module docs).
#[derive(Debug, Clone)]
pub struct Series {
    /// The network (its architecture; the weights change from point to
    /// point).
    pub net: Sequential,
    /// The convention of the CSV and the figure.
    pub similarity: Similarity,
    /// What the CSV and the figure show.
    pub tracked: Tracked,
    /// The points in order.
    pub points: Vec<Point>,
    /// Checkpoints that could not be analysed.
    pub skipped: Vec<Skipped>,
}

/// A value for the CSV and the curves: `None` when undefined or absent.
fn number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::number)
}

/// A per-layer column of the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LayerColumn {
    Nfa,
    AlphaHat,
    UcNfa,
    CNfa,
}

/// A column of the whole network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NtkColumn {
    Alignment,
    CentredAlignment,
    DiagonalContrast,
}

impl LayerColumn {
    fn name(self) -> &'static str {
        match self {
            LayerColumn::Nfa => "nfa",
            LayerColumn::AlphaHat => "alpha_hat",
            LayerColumn::UcNfa => "uc_nfa",
            LayerColumn::CNfa => "c_nfa",
        }
    }

    fn of(self, m: &LayerMetrics, kind: Similarity) -> Option<f64> {
        match self {
            LayerColumn::Nfa => number(m.nfa(kind, Exponent::One)),
            LayerColumn::AlphaHat => m.alpha_hat.alpha(),
            LayerColumn::UcNfa => number(m.uc_nfa(kind)),
            LayerColumn::CNfa => number(m.c_nfa(kind)),
        }
    }
}

impl NtkColumn {
    fn name(self) -> &'static str {
        match self {
            NtkColumn::Alignment => "ntk_alignment",
            NtkColumn::CentredAlignment => "ntk_centred_alignment",
            NtkColumn::DiagonalContrast => "ntk_diagonal_contrast",
        }
    }

    fn of(self, ntk: &NtkMetrics) -> Option<f64> {
        match self {
            NtkColumn::Alignment => ntk.mean_alignment(),
            NtkColumn::CentredAlignment => ntk.mean_centred_alignment(),
            NtkColumn::DiagonalContrast => number(ntk.diagonal_contrast.as_ref()),
        }
    }
}

impl Series {
    /// An empty series of `net`.
    pub fn new(net: Sequential, similarity: Similarity, tracked: Tracked) -> Self {
        Series {
            net,
            similarity,
            tracked,
            points: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// The number of parametrised layers.
    fn depth(&self) -> usize {
        self.net.weight_layers().count()
    }

    /// The per-layer columns written: the tracked ones that some point has.
    fn layer_columns(&self) -> Vec<LayerColumn> {
        let t = self.tracked;
        let has_init = self
            .points
            .iter()
            .any(|p| p.layers.iter().any(|l| l.c_nfa.is_some()));
        [
            (LayerColumn::Nfa, t.nfa),
            (LayerColumn::AlphaHat, t.alpha),
            (LayerColumn::UcNfa, t.uc_nfa),
            (LayerColumn::CNfa, t.c_nfa && has_init),
        ]
        .into_iter()
        .filter_map(|(c, on)| on.then_some(c))
        .collect()
    }

    /// The NTK columns written: all three when tracked and some point has
    /// labels.
    fn ntk_columns(&self) -> Vec<NtkColumn> {
        if self.tracked.ntk && self.points.iter().any(|p| p.ntk.is_some()) {
            vec![
                NtkColumn::Alignment,
                NtkColumn::CentredAlignment,
                NtkColumn::DiagonalContrast,
            ]
        } else {
            Vec::new()
        }
    }

    /// The series as JSON (see [`SeriesJson`]).
    pub fn json(&self) -> SeriesJson<'_> {
        SeriesJson {
            schema: SCHEMA,
            similarity: self.similarity.name(),
            points: self.points.iter().map(|p| p.record(&self.net)).collect(),
            skipped: &self.skipped,
        }
    }

    /// The CSV (module docs) into `out`.
    pub fn write_csv<W: std::io::Write>(&self, out: W) -> Result<(), csv::Error> {
        let mut w = csv::Writer::from_writer(out);
        let (layers, ntk) = (self.layer_columns(), self.ntk_columns());
        let depth = self.depth();
        let mut header = vec!["step".to_owned(), "checkpoint".to_owned()];
        for c in &layers {
            header.extend((1..=depth).map(|l| format!("{}_{l}", c.name())));
        }
        header.extend(ntk.iter().map(|c| c.name().to_owned()));
        w.write_record(&header)?;
        let cell = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        for p in &self.points {
            let mut row = vec![p.step.to_string(), p.checkpoint.clone().unwrap_or_default()];
            for c in &layers {
                row.extend(
                    (0..depth)
                        .map(|l| cell(p.layers.get(l).and_then(|m| c.of(m, self.similarity)))),
                );
            }
            row.extend(
                ntk.iter()
                    .map(|c| cell(p.ntk.as_ref().and_then(|n| c.of(n)))),
            );
            w.write_record(&row)?;
        }
        w.flush()?;
        Ok(())
    }

    /// The curves: UC-NFA (solid) and C-NFA (dashed) per layer in one
    /// panel (the NFA at α = 1 in its own panel when the UC-NFA is not
    /// tracked), α̂ per layer, and the NTK–target alignments.
    pub fn figure(&self) -> figure::TimeSeriesPlot {
        use figure::{Axis, Panel, Series as Line, SeriesLabelPosition, Style};
        let kind = self.similarity;
        let steps: Vec<f64> = self.points.iter().map(|p| p.step).collect();
        let layer_lines =
            |c: LayerColumn, style: Style, label: &dyn Fn(usize) -> String| -> Vec<Line> {
                (0..self.depth())
                    .map(|l| {
                        let y = self
                            .points
                            .iter()
                            .map(|p| {
                                p.layers
                                    .get(l)
                                    .and_then(|m| c.of(m, kind))
                                    .unwrap_or(f64::NAN)
                            })
                            .collect();
                        Line::new(label(l), steps.clone(), y, l).style(style)
                    })
                    .collect()
            };
        let layer = |l: usize| format!("layer {}", l + 1);
        let columns = self.layer_columns();
        let mut panels = Vec::new();
        // In the scale-free conventions sim(F_l, G_l) at α = 1 equals the
        // UC-NFA (W_lᵀK_lW_l = n·G_l), so it has its own panel only when
        // the UC-NFA is not drawn.
        if columns.contains(&LayerColumn::Nfa) && !columns.contains(&LayerColumn::UcNfa) {
            panels.push(Panel::new(
                Axis::linear(format!("NFA {kind}(F_l, G_l)")),
                layer_lines(LayerColumn::Nfa, Style::LineMarkers, &layer),
            ));
        }
        let (uc, c) = (
            columns.contains(&LayerColumn::UcNfa),
            columns.contains(&LayerColumn::CNfa),
        );
        if uc || c {
            let mut lines = Vec::new();
            if uc {
                lines.extend(layer_lines(LayerColumn::UcNfa, Style::LineMarkers, &layer));
            }
            if c {
                // Dashed in the colour of its layer: no legend entry of
                // its own when the UC-NFA's solid line names the layer.
                let name = |l: usize| if uc { String::new() } else { layer(l) };
                lines.extend(layer_lines(LayerColumn::CNfa, Style::Dashed, &name));
            }
            let label = match (uc, c) {
                (true, true) => format!("UC-NFA (solid), C-NFA (dashed), {kind}"),
                (true, false) => format!("UC-NFA, {kind}"),
                _ => format!("C-NFA, {kind}"),
            };
            panels.push(
                Panel::new(Axis::linear(label), lines).legend(SeriesLabelPosition::LowerRight),
            );
        }
        if columns.contains(&LayerColumn::AlphaHat) {
            panels.push(Panel::new(
                Axis::linear("α̂ = argmin_α relerr_scaled(F_l, G_l^α)"),
                layer_lines(LayerColumn::AlphaHat, Style::LineMarkers, &layer),
            ));
        }
        let ntk = self.ntk_columns();
        if !ntk.is_empty() {
            let line = |c: NtkColumn, name: &str, colour: usize| {
                let y = self
                    .points
                    .iter()
                    .map(|p| p.ntk.as_ref().and_then(|n| c.of(n)).unwrap_or(f64::NAN))
                    .collect();
                Line::new(name, steps.clone(), y, colour).style(Style::LineMarkers)
            };
            panels.push(
                Panel::new(
                    Axis::linear("NTK–target alignment, mean over outputs c"),
                    vec![
                        line(NtkColumn::Alignment, "A(Θ_c, y_c)", 0),
                        line(NtkColumn::CentredAlignment, "centred A(Θ_c, y_c)", 1),
                    ],
                )
                .legend(SeriesLabelPosition::LowerRight),
            );
        }
        figure::TimeSeriesPlot {
            title: format!(
                "Feature learning over training: {} points, {} samples",
                self.points.len(),
                self.points.first().map_or(0, |p| p.samples)
            ),
            x: Axis::linear("step"),
            panels,
        }
    }

    /// The SVG of [`Series::figure`].
    pub fn svg(&self) -> Result<String, figure::PlotError> {
        figure::time_series_svg(&self.figure())
    }
}
