//! Kernel ridge regression with an absolute ridge (SPEC §5, ABP22 Theorem 1).
//!
//! Fit: `α = (K + λ I)^{-1} Y` by a Cholesky factorisation (λ ≥ 0 is
//! absolute, in the units of K, not scaled by n or by tr K); predict:
//! `f(x) = k(x)ᵀ α` with `k(x)_i = K(x, x_i)`.

use faer::{Mat, MatRef, Par};
use metrics::MetricError;

use crate::NtkError;

/// A fitted kernel ridge regressor.
#[derive(Debug, Clone)]
pub struct KernelRidge {
    coefficients: Mat<f64>,
}

impl KernelRidge {
    /// Fit on the n×n training kernel and n×m targets with absolute ridge
    /// `ridge ≥ 0`. Fails with [`NtkError::NotPositiveDefinite`] when
    /// `K + λI` has no Cholesky factor (λ = 0 and K singular). `par`
    /// parallelises the factorisation.
    pub fn fit(
        kernel: MatRef<'_, f64>,
        y: MatRef<'_, f64>,
        ridge: f64,
        par: Par,
    ) -> Result<Self, NtkError> {
        if !(ridge.is_finite() && ridge >= 0.0) {
            return Err(MetricError::InvalidArgument {
                name: "ridge",
                value: ridge,
                expected: "a finite ridge λ ≥ 0",
            }
            .into());
        }
        let n = kernel.nrows();
        if kernel.ncols() != n || y.nrows() != n {
            return Err(MetricError::ShapeMismatch {
                what: "kernel ridge regression (kernel vs targets)",
                left: (kernel.nrows(), kernel.ncols()),
                right: (y.nrows(), y.ncols()),
            }
            .into());
        }
        if !kernel.is_all_finite() || !y.is_all_finite() {
            return Err(MetricError::NonFinite {
                what: "kernel ridge regression input",
            }
            .into());
        }
        let mut regularised = kernel.to_owned();
        for i in 0..n {
            regularised[(i, i)] += ridge;
        }
        let coefficients = common::linalg::cholesky_solve(regularised.as_ref(), y, par)
            .map_err(|_| NtkError::NotPositiveDefinite { ridge })?;
        Ok(KernelRidge { coefficients })
    }

    /// `α = (K + λI)^{-1} Y` (n × m).
    pub fn coefficients(&self) -> MatRef<'_, f64> {
        self.coefficients.as_ref()
    }

    /// Predictions `K_× α` for the cross kernel `K_×` (test × train).
    pub fn predict(&self, cross: MatRef<'_, f64>) -> Result<Mat<f64>, NtkError> {
        if cross.ncols() != self.coefficients.nrows() {
            return Err(MetricError::ShapeMismatch {
                what: "kernel ridge prediction (cross kernel vs training set)",
                left: (cross.nrows(), cross.ncols()),
                right: (self.coefficients.nrows(), self.coefficients.ncols()),
            }
            .into());
        }
        Ok(cross * &self.coefficients)
    }
}
