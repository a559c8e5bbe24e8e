//! Functions of positive semi-definite matrices (SPEC §1).
//!
//! `A^α = V diag(w_i^α) Vᵀ` through the symmetric eigendecomposition
//! `A = V diag(w) Vᵀ`, where eigenvalues below `ε·λ_max` are clipped to zero
//! first. Fractional powers amplify round-off (an eigenvalue of 1e-16 is
//! 1e-8 under a square root and 6e-4 under a fifth root), so the clipping
//! is what makes `AGOP^{1/L}` of a rank-deficient AGOP meaningful.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use crate::MetricError;
use crate::frobenius::{check_finite, check_square};

/// Relative eigenvalue cutoff `ε`: eigenvalues `w < ε·λ_max` count as zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cutoff(pub f64);

impl Cutoff {
    /// `n·ε_mach` for an n×n matrix: the size of the round-off a backward
    /// stable eigensolver leaves on the eigenvalues, relative to `λ_max`.
    pub fn for_dim(n: usize) -> Self {
        Cutoff(n.max(1) as f64 * f64::EPSILON)
    }
}

/// A negative eigenvalue beyond `−√ε_mach·λ_max` cannot be round-off of a
/// PSD matrix formed by products (which leave errors of order `n·ε_mach`),
/// so the input is rejected as not PSD.
const PSD_VIOLATION: f64 = 1.49e-8;

/// An input is accepted as symmetric when `‖A − Aᵀ‖_F ≤ 1e-10 ‖A‖_F`:
/// products such as `WᵀW` are symmetric only to round-off (~`n·ε_mach`).
const SYMMETRY_TOLERANCE: f64 = 1e-10;

/// Symmetric eigendecomposition of a PSD matrix with clipped eigenvalues.
#[derive(Debug, Clone)]
pub struct PsdEigen {
    /// Eigenvalues in ascending order, those below the cutoff set to zero.
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors as columns, in the order of `values`.
    pub vectors: Mat<f64>,
    /// The largest eigenvalue (0 for the zero matrix).
    pub lambda_max: f64,
    /// Number of eigenvalues kept (numerical rank).
    pub rank: usize,
}

impl PsdEigen {
    /// Decompose the PSD matrix `a`; `what` names it in errors.
    ///
    /// Reads the whole matrix (rejecting asymmetric or non-finite input);
    /// never modifies it.
    pub fn new(
        a: MatRef<'_, f64>,
        cutoff: Cutoff,
        what: &'static str,
    ) -> Result<Self, MetricError> {
        check_square(what, a)?;
        check_finite(what, a)?;
        if !(cutoff.0.is_finite() && cutoff.0 >= 0.0 && cutoff.0 < 1.0) {
            return Err(MetricError::InvalidArgument {
                name: "cutoff",
                value: cutoff.0,
                expected: "a relative cutoff in [0, 1)",
            });
        }
        let n = a.nrows();
        let norm = a.norm_l2();
        let mut asym = 0.0f64;
        for j in 0..n {
            for i in (j + 1)..n {
                let d = a[(i, j)] - a[(j, i)];
                asym += 2.0 * d * d;
            }
        }
        let asym = asym.sqrt();
        if asym > SYMMETRY_TOLERANCE * norm {
            return Err(MetricError::NotSymmetric {
                what,
                asymmetry: asym / norm,
            });
        }
        // d × d feature matrices, decomposed where they are measured: the
        // callers parallelise over checkpoints and units, so sequential.
        let (raw, vectors) =
            common::linalg::eigh(a, Par::Seq).map_err(|_| MetricError::EigenFailed { what })?;
        let lambda_max = raw.last().copied().unwrap_or(0.0).max(0.0);
        let min = raw.first().copied().unwrap_or(0.0);
        if min < -PSD_VIOLATION * lambda_max || (lambda_max == 0.0 && min < 0.0) {
            return Err(MetricError::NotPsd {
                what,
                min_eigenvalue: min,
                max_eigenvalue: lambda_max,
            });
        }
        let threshold = cutoff.0 * lambda_max;
        let values: Vec<f64> = raw
            .iter()
            .map(|&w| if w > threshold && w > 0.0 { w } else { 0.0 })
            .collect();
        let rank = values.iter().filter(|&&w| w > 0.0).count();
        Ok(PsdEigen {
            values,
            vectors,
            lambda_max,
            rank,
        })
    }

    /// Indices of the kept (non-zero) eigenvalues, ascending.
    pub fn support(&self) -> impl Iterator<Item = usize> + '_ {
        self.values
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0.0)
            .map(|(i, _)| i)
    }

    /// `A^α = Σ_{w_i > 0} w_i^α v_i v_iᵀ` for finite `α ≥ 0` (α = 0 gives the
    /// projector onto the support). Computed as `M Mᵀ` with
    /// `M = V_support diag(w^{α/2})`, so the result is PSD by construction.
    pub fn power(&self, alpha: f64) -> Result<Mat<f64>, MetricError> {
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(MetricError::InvalidArgument {
                name: "alpha",
                value: alpha,
                expected: "a finite exponent ≥ 0",
            });
        }
        let n = self.vectors.nrows();
        let support: Vec<usize> = self.support().collect();
        let m = Mat::from_fn(n, support.len(), |i, k| {
            let s = support[k];
            self.vectors[(i, s)] * self.values[s].powf(0.5 * alpha)
        });
        let mut out = Mat::zeros(n, n);
        matmul(
            out.as_mut(),
            Accum::Replace,
            m.as_ref(),
            m.transpose(),
            1.0,
            Par::Seq,
        );
        Ok(out)
    }
}

/// `A^α` of a PSD matrix with relative eigenvalue cutoff (SPEC §1).
///
/// The input is read, never modified; see [`PsdEigen::power`].
pub fn psd_power(a: MatRef<'_, f64>, alpha: f64, cutoff: Cutoff) -> Result<Mat<f64>, MetricError> {
    PsdEigen::new(a, cutoff, "matrix")?.power(alpha)
}
