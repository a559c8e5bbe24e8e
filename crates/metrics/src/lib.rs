//! Metric kernels of the feature-learning checks (SPEC §1).
//!
//! Pure functions on `faer` matrices; none of them mutates its inputs.
//!
//! * [`features`]: neural feature matrix `F_l = W_lᵀW_l`, average gradient
//!   outer product (AGOP) `G_l` from per-sample gradients or in closed form
//!   for a deep linear network, and the layer imbalance `D_l`.
//! * [`psd`]: functions of positive semi-definite matrices through the
//!   symmetric eigendecomposition, with a relative eigenvalue cutoff.
//! * [`similarity`]: the similarity conventions peers use for "NFA
//!   correlation" (`cosine`, `pearson`, `relerr`, `relerr_scaled`) as one
//!   typed choice.
//! * [`alpha`]: the exponent α of the ansatz `F ∝ G^α`, estimated three ways,
//!   with an explicit *unidentifiable* outcome when `rank G = 1`.
//!
//! Undefined values (a zero matrix in a denominator, a constant matrix under
//! Pearson centring) are a typed [`MetricError::Undefined`], never NaN.
//! Papers are cited by the keys of SPEC: TMC25, BMA24, RBPB22.
#![warn(missing_docs)]

pub mod alpha;
mod error;
pub mod features;
mod frobenius;
pub mod psd;
pub mod similarity;

pub use alpha::{AlphaEstimate, AlphaEstimator, AlphaScan, Unidentifiable, estimate_alpha};
pub use error::{MetricError, Undefined};
pub use features::{agop_from_gradients, agop_linear, imbalance, imbalance_norms, imbalances, nfm};
pub use frobenius::{frobenius_inner, frobenius_norm};
pub use psd::{Cutoff, PsdEigen, psd_power};
pub use similarity::{Similarity, similarity};
