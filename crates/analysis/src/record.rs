//! The analysis as one JSON record — the object `analyze` writes and the
//! Python `analyze` returns (there with each layer's matrices beside it).
//!
//! Fields: `schema` (1), `input` (the shape of a sample), `network` (the
//! layers, e.g. `conv2d(8, 3×3, stride 1, padding 1, bias)`, `relu`,
//! `linear(10)`), for a fully connected network also `activation`,
//! `widths` and `bias`, then `samples`, `conventions` (each metric's
//! formula), `layers`: `[{"layer", "kind" (`linear` or `conv2d`), "tensor",
//! "bias_tensor", "inputs", "outputs", "agop_agreement", "alpha_hat",
//! "nfa": [{"similarity", "alpha", "exponent", "value"}], "uc_nfa",
//! "c_nfa", "centred_nfa" (when asked for)}]`, and `ntk`: `null` or `{"alignment", "centered_alignment",
//! "specialisation", "diagonal_excess", "diagonal_contrast", "kernel_norm",
//! "kernel_alignment"}`. An undefined value is `{"undefined": reason}`.

use networks::{Sequential, Shape};
use serde::Serialize;

use crate::{Analysis, LayerMetrics, NtkMetrics};

/// The version of the record's layout.
pub const SCHEMA: u64 = 1;

/// The record of one analysis (module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Record<'a> {
    /// [`SCHEMA`].
    pub schema: u64,
    /// The shape of one sample: `[channels, height, width]` or `[features]`.
    pub input: Vec<usize>,
    /// The layers, as [`networks::Layer`] displays them.
    pub network: Vec<String>,
    /// For a fully connected network: the hidden activation's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<&'static str>,
    /// For a fully connected network: `[d_0, …, d_L]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub widths: Option<Vec<usize>>,
    /// For a fully connected network: whether the layers have biases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bias: Option<bool>,
    /// n.
    pub samples: usize,
    /// Each metric's formula.
    pub conventions: Conventions,
    /// Per layer, from the input.
    pub layers: Vec<LayerRecord<'a>>,
    /// The NTK metrics, when labels were given.
    pub ntk: &'a Option<NtkMetrics>,
}

/// One layer's metrics and the names its tensors had where they were read.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRecord<'a> {
    /// The metrics.
    #[serde(flatten)]
    pub metrics: &'a LayerMetrics,
    /// The weight tensor's name.
    pub tensor: &'a str,
    /// The bias tensor's name, if any.
    pub bias_tensor: Option<&'a str>,
}

/// The formula of each metric of the record.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Conventions {
    /// The NFM.
    pub nfm: &'static str,
    /// The AGOP and the agreement of its two computations.
    pub agop: &'static str,
    /// The PTK.
    pub ptk: &'static str,
    /// The NFA similarity.
    pub nfa: &'static str,
    /// The fitted exponent.
    pub alpha_hat: &'static str,
    /// The uncentred NFA.
    pub uc_nfa: &'static str,
    /// The centred NFA.
    pub c_nfa: &'static str,
    /// The NFA against the gradient-centred AGOP.
    pub centred_nfa: &'static str,
    /// The NTK statistics.
    pub ntk: &'static str,
}

/// The conventions of this version of the record.
pub const CONVENTIONS: Conventions = Conventions {
    nfm: "F_l = W_lᵀW_l",
    agop: "G_l = (1/n) Σ_i Σ_c ∇_{a_{l−1}} f_c(x_i) ∇ᵀ (mean over samples, sum over outputs), by the chain rule W_lᵀK_lW_l/n; agop_agreement = relerr against the input-gradient computation",
    ptk: "K_l = Σ_i Σ_c ∇_{h_l} f_c(x_i) ∇ᵀ (sum over samples and outputs)",
    nfa: "sim(F_l, G_l^α), G^α with eigenvalues below d·ε·λ_max clipped",
    alpha_hat: "argmin_α relerr_scaled(F_l, G_l^α) on [0.02, 2]",
    uc_nfa: "sim(W_lᵀK_lW_l, W_lᵀW_l)",
    c_nfa: "sim(ΔW_lᵀK_lΔW_l, ΔW_lᵀΔW_l), ΔW_l = W_l − W_l(0)",
    centred_nfa: "sim(F_l, (G_l^c)^α), G_l^c = (1/n) Σ_i Σ_c (q_ic − q̄_c)(q_ic − q̄_c)ᵀ: the input (patch) gradients q centred over samples (RBPB22's centred AGOP); present when asked for",
    ntk: "A(K, y) = yᵀKy / (‖K‖_F ‖y‖²) per output kernel Θ_c (centred: A(HKH, Hy), H = I − 11ᵀ/n); specialisation S_cc' = A(Θ_c, y_c'); diagonal_contrast mean_c S_cc − mean_{c≠c'} S_cc' (0 without specialisation); diagonal_excess min_c (S_cc − max_{c'≠c} S_cc'); kernel_alignment ⟨Θ_c, Θ_c'⟩_F / (‖Θ_c‖_F ‖Θ_c'‖_F)",
};

/// The record of `analysis` of `net`, with the names its tensors had
/// where they were read from, `(weight, bias)` per parametrised layer
/// (module docs).
pub fn record<'a>(
    analysis: &'a Analysis,
    net: &Sequential,
    names: &'a [(String, Option<String>)],
) -> Record<'a> {
    record_of(
        analysis.samples,
        analysis.layers.iter().map(|l| &l.metrics),
        &analysis.ntk,
        net,
        names,
    )
}

/// The record of the metrics of `net` on `samples` samples: the layers'
/// metrics from the input, the NTK metrics, and the tensor names as in
/// [`record`].
pub fn record_of<'a>(
    samples: usize,
    layers: impl IntoIterator<Item = &'a LayerMetrics>,
    ntk: &'a Option<NtkMetrics>,
    net: &Sequential,
    names: &'a [(String, Option<String>)],
) -> Record<'a> {
    let mlp = net.as_mlp();
    Record {
        schema: SCHEMA,
        input: match net.input() {
            Shape::Image(s) => s.to_vec(),
            Shape::Flat(d) => vec![d],
        },
        network: net.layers().iter().map(ToString::to_string).collect(),
        activation: mlp.as_ref().map(|a| a.activation.name()),
        bias: mlp.as_ref().map(|a| a.bias),
        widths: mlp.map(|a| a.widths),
        samples,
        conventions: CONVENTIONS,
        layers: layers
            .into_iter()
            .zip(names)
            .map(|(metrics, (weight, bias))| LayerRecord {
                metrics,
                tensor: weight,
                bias_tensor: bias.as_deref(),
            })
            .collect(),
        ntk,
    }
}
