//! Per-layer feature-learning metrics of a given network on given data —
//! the computation behind `cargo xtask analyze`, in the conventions of the
//! `metrics` and `networks` crates (SPEC §1, BMA24, SB21). Nothing here changes
//! the network it measures: every input is borrowed immutably.
//!
//! The network is a [`Sequential`] one: fully connected (the fast path of
//! `networks`, used whenever the network has that form) or with
//! convolutions and pooling (SPEC §9). For parametrised layer l (from 1 at
//! the input) with weight `W_l` (d_l × d_{l−1}; for a convolution the
//! `k_out × k_in·h·w` matrix of its flattened filters, whose inputs are
//! patches), on n samples and C outputs:
//!
//! * **NFM** `F_l = W_lᵀW_l` (d_{l−1} × d_{l−1});
//! * **AGOP** `G_l = (1/n) Σ_i Σ_c ∇_{a_{l−1}} f_c(x_i) ∇_{a_{l−1}} f_c(x_i)ᵀ`
//!   (mean over samples, sum over outputs; for a convolution also summed
//!   over positions, the gradient taken with respect to each patch alone),
//!   computed twice: by the chain rule `G_l = W_lᵀK_lW_l/n` (the reported
//!   one) and from per-sample input (patch) gradients; their agreement is
//!   `relerr(chain, input-gradient)`;
//! * **PTK** `K_l = Σ_i Σ_c ∇_{h_l} f_c(x_i) ∇_{h_l} f_c(x_i)ᵀ` (d_l × d_l,
//!   summed over samples and outputs, as BMA24's code; for a convolution
//!   also over positions, k_out × k_out);
//! * **NFA** `sim(F_l, G_l^α)` in every [`Similarity`] convention at
//!   α = 1, α = 1/2, the fitted α̂ (`argmin_α relerr_scaled(F_l, G_l^α)`,
//!   or *unidentifiable* when G_l has one distinct non-zero eigenvalue) and
//!   optionally a given α; `G^α` clips eigenvalues below `d·ε_mach·λ_max`;
//! * **UC-NFA** `sim(W_lᵀK_lW_l, W_lᵀW_l)` and, given initial weights
//!   `W_l(0)`, **C-NFA** `sim(ΔW_lᵀK_lΔW_l, ΔW_lᵀΔW_l)`, `ΔW_l = W_l − W_l(0)`,
//!   in every convention;
//! * optionally, the NFA against RBPB22's **gradient-centred AGOP**
//!   `G_l^c = (1/n) Σ_i Σ_c (q_ic − q̄_c)(q_ic − q̄_c)ᵀ`, the input (patch)
//!   gradients centred over samples before their Gram
//!   ([`networks::sequential::tangents::centred_agop`]); undefined when it
//!   is zero (at most 1e-14 of `G_l`: a linear network, a readout layer).
//!
//! Of the whole network, with labels `Y` (n × C): the per-output empirical
//! NTK `Θ_c` (n × n) through its statistics ([`ntk::statistics`], tiles of
//! samples, never an n × n matrix): `‖Θ_c‖_F`, the kernel–target alignment
//! with its own label column `A(Θ_c, y_c) = y_cᵀΘ_c y_c / (‖Θ_c‖_F ‖y_c‖²)`,
//! uncentred and centred, SB21's specialisation matrix
//! `S_{cc'} = A(Θ_c, y_{c'})` and the kernel–kernel alignments
//! `A(Θ_c, Θ_c')`. Their memory is bounded by [`Options::memory`]: a
//! budget too small for the smallest tiling is refused before any work.
//! A network with convolutions or pooling has them from its per-sample
//! parameter gradients ([`ntk::Model::Sequential`], SPEC §9).
//!
//! Note that `K_L = n·I_C` for the output layer, so `G_L = F_L` and the last
//! layer's NFA at α = 1 is exact by construction.
//!
//! A value without meaning (a zero matrix in a denominator, α not
//! identifiable) is a [`Value::Undefined`] with its reason, never NaN.
//! [`record`] turns an analysis into the JSON record that the command line
//! writes and the Python package returns; [`series`] holds the metrics of
//! one network over training, with their CSV and figure.
#![warn(missing_docs)]

pub mod record;
pub mod series;

use faer::{Mat, MatRef};
use metrics::{AlphaEstimate, AlphaScan, Cutoff, MetricError, Similarity, similarity};
use networks::ptk_nfa::{c_pair, uc_pair};
use networks::sequential::tangents::{
    centred_agop as sequential_tangents_centred, sequential_tangents,
};
use networks::{Layer, Sequential};
use rayon::prelude::*;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// Samples per block of the PTK/AGOP accumulation (bounds memory
/// independently of n; blocks run in parallel).
pub const DEFAULT_BLOCK: usize = 128;

/// A metric's value, or why it has none.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// The value.
    Number(f64),
    /// Why the metric is undefined for these inputs.
    Undefined(String),
}

impl Value {
    /// The number, if defined.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Number(v) => Some(*v),
            Value::Undefined(_) => None,
        }
    }
}

/// Serialised as the number, or as `{"undefined": reason}`.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Number(v) => s.serialize_f64(*v),
            Value::Undefined(reason) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("undefined", reason)?;
                m.end()
            }
        }
    }
}

/// A metric's result as a [`Value`]: undefined outcomes become values with
/// their reason; any other error (bad input) stays an error.
fn value(r: Result<f64, MetricError>) -> Result<Value, AnalysisError> {
    match r {
        Ok(v) => Ok(Value::Number(v)),
        Err(MetricError::Undefined(u)) => Ok(Value::Undefined(u.to_string())),
        Err(e) => Err(AnalysisError::Metric(e)),
    }
}

/// The exponents at which the NFA similarity is reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Exponent {
    /// α = 1.
    One,
    /// α = 1/2.
    Half,
    /// The fitted α̂.
    Fitted,
    /// A given α.
    Given(f64),
}

impl Exponent {
    /// Label in reports: `1`, `1/2`, `alpha_hat`, or the given number.
    pub fn label(self) -> String {
        match self {
            Exponent::One => "1".into(),
            Exponent::Half => "1/2".into(),
            Exponent::Fitted => "alpha_hat".into(),
            Exponent::Given(a) => a.to_string(),
        }
    }
}

/// The fitted exponent of a layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlphaHat {
    /// `α̂ = argmin_α relerr_scaled(F, G^α)` on [0.02, 2], with the
    /// minimum.
    Identified {
        /// α̂.
        alpha: f64,
        /// `relerr_scaled(F, G^α̂)`.
        relerr_scaled: f64,
    },
    /// No α can be identified (or the AGOP is zero); the reason.
    Undefined(String),
}

impl AlphaHat {
    /// α̂, if identified.
    pub fn alpha(&self) -> Option<f64> {
        match self {
            AlphaHat::Identified { alpha, .. } => Some(*alpha),
            AlphaHat::Undefined(_) => None,
        }
    }
}

/// One NFA similarity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NfaValue {
    /// Convention (`cosine`, `pearson`, `relerr`, `relerr_scaled`).
    pub similarity: &'static str,
    /// Exponent label (`1`, `1/2`, `alpha_hat`, or a given number).
    pub alpha: String,
    /// The exponent used, when there is one.
    pub exponent: Option<f64>,
    /// `sim(F, G^α)`.
    pub value: Value,
}

/// A similarity in one convention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Named {
    /// Convention.
    pub similarity: &'static str,
    /// The value.
    pub value: Value,
}

/// The scalar metrics of one layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerMetrics {
    /// l, from 1 at the input (counting parametrised layers).
    pub layer: usize,
    /// `linear` or `conv2d`.
    pub kind: &'static str,
    /// d_{l−1} (for a convolution, the patch length k_in·h·w).
    pub inputs: usize,
    /// d_l (for a convolution, k_out).
    pub outputs: usize,
    /// `relerr(G_chain, G_input)` of the two AGOP computations.
    pub agop_agreement: Value,
    /// The fitted exponent.
    pub alpha_hat: AlphaHat,
    /// `sim(F, G^α)` for every convention and exponent.
    pub nfa: Vec<NfaValue>,
    /// `sim(WᵀKW, WᵀW)` in every convention.
    pub uc_nfa: Vec<Named>,
    /// `sim(ΔWᵀKΔW, ΔWᵀΔW)` in every convention, given initial weights.
    pub c_nfa: Option<Vec<Named>>,
    /// With [`Options::centred_agop`]: `sim(F, G_c^α)` against RBPB22's
    /// gradient-centred AGOP `G_c` for every convention at α = 1, 1/2 and
    /// a given α.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centred_nfa: Option<Vec<NfaValue>>,
}

impl LayerMetrics {
    /// The NFA similarity in convention `kind` at `exponent`.
    pub fn nfa(&self, kind: Similarity, exponent: Exponent) -> Option<&Value> {
        let label = exponent.label();
        self.nfa
            .iter()
            .find(|v| v.similarity == kind.name() && v.alpha == label)
            .map(|v| &v.value)
    }

    /// The NFA against the gradient-centred AGOP in convention `kind` at
    /// `exponent`, when asked for.
    pub fn centred_nfa(&self, kind: Similarity, exponent: Exponent) -> Option<&Value> {
        let label = exponent.label();
        self.centred_nfa
            .as_deref()?
            .iter()
            .find(|v| v.similarity == kind.name() && v.alpha == label)
            .map(|v| &v.value)
    }

    /// UC-NFA in convention `kind`.
    pub fn uc_nfa(&self, kind: Similarity) -> Option<&Value> {
        find(&self.uc_nfa, kind)
    }

    /// C-NFA in convention `kind`, given initial weights.
    pub fn c_nfa(&self, kind: Similarity) -> Option<&Value> {
        self.c_nfa.as_deref().and_then(|v| find(v, kind))
    }
}

fn find(values: &[Named], kind: Similarity) -> Option<&Value> {
    values
        .iter()
        .find(|v| v.similarity == kind.name())
        .map(|v| &v.value)
}

/// The matrices of one layer.
#[derive(Debug, Clone)]
pub struct LayerMatrices {
    /// `F_l = W_lᵀW_l`.
    pub nfm: Mat<f64>,
    /// `G_l = W_lᵀK_lW_l/n` (chain rule).
    pub agop: Mat<f64>,
    /// `G_l` from per-sample input gradients.
    pub agop_input: Mat<f64>,
    /// `K_l`.
    pub ptk: Mat<f64>,
    /// RBPB22's gradient-centred AGOP, when asked for.
    pub centred_agop: Option<Mat<f64>>,
}

/// One layer's matrices and metrics.
#[derive(Debug, Clone)]
pub struct LayerAnalysis {
    /// The matrices.
    pub matrices: LayerMatrices,
    /// The metrics.
    pub metrics: LayerMetrics,
}

/// A matrix of values, or why it is undefined.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatrixValue {
    /// Rows of the matrix.
    Matrix(Vec<Vec<f64>>),
    /// Why it is undefined.
    Undefined(String),
}

/// NTK metrics of the network against its labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NtkMetrics {
    /// `A(Θ_c, y_c)` per output c (uncentred).
    pub alignment: Vec<Value>,
    /// `A(HΘ_cH, Hy_c)` per output c (centred).
    pub centered_alignment: Vec<Value>,
    /// `S_{cc'} = A(Θ_c, y_{c'})`, row c, column c'.
    pub specialisation: MatrixValue,
    /// `min_c (S_cc − max_{c'≠c} S_cc')`, when C ≥ 2 (an extreme over rows:
    /// negative for kernels that share everything but a scale).
    pub diagonal_excess: Option<Value>,
    /// `mean_c S_cc − mean_{c≠c'} S_cc'`, when C ≥ 2: 0 when the outputs
    /// share one kernel up to scale (SPEC §8).
    pub diagonal_contrast: Option<Value>,
    /// `‖Θ_c‖_F` per output c.
    pub kernel_norm: Vec<f64>,
    /// `A(Θ_c, Θ_c') = ⟨Θ_c, Θ_c'⟩_F / (‖Θ_c‖_F ‖Θ_c'‖_F)`, row c, column c'.
    pub kernel_alignment: MatrixValue,
}

impl NtkMetrics {
    /// `mean_c A(Θ_c, y_c)`, `None` if an output's alignment is undefined.
    pub fn mean_alignment(&self) -> Option<f64> {
        mean(&self.alignment)
    }

    /// `mean_c A(HΘ_cH, Hy_c)`, `None` if an output's alignment is
    /// undefined.
    pub fn mean_centred_alignment(&self) -> Option<f64> {
        mean(&self.centered_alignment)
    }
}

/// The mean of per-output values, `None` if any is undefined (or there
/// are none).
fn mean(values: &[Value]) -> Option<f64> {
    let v: Option<Vec<f64>> = values.iter().map(Value::number).collect();
    let v = v?;
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The analysis of a network on a data set.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// n.
    pub samples: usize,
    /// Layers from the input.
    pub layers: Vec<LayerAnalysis>,
    /// With labels: the NTK metrics.
    pub ntk: Option<NtkMetrics>,
}

/// What to analyse.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The network.
    pub net: &'a Sequential,
    /// Parameters in `networks`'s order (the weights `[W_1..W_L]`, then the
    /// biases of the layers that have one).
    pub params: &'a [Mat<f64>],
    /// Initial weights `[W_1(0)..W_L(0)]` (biases are not needed), for
    /// C-NFA.
    pub init: Option<&'a [Mat<f64>]>,
    /// Inputs, n × d_0 (an image as its NCHW row).
    pub x: MatRef<'a, f64>,
    /// Labels, n × C, for the NTK metrics.
    pub y: Option<MatRef<'a, f64>>,
}

/// Options of the analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// An exponent to report besides 1, 1/2 and α̂.
    pub alpha: Option<f64>,
    /// Samples per block of the PTK/AGOP accumulation.
    pub block: usize,
    /// Memory budget of the NTK statistics in bytes (`None`: unbounded),
    /// which picks their panel size ([`ntk::Blocking::for_budget`]).
    pub memory: Option<u64>,
    /// Also the NFA against RBPB22's gradient-centred AGOP (two more
    /// passes over the samples).
    pub centred_agop: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            alpha: None,
            block: DEFAULT_BLOCK,
            memory: None,
            centred_agop: false,
        }
    }
}

/// The default budget where `/proc/meminfo` cannot be read.
const FALLBACK_BUDGET: u64 = 4_000_000_000;

/// The memory budget when none is given: half of the memory available now
/// (`MemAvailable` of `/proc/meminfo`), or 4 GB where that cannot be read.
pub fn default_memory_budget() -> u64 {
    available_memory().map_or(FALLBACK_BUDGET, |b| b / 2)
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Inputs that cannot be analysed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    /// The parameters or data do not fit the architecture.
    #[error(transparent)]
    Network(#[from] networks::NetworkError),
    /// The NTK computation failed.
    #[error(transparent)]
    Ntk(#[from] ntk::NtkError),
    /// A metric's input was invalid.
    #[error(transparent)]
    Metric(#[from] MetricError),
    /// The initial parameters or the options do not fit.
    #[error("{0}")]
    Invalid(String),
}

/// Analyse a network (module docs). Never modifies its inputs.
pub fn analyse(inputs: Inputs<'_>, options: &Options) -> Result<Analysis, AnalysisError> {
    analyse_with_progress(inputs, options, &mut |_, _| {})
}

/// [`analyse`], reporting the progress of the NTK pass (the long one, n²
/// in the samples) as `progress(tile pairs done, total)`.
pub fn analyse_with_progress(
    inputs: Inputs<'_>,
    options: &Options,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Analysis, AnalysisError> {
    let Inputs {
        net,
        params,
        init,
        x,
        y,
    } = inputs;
    net.check(params)?;
    net.check_data(x)?;
    let mlp = net.as_mlp();
    if let Some(w0) = init {
        check_init(net, params, w0)?;
    }
    if let Some(a) = options.alpha
        && !(a.is_finite() && a >= 0.0)
    {
        return Err(AnalysisError::Invalid(format!(
            "alpha = {a}: expected a finite exponent ≥ 0"
        )));
    }
    // The NTK tiling comes first, so that a budget too small for it is
    // refused before any work.
    let model = match &mlp {
        Some(arch) => ntk::Model::Mlp(arch),
        None => ntk::Model::Sequential(net),
    };
    let blocking = match y {
        None => None,
        Some(y) => {
            check_labels(net, x, y)?;
            let tile = ntk::statistics::DEFAULT_TILE;
            let threads = rayon::current_num_threads();
            let blocking = |budget| {
                ntk::Blocking::for_budget_of(tile, model, x.nrows(), y.ncols(), threads, budget)
            };
            Some(match (options.memory, model) {
                (Some(budget), _) => blocking(budget)?,
                (None, ntk::Model::Mlp(_)) => ntk::Blocking::default(),
                (None, ntk::Model::Sequential(_)) => blocking(default_memory_budget())?,
            })
        }
    };
    let (ptk, agop, agop_input) = match &mlp {
        Some(arch) => {
            let t = networks::tangents(arch, params, x, options.block)?;
            let input = networks::agop_from_input_gradients(arch, params, x, options.block)?;
            (t.ptk, t.agop, input)
        }
        None => {
            let t = sequential_tangents(net, params, x, options.block)?;
            (t.ptk, t.agop, t.agop_input)
        }
    };
    let centred = if options.centred_agop {
        sequential_tangents_centred(net, params, x, options.block)?
    } else {
        Vec::new()
    };
    let mut centred = centred.into_iter();
    let kinds: Vec<&'static str> = net
        .weight_layers()
        .map(|k| kind(&net.layers()[k]))
        .collect();
    let matrices: Vec<LayerMatrices> = agop_input
        .into_iter()
        .zip(ptk.into_iter().zip(agop))
        .zip(params)
        .map(|((g_input, (k, g)), w)| LayerMatrices {
            nfm: metrics::nfm(w.as_ref()),
            agop: g,
            agop_input: g_input,
            ptk: k,
            centred_agop: centred.next(),
        })
        .collect();
    // The layers' metrics are independent of each other: one task per
    // layer, each computed as it would be alone (same bits on any number
    // of threads).
    let layers = matrices
        .into_par_iter()
        .zip(kinds)
        .enumerate()
        .map(|(l, (matrices, kind))| {
            let metrics = layer_metrics(
                (l + 1, kind),
                params[l].as_ref(),
                init.map(|p| p[l].as_ref()),
                &matrices,
                options,
            )?;
            Ok(LayerAnalysis { matrices, metrics })
        })
        .collect::<Result<Vec<_>, AnalysisError>>()?;
    let ntk = match (y, blocking) {
        (Some(y), Some(blocking)) => Some(ntk_metrics(model, params, x, y, blocking, progress)?),
        _ => None,
    };
    Ok(Analysis {
        samples: x.nrows(),
        layers,
        ntk,
    })
}

/// The kind of a parametrised layer, as records name it.
fn kind(layer: &Layer) -> &'static str {
    match layer {
        Layer::Conv2d(_) => "conv2d",
        _ => "linear",
    }
}

/// The initial weights have the shapes of the weights.
fn check_init(net: &Sequential, params: &[Mat<f64>], w0: &[Mat<f64>]) -> Result<(), AnalysisError> {
    let depth = net.weight_layers().count();
    if w0.len() != depth {
        return Err(AnalysisError::Invalid(format!(
            "{} initial weight matrices for {depth} layers",
            w0.len(),
        )));
    }
    for (l, (w, w0)) in params.iter().zip(w0).enumerate() {
        if (w.nrows(), w.ncols()) != (w0.nrows(), w0.ncols()) {
            return Err(AnalysisError::Invalid(format!(
                "initial W_{} is {}×{}, W_{} is {}×{}",
                l + 1,
                w0.nrows(),
                w0.ncols(),
                l + 1,
                w.nrows(),
                w.ncols()
            )));
        }
    }
    Ok(())
}

fn layer_metrics(
    (layer, kind): (usize, &'static str),
    w: MatRef<'_, f64>,
    w0: Option<MatRef<'_, f64>>,
    m: &LayerMatrices,
    options: &Options,
) -> Result<LayerMetrics, AnalysisError> {
    let (f, g, k) = (m.nfm.as_ref(), m.agop.as_ref(), m.ptk.as_ref());
    let agop_agreement = value(similarity(Similarity::RelErr, g, m.agop_input.as_ref()))?;
    // One eigendecomposition of G serves α̂ and every similarity below
    // (the default options' cutoff is `Cutoff::for_dim`).
    let alpha_options = metrics::alpha::AlphaOptions::default();
    let scan = AlphaScan::new(f, g, Cutoff::for_dim(g.nrows()));
    let fitted = match &scan {
        Ok(scan) => scan.fit(&alpha_options),
        Err(e) => Err(e.clone()),
    };
    let alpha_hat = match fitted {
        Ok(AlphaEstimate::Identified { alpha, objective }) => AlphaHat::Identified {
            alpha,
            relerr_scaled: objective,
        },
        Ok(AlphaEstimate::Unidentifiable(u)) => AlphaHat::Undefined(u.to_string()),
        Err(MetricError::Undefined(u)) => AlphaHat::Undefined(format!("undefined: {u}")),
        Err(e) => return Err(e.into()),
    };
    let scan = scan?;
    let mut exponents = vec![Exponent::One, Exponent::Half, Exponent::Fitted];
    exponents.extend(options.alpha.map(Exponent::Given));
    let mut nfa = Vec::new();
    for kind in Similarity::ALL {
        for &e in &exponents {
            let exponent = match e {
                Exponent::One => Some(1.0),
                Exponent::Half => Some(0.5),
                Exponent::Fitted => alpha_hat.alpha(),
                Exponent::Given(a) => Some(a),
            };
            let v = match (exponent, &alpha_hat) {
                (Some(a), _) => value(scan.similarity(kind, a))?,
                (None, AlphaHat::Undefined(reason)) => Value::Undefined(reason.clone()),
                (None, AlphaHat::Identified { alpha, .. }) => value(scan.similarity(kind, *alpha))?,
            };
            nfa.push(NfaValue {
                similarity: kind.name(),
                alpha: e.label(),
                exponent,
                value: v,
            });
        }
    }
    let per_convention = |f: &dyn Fn(Similarity) -> Result<f64, MetricError>| {
        Similarity::ALL
            .into_iter()
            .map(|kind| {
                Ok(Named {
                    similarity: kind.name(),
                    value: value(f(kind))?,
                })
            })
            .collect::<Result<Vec<_>, AnalysisError>>()
    };
    let centred_nfa = match &m.centred_agop {
        Some(gc) => Some(centred_nfa(f, g, gc.as_ref(), options)?),
        None => None,
    };
    // Each pair of matrices once, compared in every convention.
    let (a, b) = uc_pair(w, k);
    let uc = per_convention(&|kind| similarity(kind, a.as_ref(), b.as_ref()))?;
    let c = match w0 {
        Some(w0) => {
            let (a, b) = c_pair(w, w0, k);
            Some(per_convention(&|kind| {
                similarity(kind, a.as_ref(), b.as_ref())
            })?)
        }
        None => None,
    };
    Ok(LayerMetrics {
        layer,
        kind,
        inputs: w.ncols(),
        outputs: w.nrows(),
        agop_agreement,
        alpha_hat,
        nfa,
        uc_nfa: uc,
        c_nfa: c,
        centred_nfa,
    })
}

/// Below this fraction of the AGOP's norm, the gradient-centred AGOP is
/// zero up to the rounding of the mean gradients (SPEC §1.1).
const CENTRED_ZERO: f64 = 1e-14;

/// `sim(F, G_c^α)` for every convention at α = 1, 1/2 and a given α, or
/// undefined when `G_c` is zero relative to `G` (the input gradients do not
/// vary with the sample: a linear network, or a readout layer).
fn centred_nfa(
    f: MatRef<'_, f64>,
    g: MatRef<'_, f64>,
    gc: MatRef<'_, f64>,
    options: &Options,
) -> Result<Vec<NfaValue>, AnalysisError> {
    let mut exponents = vec![Exponent::One, Exponent::Half];
    exponents.extend(options.alpha.map(Exponent::Given));
    let zero = gc.norm_l2() <= CENTRED_ZERO * g.norm_l2();
    let scan = if zero {
        None
    } else {
        Some(AlphaScan::new(f, gc, Cutoff::for_dim(gc.nrows()))?)
    };
    let mut out = Vec::new();
    for kind in Similarity::ALL {
        for &e in &exponents {
            let exponent = match e {
                Exponent::Half => 0.5,
                Exponent::Given(a) => a,
                _ => 1.0,
            };
            let value = match &scan {
                Some(scan) => value(scan.similarity(kind, exponent))?,
                None => Value::Undefined(
                    "the gradient-centred AGOP is zero (at most 1e-14 of the AGOP): the input gradients do not vary with the sample".into(),
                ),
            };
            out.push(NfaValue {
                similarity: kind.name(),
                alpha: e.label(),
                exponent: Some(exponent),
                value,
            });
        }
    }
    Ok(out)
}

/// The labels are n × C.
fn check_labels(
    net: &Sequential,
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
) -> Result<(), AnalysisError> {
    let outputs = net.outputs();
    if y.nrows() != x.nrows() || y.ncols() != outputs {
        return Err(AnalysisError::Invalid(format!(
            "labels are {}×{}, expected {}×{outputs} (samples × outputs)",
            y.nrows(),
            y.ncols(),
            x.nrows()
        )));
    }
    Ok(())
}

/// A C × C matrix of values, or the first reason one is undefined.
fn matrix_value(
    outputs: usize,
    entry: impl Fn(usize, usize) -> Result<f64, MetricError>,
) -> Result<MatrixValue, AnalysisError> {
    let mut rows = Vec::with_capacity(outputs);
    for i in 0..outputs {
        let mut row = Vec::with_capacity(outputs);
        for j in 0..outputs {
            match entry(i, j) {
                Ok(v) => row.push(v),
                Err(MetricError::Undefined(u)) => return Ok(MatrixValue::Undefined(u.to_string())),
                Err(e) => return Err(e.into()),
            }
        }
        rows.push(row);
    }
    Ok(MatrixValue::Matrix(rows))
}

fn ntk_metrics(
    model: ntk::Model<'_>,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    blocking: ntk::Blocking,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<NtkMetrics, AnalysisError> {
    let outputs = model.outputs();
    let stats = ntk::kernel_statistics_of(model, params, x, y, blocking, progress)?;
    let alignment = (0..outputs)
        .map(|c| value(stats.alignment(c, c)))
        .collect::<Result<_, _>>()?;
    let centered_alignment = (0..outputs)
        .map(|c| value(stats.centered_alignment(c, c)))
        .collect::<Result<_, _>>()?;
    let (specialisation, diagonal_excess, diagonal_contrast) = match stats.specialisation_matrix() {
        Ok(s) => {
            let rows = (0..s.nrows())
                .map(|i| (0..s.ncols()).map(|j| s[(i, j)]).collect())
                .collect();
            let (excess, contrast) = if outputs >= 2 {
                (
                    Some(value(ntk::diagonal_excess(s.as_ref()))?),
                    Some(value(ntk::diagonal_contrast(s.as_ref()))?),
                )
            } else {
                (None, None)
            };
            (MatrixValue::Matrix(rows), excess, contrast)
        }
        Err(MetricError::Undefined(u)) => (MatrixValue::Undefined(u.to_string()), None, None),
        Err(e) => return Err(e.into()),
    };
    Ok(NtkMetrics {
        alignment,
        centered_alignment,
        specialisation,
        diagonal_excess,
        diagonal_contrast,
        kernel_norm: (0..outputs).map(|c| stats.norm(c)).collect(),
        kernel_alignment: matrix_value(outputs, |i, j| stats.kernel_alignment(i, j))?,
    })
}
