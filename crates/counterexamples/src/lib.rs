//! Counterexamples to the Neural Feature Ansatz for nonlinear networks
//! (TMC25 states they exist; its constructions were not available, so these
//! are this workspace's own, SPEC §3). Each module states its proof; the
//! claims in `claims::tmc25::counterexamples` check them numerically.
//!
//! * [`rescaling`]: the positive rescaling symmetry of two-layer ReLU
//!   networks changes `W_1ᵀW_1` freely while the function, hence every AGOP,
//!   stays the same.
//! * [`quadratic`]: a quadratic network with a sign-mixed readout fits
//!   `2(u·x)(v·x)` exactly for every scale c while `cos(W_1ᵀW_1, G_1^{1/2})`
//!   tends to `1/√2`.
#![warn(missing_docs)]

pub mod quadratic;
pub mod rescaling;

use faer::{Mat, MatRef};
use metrics::alpha::AlphaOptions;
use metrics::{AlphaEstimate, AlphaEstimator, MetricError};

/// The best-α NFA similarity `max_{α ∈ [0.02, 2]} cosine(F, G^α)` and its
/// α, or `None` when α is unidentifiable (rank G = 1).
pub fn best_alpha_cosine(
    f: MatRef<'_, f64>,
    g: MatRef<'_, f64>,
) -> Result<Option<(f64, f64)>, MetricError> {
    Ok(
        match metrics::estimate_alpha(f, g, AlphaEstimator::Corr, &AlphaOptions::default())? {
            AlphaEstimate::Identified { alpha, objective } => Some((objective, alpha)),
            AlphaEstimate::Unidentifiable(_) => None,
        },
    )
}

/// `W_1ᵀW_1` of a parameter list.
pub fn first_nfm(params: &[Mat<f64>]) -> Mat<f64> {
    metrics::nfm(params[0].as_ref())
}
