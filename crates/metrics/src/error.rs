use std::fmt;

/// Why a metric has no value. A typed outcome, reported as such, never NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undefined {
    /// The named matrix has Frobenius norm below `1e-300` (a zero matrix),
    /// so a ratio that divides by it has no value.
    ZeroMatrix {
        /// Which operand was zero.
        which: &'static str,
    },
    /// Under Pearson centring the named matrix is constant (its centred norm
    /// is below `1e-14` of its norm), so the correlation has no value.
    ConstantMatrix {
        /// Which operand was constant.
        which: &'static str,
    },
}

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undefined::ZeroMatrix { which } => write!(f, "{which} is the zero matrix"),
            Undefined::ConstantMatrix { which } => {
                write!(f, "{which} is constant, so its Pearson centring vanishes")
            }
        }
    }
}

/// Errors of the metric kernels: bad input, or a value that is undefined.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// Two operands that must have the same shape do not.
    #[error("shape mismatch in {what}: {left:?} vs {right:?}")]
    ShapeMismatch {
        /// What was being computed.
        what: &'static str,
        /// Shape (rows, cols) of the left operand.
        left: (usize, usize),
        /// Shape (rows, cols) of the right operand.
        right: (usize, usize),
    },
    /// A matrix that must be square is not.
    #[error("{what} must be square, got {rows}x{cols}")]
    NotSquare {
        /// Which operand.
        what: &'static str,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
    },
    /// A matrix that must be symmetric is not (beyond round-off).
    #[error("{what} is not symmetric: ‖A − Aᵀ‖_F / ‖A‖_F = {asymmetry:.3e}")]
    NotSymmetric {
        /// Which operand.
        what: &'static str,
        /// Relative asymmetry found.
        asymmetry: f64,
    },
    /// A matrix that must be positive semi-definite has a clearly negative
    /// eigenvalue.
    #[error(
        "{what} is not positive semi-definite: eigenvalue {min_eigenvalue:.3e} with λ_max = {max_eigenvalue:.3e}"
    )]
    NotPsd {
        /// Which operand.
        what: &'static str,
        /// Its most negative eigenvalue.
        min_eigenvalue: f64,
        /// Its largest eigenvalue.
        max_eigenvalue: f64,
    },
    /// An input holds NaN or ±∞.
    #[error("{what} has a non-finite entry")]
    NonFinite {
        /// Which operand.
        what: &'static str,
    },
    /// A scalar argument is out of its domain.
    #[error("invalid argument {name} = {value}: {expected}")]
    InvalidArgument {
        /// Argument name.
        name: &'static str,
        /// Value given.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
    /// The symmetric eigensolver did not converge.
    #[error("symmetric eigendecomposition of {what} did not converge")]
    EigenFailed {
        /// Which operand.
        what: &'static str,
    },
    /// The metric is undefined for these inputs.
    #[error("undefined: {0}")]
    Undefined(Undefined),
}
