//! Empirical neural tangent kernels and kernel alignment (SPEC §5–6).
//!
//! * [`kernel`]: the empirical NTK of an MLP or deep linear network
//!   (identity activation), per output or full, in closed form layer by
//!   layer (ABP22, SB21), and of a convolutional network from its
//!   per-sample parameter gradients (SPEC §9);
//! * [`alignment`]: kernel–target (uncentred and centred), kernel–kernel and
//!   top-k eigenfunction alignment, and SB21's specialisation matrix;
//! * [`statistics`]: the same alignments, kernel norms and specialisation
//!   matrix from tiles of samples, without forming an n × n kernel, in a
//!   memory budget (for data sets whose kernels do not fit in memory);
//! * [`ridge`]: kernel ridge regression with an absolute ridge, the
//!   predictor ABP22's Theorem 1 compares the trained network with.

pub mod alignment;
pub mod kernel;
pub mod ridge;
pub mod statistics;

pub use alignment::{
    centered_kernel_target_alignment, centered_specialisation_matrix, diagonal_contrast,
    diagonal_excess, diagonal_margins, kernel_alignment, kernel_target_alignment,
    specialisation_matrix, top_k_alignment,
};
pub use kernel::{
    Model, full_ntk, output_block, per_output_ntk, per_output_ntk_between, per_output_ntk_of,
};
pub use ridge::KernelRidge;
pub use statistics::{Blocking, Bytes, KernelStatistics, kernel_statistics, kernel_statistics_of};

/// Errors of the NTK computations.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NtkError {
    /// The network or data do not fit.
    #[error(transparent)]
    Network(#[from] networks::NetworkError),
    /// A metric's input was invalid or its value undefined.
    #[error(transparent)]
    Metric(#[from] MetricError),
    /// `K + λI` is not positive definite, so the ridge solve has no
    /// Cholesky factor.
    #[error(
        "kernel ridge regression: K + λI is not positive definite (λ = {ridge:e}); use a positive ridge"
    )]
    NotPositiveDefinite {
        /// The ridge used.
        ridge: f64,
    },
    /// A computation would need more memory than its budget.
    #[error("{what}: {needed} of memory needed, more than the budget of {budget}")]
    Memory {
        /// What was asked for.
        what: String,
        /// Its estimated peak memory.
        needed: Bytes,
        /// The budget.
        budget: Bytes,
    },
}

use metrics::MetricError;
