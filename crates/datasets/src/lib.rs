//! Data sets the experiments train on.
//!
//! * [`teacher`]: synthetic linear teacher tasks `Y = X Bᵀ + σ_ε·ξ` (SPEC §2,
//!   §2.4), with a teacher `B ∈ R^{C×d}` of any rank and optionally
//!   anisotropic inputs.
//!
//! All randomness comes from the caller's seeded `ChaCha8Rng` streams: one
//! stream for the inputs and teacher, one for label noise (SPEC preamble).
#![warn(missing_docs)]

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A supervised data set: inputs `X ∈ R^{n×d}` (rows are samples) and
/// targets `Y ∈ R^{n×C}`.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Inputs, one sample per row.
    pub x: Mat<f64>,
    /// Targets, one sample per row.
    pub y: Mat<f64>,
}

impl Dataset {
    /// Number of samples n.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }
    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.x.nrows() == 0
    }
    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        self.x.ncols()
    }
    /// Output dimension C.
    pub fn output_dim(&self) -> usize {
        self.y.ncols()
    }
}

/// Invalid data-set parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// A parameter is out of range; the message names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending parameter.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// A synthetic linear teacher task (SPEC §2).
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherSpec {
    /// Number of samples n ≥ 1.
    pub samples: usize,
    /// Input dimension d ≥ 1.
    pub input_dim: usize,
    /// Output dimension C ≥ 1.
    pub outputs: usize,
    /// Rank of the teacher B, 1 ≤ r ≤ min(C, d).
    pub rank: usize,
    /// Label-noise standard deviation σ_ε ≥ 0.
    pub noise: f64,
    /// Input anisotropy a ≥ 0: column k of X is scaled by `(k+1)^{−a}`
    /// (0 = isotropic Gaussian inputs).
    pub anisotropy: f64,
}

impl TeacherSpec {
    /// Check every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |field, message: String| Err(DataError::Invalid { field, message });
        if self.samples == 0 {
            return bad("samples", "must be at least 1".into());
        }
        if self.input_dim == 0 {
            return bad("input_dim", "must be at least 1".into());
        }
        if self.outputs == 0 {
            return bad("outputs", "must be at least 1".into());
        }
        let max_rank = self.outputs.min(self.input_dim);
        if self.rank == 0 || self.rank > max_rank {
            return bad(
                "teacher_rank",
                format!(
                    "must be in 1..={max_rank} (min(outputs, input_dim)), got {}",
                    self.rank
                ),
            );
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return bad(
                "noise",
                format!("must be finite and ≥ 0, got {}", self.noise),
            );
        }
        if !(self.anisotropy.is_finite() && self.anisotropy >= 0.0) {
            return bad(
                "anisotropy",
                format!("must be finite and ≥ 0, got {}", self.anisotropy),
            );
        }
        Ok(())
    }
}

/// Matrix of i.i.d. `N(0, 1)` entries.
pub fn gaussian_matrix(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| rng.sample::<f64, _>(StandardNormal))
}

/// Draw a teacher task: `X` with i.i.d. `N(0, (k+1)^{−2a})` entries in
/// column k, `B = U Vᵀ/√(r d)` (entries of unit variance in `Bx`) with `U ∈ R^{C×r}`, `V ∈ R^{d×r}` Gaussian, and
/// `Y = X Bᵀ + σ_ε ξ`, ξ standard normal from the separate `noise_rng`.
/// Returns the data and the teacher B.
pub fn teacher(
    spec: &TeacherSpec,
    rng: &mut ChaCha8Rng,
    noise_rng: &mut ChaCha8Rng,
) -> Result<(Dataset, Mat<f64>), DataError> {
    spec.validate()?;
    let (n, d, c, r) = (spec.samples, spec.input_dim, spec.outputs, spec.rank);
    let mut x = gaussian_matrix(n, d, rng);
    if spec.anisotropy > 0.0 {
        for k in 0..d {
            let s = ((k + 1) as f64).powf(-spec.anisotropy);
            for i in 0..n {
                x[(i, k)] *= s;
            }
        }
    }
    let u = gaussian_matrix(c, r, rng);
    let v = gaussian_matrix(d, r, rng);
    let mut b = Mat::zeros(c, d);
    matmul(
        b.as_mut(),
        Accum::Replace,
        u.as_ref(),
        v.transpose(),
        1.0 / ((r * d) as f64).sqrt(),
        Par::Seq,
    );
    let mut y = Mat::zeros(n, c);
    matmul(
        y.as_mut(),
        Accum::Replace,
        x.as_ref(),
        b.transpose(),
        1.0,
        Par::Seq,
    );
    if spec.noise > 0.0 {
        for j in 0..c {
            for i in 0..n {
                y[(i, j)] += spec.noise * noise_rng.sample::<f64, _>(StandardNormal);
            }
        }
    }
    Ok((Dataset { x, y }, b))
}
