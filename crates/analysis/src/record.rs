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
use serde_json::{Map, Value, json};

use crate::Analysis;

/// The version of the record's layout.
pub const SCHEMA: u64 = 1;

/// The record of `analysis` of a network with hidden activation
/// `activation`, widths `[d_0, …, d_L]`, biases or not, and the names its
/// tensors had where they were read from, `(weight, bias)` per layer
/// (module docs).
pub fn record(
    analysis: &Analysis,
    activation: Activation,
    widths: &[usize],
    bias: bool,
    names: &[(String, Option<String>)],
) -> Map<String, Value> {
    let layers: Vec<Value> = analysis
        .layers
        .iter()
        .zip(names)
        .map(|(layer, (weight, bias))| {
            let mut v = serde_json::to_value(&layer.metrics).expect("metrics serialise");
            let obj = v.as_object_mut().expect("a struct serialises to an object");
            obj.insert("tensor".into(), json!(weight));
            obj.insert("bias_tensor".into(), json!(bias));
            v
        })
        .collect();
    let mut map = Map::new();
    map.insert("schema".into(), json!(SCHEMA));
    map.insert("activation".into(), json!(activation.name()));
    map.insert("widths".into(), json!(widths));
    map.insert("bias".into(), json!(bias));
    map.insert("samples".into(), json!(analysis.samples));
    map.insert(
        "conventions".into(),
        json!({
            "nfm": "F_l = W_lᵀW_l",
            "agop": "G_l = (1/n) Σ_i Σ_c ∇_{a_{l−1}} f_c(x_i) ∇ᵀ (mean over samples, sum over outputs), by the chain rule W_lᵀK_lW_l/n; agop_agreement = relerr against the input-gradient computation",
            "ptk": "K_l = Σ_i Σ_c ∇_{h_l} f_c(x_i) ∇ᵀ (sum over samples and outputs)",
            "nfa": "sim(F_l, G_l^α), G^α with eigenvalues below d·ε·λ_max clipped",
            "alpha_hat": "argmin_α relerr_scaled(F_l, G_l^α) on [0.02, 2]",
            "uc_nfa": "sim(W_lᵀK_lW_l, W_lᵀW_l)",
            "c_nfa": "sim(ΔW_lᵀK_lΔW_l, ΔW_lᵀΔW_l), ΔW_l = W_l − W_l(0)",
            "ntk": "A(K, y) = yᵀKy / (‖K‖_F ‖y‖²) per output kernel Θ_c (centred: A(HKH, Hy), H = I − 11ᵀ/n); specialisation S_cc' = A(Θ_c, y_c'); diagonal_contrast mean_c S_cc − mean_{c≠c'} S_cc' (0 without specialisation); diagonal_excess min_c (S_cc − max_{c'≠c} S_cc'); kernel_alignment ⟨Θ_c, Θ_c'⟩_F / (‖Θ_c‖_F ‖Θ_c'‖_F)"
        }),
    );
    map.insert("layers".into(), Value::Array(layers));
    map.insert("ntk".into(), json!(analysis.ntk));
    map
}
