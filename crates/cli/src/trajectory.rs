//! The per-checkpoint table of one run (the `run` command), as CSV and JSON.
//!
//! A deep linear network ([`csv`], [`json()`]): time, step, loss, max
//! imbalance `max_l ‖D_l‖_F`, `relerr(W_1ᵀW_1, G_1^{1/L})`,
//! `cosine(W_1ᵀW_1, G_1^{1/L})`, and α̂ by the corr, eig and fit
//! estimators.
//!
//! Any other network ([`mlp_csv`], [`mlp_json`]): time, step, loss,
//! `cosine(W_1ᵀW_1, G_1)` (α = 1), α̂ of layer 1 by corr, eig and fit, then
//! for each hidden layer l = 1..L−1 the UC-NFA `uc_nfa_l` and, after all of
//! them, the C-NFA `c_nfa_l` (Pearson, BMA24). The JSON adds the
//! activation and whether the layers have biases, and holds the per-layer
//! values as arrays `uc_nfa`, `c_nfa`.
//!
//! An undefined value is an empty cell in CSV (so that a numeric column
//! stays numeric for a reader such as pandas, which reads it as NaN) and
//! `null` in JSON, with the reason in the JSON's `undefined` object.

use std::collections::BTreeMap;

use experiment::{CheckpointMeasurement, Experiment, NetworkMeasurement};
use metrics::AlphaEstimator;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const HEADER: &str = "time,step,loss,max_imbalance,relerr,cosine,alpha_corr,alpha_eig,alpha_fit";

fn csv_value(v: &Result<f64, String>) -> String {
    v.as_ref().map_or(String::new(), |x| format!("{x:e}"))
}

/// CSV text of `records` (the header first), quoted by the format's rules.
pub(crate) fn csv_text(records: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::WriterBuilder::new()
        .flexible(false)
        .from_writer(Vec::new());
    for r in records {
        // Writing to memory fails only on rows of different lengths,
        // which every caller builds from one header.
        w.write_record(&r).expect("rows as long as the header");
    }
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

/// A measured value as JSON: the number, or `null` when undefined.
fn defined(v: &Result<f64, String>) -> Option<f64> {
    v.as_ref().ok().copied()
}

/// Why each undefined value is, by column name.
type Undefined = BTreeMap<String, String>;

/// Record why `v` is undefined under `key`, if it is.
fn note(undefined: &mut Undefined, key: String, v: &Result<f64, String>) {
    if let Err(why) = v {
        undefined.insert(key, why.clone());
    }
}

/// The α̂ of every estimator (`None` when undefined), noting why each
/// undefined one is as `alpha_<estimator>`.
fn alphas(
    alpha: &[(AlphaEstimator, Result<f64, String>)],
    undefined: &mut Undefined,
) -> BTreeMap<&'static str, Option<f64>> {
    alpha
        .iter()
        .map(|(est, a)| {
            note(undefined, format!("alpha_{}", est.name()), a);
            (est.name(), defined(a))
        })
        .collect()
}

/// One checkpoint of a deep linear network's trajectory.
#[derive(Serialize)]
struct LinearCheckpoint {
    time: f64,
    step: usize,
    loss: f64,
    max_imbalance: f64,
    relerr: Option<f64>,
    cosine: Option<f64>,
    alpha: BTreeMap<&'static str, Option<f64>>,
    undefined: Undefined,
}

/// A deep linear network's trajectory.
#[derive(Serialize)]
struct LinearTrajectory<'a> {
    name: &'a str,
    widths: &'a [usize],
    convention: &'static str,
    checkpoints: Vec<LinearCheckpoint>,
}

/// One checkpoint of an MLP's trajectory.
#[derive(Serialize)]
struct NetworkCheckpoint {
    time: f64,
    step: usize,
    loss: f64,
    cosine: Option<f64>,
    alpha: BTreeMap<&'static str, Option<f64>>,
    uc_nfa: Vec<Option<f64>>,
    c_nfa: Vec<Option<f64>>,
    undefined: Undefined,
}

/// An MLP's trajectory.
#[derive(Serialize)]
struct NetworkTrajectory<'a> {
    name: &'a str,
    /// `[d_0, …, d_L]` of a fully connected network.
    #[serde(skip_serializing_if = "Option::is_none")]
    widths: Option<&'a [usize]>,
    /// φ of a fully connected network.
    #[serde(skip_serializing_if = "Option::is_none")]
    activation: Option<&'static str>,
    /// The input shape and layers of a sequential network.
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    layers: Option<Vec<String>>,
    biases: bool,
    convention: &'static str,
    checkpoints: Vec<NetworkCheckpoint>,
}

/// As JSON (a struct of numbers, strings and maps always serialises).
fn to_json(v: impl Serialize) -> Value {
    serde_json::to_value(v).expect("a trajectory serialises")
}

/// A trajectory's CSV and JSON, and its ends as a sweep summarises them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryFiles {
    /// The CSV text.
    pub csv: String,
    /// The JSON document.
    pub trajectory: Value,
    /// The first and last checkpoints.
    pub ends: Ends,
}

/// The numbers of a trajectory's first and last checkpoints that a sweep's
/// summary shows (`None`: no checkpoint, or the value is undefined).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ends {
    /// Checkpoints recorded.
    pub checkpoints: usize,
    /// The last checkpoint's step.
    pub steps: Option<usize>,
    /// The last checkpoint's time.
    pub final_time: Option<f64>,
    /// The first checkpoint's loss.
    pub initial_loss: Option<f64>,
    /// The last checkpoint's loss.
    pub final_loss: Option<f64>,
    /// The last checkpoint's NFA cosine.
    pub cosine: Option<f64>,
    /// The last checkpoint's α̂ by `corr`.
    pub alpha_corr: Option<f64>,
}

/// A checkpoint row as [`Ends::of`] reads it: time, step, loss, the NFA
/// cosine of layer 1 and α̂ by estimator.
pub type Row<'a> = (
    f64,
    usize,
    f64,
    &'a Result<f64, String>,
    &'a [(AlphaEstimator, Result<f64, String>)],
);

impl Ends {
    /// The ends of a trajectory's rows, in checkpoint order.
    pub fn of<'a>(rows: impl ExactSizeIterator<Item = Row<'a>> + Clone) -> Self {
        let finite = |v: f64| v.is_finite().then_some(v);
        let defined = |r: &Result<f64, String>| r.as_ref().ok().copied().and_then(finite);
        let (first, last) = (rows.clone().next(), rows.clone().last());
        Ends {
            checkpoints: rows.len(),
            steps: last.map(|r| r.1),
            final_time: last.and_then(|r| finite(r.0)),
            initial_loss: first.and_then(|r| finite(r.2)),
            final_loss: last.and_then(|r| finite(r.2)),
            cosine: last.and_then(|r| defined(r.3)),
            alpha_corr: last.and_then(|r| {
                r.4.iter()
                    .find(|(e, _)| *e == AlphaEstimator::Corr)
                    .and_then(|(_, a)| defined(a))
            }),
        }
    }
}

/// CSV with one row per checkpoint.
pub fn csv(rows: &[CheckpointMeasurement]) -> String {
    let header = HEADER.split(',').map(str::to_owned).collect();
    csv_text(std::iter::once(header).chain(rows.iter().map(|m| {
        let mut cells = vec![
            format!("{:e}", m.time),
            m.step.to_string(),
            format!("{:e}", m.loss),
            format!("{:e}", m.max_imbalance),
            csv_value(&m.relerr),
            csv_value(&m.cosine),
        ];
        cells.extend(m.alpha.iter().map(|(_, a)| csv_value(a)));
        cells
    })))
}

/// JSON: the experiment's name, its widths, and one object per checkpoint.
pub fn json(name: &str, widths: &[usize], rows: &[CheckpointMeasurement]) -> Value {
    let checkpoints = rows
        .iter()
        .map(|m| {
            let mut undefined = Undefined::new();
            let alpha = alphas(&m.alpha, &mut undefined);
            note(&mut undefined, "relerr".into(), &m.relerr);
            note(&mut undefined, "cosine".into(), &m.cosine);
            LinearCheckpoint {
                time: m.time,
                step: m.step,
                loss: m.loss,
                max_imbalance: m.max_imbalance,
                relerr: defined(&m.relerr),
                cosine: defined(&m.cosine),
                alpha,
                undefined,
            }
        })
        .collect();
    to_json(LinearTrajectory {
        name,
        widths,
        convention: "layer 1, α = 1/L; alpha by corr (cosine), eig, fit (relerr_scaled)",
        checkpoints,
    })
}

/// The header of [`mlp_csv`] for `hidden` = L − 1 hidden layers.
fn network_header(hidden: usize) -> Vec<String> {
    let mut header: Vec<String> = [
        "time",
        "step",
        "loss",
        "cosine",
        "alpha_corr",
        "alpha_eig",
        "alpha_fit",
    ]
    .map(str::to_owned)
    .to_vec();
    for kind in ["uc_nfa", "c_nfa"] {
        header.extend((1..=hidden).map(|l| format!("{kind}_{l}")));
    }
    header
}

/// CSV with one row per checkpoint of a network.
pub fn network_csv(rows: &[NetworkMeasurement]) -> String {
    let hidden = rows.first().map_or(0, |m| m.uc_nfa.len());
    csv_text(
        std::iter::once(network_header(hidden)).chain(rows.iter().map(|m| {
            let mut cells = vec![
                format!("{:e}", m.time),
                m.step.to_string(),
                format!("{:e}", m.loss),
                csv_value(&m.cosine),
            ];
            cells.extend(
                m.alpha
                    .iter()
                    .map(|(_, a)| a)
                    .chain(&m.uc_nfa)
                    .chain(&m.c_nfa)
                    .map(csv_value),
            );
            cells
        })),
    )
}

/// JSON of a run of a network: name, its widths and activation (fully
/// connected) or its input shape and layers (sequential), biases,
/// convention, and one object per checkpoint.
pub fn network_json(exp: &Experiment, rows: &[NetworkMeasurement]) -> Value {
    let checkpoints = rows
        .iter()
        .map(|m| {
            let mut undefined = Undefined::new();
            let alpha = alphas(&m.alpha, &mut undefined);
            note(&mut undefined, "cosine".into(), &m.cosine);
            for (kind, values) in [("uc_nfa", &m.uc_nfa), ("c_nfa", &m.c_nfa)] {
                for (l, v) in values.iter().enumerate() {
                    note(&mut undefined, format!("{kind}_{}", l + 1), v);
                }
            }
            NetworkCheckpoint {
                time: m.time,
                step: m.step,
                loss: m.loss,
                cosine: defined(&m.cosine),
                alpha,
                uc_nfa: m.uc_nfa.iter().map(defined).collect(),
                c_nfa: m.c_nfa.iter().map(defined).collect(),
                undefined,
            }
        })
        .collect();
    let layers = exp.layers.as_ref();
    to_json(NetworkTrajectory {
        name: &exp.name,
        widths: layers.is_none().then_some(&exp.widths[..]),
        activation: layers.is_none().then(|| exp.activation.name()),
        input: layers.map(|n| n.input().to_string()),
        layers: layers.map(|n| n.layers().iter().map(ToString::to_string).collect()),
        biases: exp.biases,
        convention: "cosine: layer 1, α = 1; alpha of layer 1 by corr (cosine), eig, fit (relerr_scaled); uc_nfa, c_nfa: weight layers 1..L−1 before the readout (a convolution's flattened filter bank and patch AGOP), pearson (BMA24)",
        checkpoints,
    })
}
