//! Feed-forward networks. Fully connected networks `h_l = W_l a_{l−1} (+ b_l)`, `a_l = φ(h_l)`,
//! `f = h_L` (no activation on the output), SPEC §0 — the nonlinear
//! counterpart of `deep-linear` (BMA24, TMC25 §3).
//!
//! * [`activation`]: identity, ReLU, leaky ReLU, tanh, GELU, quadratic.
//! * [`network`]: the architecture, parameters `[W_1..W_L, b_1..b_L]`,
//!   forward pass, MSE loss and exact backpropagation ([`MlpObjective`],
//!   trainable with every optimiser of `optim`).
//! * [`tangents`](mod@tangents): per-sample pre-activation gradients `∇_{h_l} f_c(x_i)`,
//!   the pre-activation tangent kernel `K_l = Σ_i Σ_c ∇_{h_l}f_c ∇_{h_l}f_cᵀ`
//!   (summed, as BMA24's code) and the per-layer AGOP computed two
//!   independent ways: as `G_l = W_lᵀ K_l W_l / n`, and from per-sample
//!   input gradients.
//! * [`ptk_nfa`]: BMA24's UC-NFA and C-NFA and the singular alignment of
//!   `K_l` with the weights.
//! * [`sequential`]: sequential networks of convolutions, pooling,
//!   activations, flattening and linear layers (SPEC §9), of which the
//!   fully connected network above is one: forward pass, per-position
//!   pre-activation gradients, the PTK and the patch AGOP two ways.
#![warn(missing_docs)]

pub mod activation;
pub mod network;
pub mod ptk_nfa;
pub mod sequential;
pub mod tangents;

pub use activation::Activation;
pub use network::{Architecture, Forward, MlpObjective, NetworkError, forward, mse};
pub use sequential::spec::LayerSpec;
pub use sequential::{Conv2d, Layer, Pool, Sequential, Shape};
pub use tangents::{
    LayerTangents, agop_from_input_gradients, agop_from_ptk, forward_and_gradients,
    pre_activation_gradients, tangents,
};
