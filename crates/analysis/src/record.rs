//! The analysis as one JSON record — the object `analyze` writes and the
//! Python `analyze` returns (there with each layer's matrices beside it).
//!
//! Fields: `schema` (1), `activation`, `widths`, `bias`, `samples`,
//! `conventions` (each metric's formula), `layers`: `[{"layer", "tensor",
//! "bias_tensor", "inputs", "outputs", "agop_agreement", "alpha_hat",
//! "nfa": [{"similarity", "alpha", "exponent", "value"}], "uc_nfa",
//! "c_nfa"}]`, and `ntk`: `null` or `{"alignment", "centered_alignment",
//! "specialisation", "diagonal_excess", "diagonal_contrast", "kernel_norm",
//! "kernel_alignment"}`. An undefined value is `{"undefined": reason}`.

use mlp::Activation;
use serde::Serialize;

use crate::{Analysis, LayerMetrics, NtkMetrics};

/// The version of the record's layout.
pub const SCHEMA: u64 = 1;

/// The record of one analysis (module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Record<'a> {
    /// [`SCHEMA`].
    pub schema: u64,
    /// The hidden activation's name.
    pub activation: &'static str,
    /// `[d_0, …, d_L]`.
    pub widths: &'a [usize],
    /// Whether the layers have biases.
    pub bias: bool,
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
    ntk: "A(K, y) = yᵀKy / (‖K‖_F ‖y‖²) per output kernel Θ_c (centred: A(HKH, Hy), H = I − 11ᵀ/n); specialisation S_cc' = A(Θ_c, y_c'); diagonal_contrast mean_c S_cc − mean_{c≠c'} S_cc' (0 without specialisation); diagonal_excess min_c (S_cc − max_{c'≠c} S_cc'); kernel_alignment ⟨Θ_c, Θ_c'⟩_F / (‖Θ_c‖_F ‖Θ_c'‖_F)",
};

/// The record of `analysis` of a network with hidden activation
/// `activation`, widths `[d_0, …, d_L]`, biases or not, and the names its
/// tensors had where they were read from, `(weight, bias)` per layer
/// (module docs).
pub fn record<'a>(
    analysis: &'a Analysis,
    activation: Activation,
    widths: &'a [usize],
    bias: bool,
    names: &'a [(String, Option<String>)],
) -> Record<'a> {
    Record {
        schema: SCHEMA,
        activation: activation.name(),
        widths,
        bias,
        samples: analysis.samples,
        conventions: CONVENTIONS,
        layers: analysis
            .layers
            .iter()
            .zip(names)
            .map(|(layer, (weight, bias))| LayerRecord {
                metrics: &layer.metrics,
                tensor: weight,
                bias_tensor: bias.as_deref(),
            })
            .collect(),
        ntk: &analysis.ntk,
    }
}
