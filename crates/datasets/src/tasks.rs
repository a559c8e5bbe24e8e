//! The synthetic tasks of SB21, TMC25's trained counterexample, ABP22 and
//! BMA24.
//!
//! * [`synthetic`] (SB21, SPEC §6): Gaussian inputs and one unit-variance
//!   target per input direction, linear plus quadratic in that coordinate.
//! * [`relu_teacher`] (TMC25, SPEC §3): the outputs of a random two-layer
//!   ReLU network.
//! * [`whitened_teacher`] (ABP22, SPEC §5): a scalar linear teacher
//!   `y = s·xᵀβ`, `‖β‖ = 1`, on (partially) whitened anisotropic inputs.
//! * [`gaussian`] (BMA24, SPEC §4): Gaussian inputs and independent Gaussian
//!   targets, the residuals of the early-time prediction at init.
//!
//! Each draws from the caller's data stream in a fixed order (stated on the
//! function) and adds label noise from the separate noise stream last.

use common::gaussian_matrix;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use rand_chacha::ChaCha8Rng;

use crate::{DataError, Dataset, add_label_noise, partially_whiten};

fn at_least_one(field: &'static str, v: usize) -> Result<(), DataError> {
    if v == 0 {
        return Err(DataError::Invalid {
            field,
            message: "must be at least 1".into(),
        });
    }
    Ok(())
}

fn finite(field: &'static str, v: f64, ok: bool, what: &str) -> Result<(), DataError> {
    if v.is_finite() && ok {
        Ok(())
    } else {
        Err(DataError::Invalid {
            field,
            message: format!("must be finite and {what}, got {v}"),
        })
    }
}

fn noise(v: f64) -> Result<(), DataError> {
    finite("noise", v, v >= 0.0, "≥ 0")
}

/// SB21's synthetic task (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticSpec {
    /// Number of samples n ≥ 1.
    pub samples: usize,
    /// Input dimension d ≥ 1.
    pub input_dim: usize,
    /// Number of targets C, 1 ≤ C ≤ d (target k reads input coordinate k).
    pub outputs: usize,
    /// Label-noise standard deviation σ_ε ≥ 0.
    pub noise: f64,
}

impl SyntheticSpec {
    /// Check every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), DataError> {
        at_least_one("samples", self.samples)?;
        at_least_one("input_dim", self.input_dim)?;
        at_least_one("outputs", self.outputs)?;
        if self.outputs > self.input_dim {
            return Err(DataError::Invalid {
                field: "outputs",
                message: format!(
                    "must be at most input_dim = {} (target k reads input coordinate k), got {}",
                    self.input_dim, self.outputs
                ),
            });
        }
        noise(self.noise)
    }
}

/// SB21's synthetic task: `X ∈ R^{n×d}` i.i.d. `N(0, 1)` (drawn column by
/// column from `rng`) and, for k < C,
/// `Y_ik = (x_ik + (x_ik² − 1)/√2)/√2 = (He₁(x_ik) + He₂(x_ik)/√2)/√2`:
/// orthogonal linear and quadratic Hermite parts of equal weight, so every
/// target has mean 0 and variance 1; then `σ_ε ξ` from `noise_rng`.
pub fn synthetic(
    spec: &SyntheticSpec,
    rng: &mut ChaCha8Rng,
    noise_rng: &mut ChaCha8Rng,
) -> Result<Dataset, DataError> {
    spec.validate()?;
    let x = gaussian_matrix(spec.samples, spec.input_dim, rng);
    let mut y = Mat::from_fn(spec.samples, spec.outputs, |i, k| {
        let v = x[(i, k)];
        (v + (v * v - 1.0) / 2f64.sqrt()) / 2f64.sqrt()
    });
    add_label_noise(&mut y, spec.noise, noise_rng);
    Ok(Dataset { x, y })
}

/// A random two-layer ReLU teacher (TMC25's trained counterexample, SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReluTeacherSpec {
    /// Number of samples n ≥ 1.
    pub samples: usize,
    /// Input dimension d ≥ 1.
    pub input_dim: usize,
    /// Hidden width m ≥ 1 of the teacher.
    pub teacher_width: usize,
    /// Output dimension C ≥ 1.
    pub outputs: usize,
    /// Label-noise standard deviation σ_ε ≥ 0.
    pub noise: f64,
}

impl ReluTeacherSpec {
    /// Check every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), DataError> {
        at_least_one("samples", self.samples)?;
        at_least_one("input_dim", self.input_dim)?;
        at_least_one("teacher_width", self.teacher_width)?;
        at_least_one("outputs", self.outputs)?;
        noise(self.noise)
    }
}

/// A two-layer ReLU teacher task. From `rng`, in this order: `X ∈ R^{n×d}`,
/// `T_1 = G_1/√d ∈ R^{m×d}`, `T_2 = G_2/√m ∈ R^{C×m}` (G i.i.d. `N(0, 1)`,
/// each drawn column by column); then `Y = relu(X T_1ᵀ) T_2ᵀ + σ_ε ξ`, the
/// product and activation in the order of `networks::forward` (so the targets
/// are those of the bias-free ReLU network `[T_1, T_2]`), ξ from
/// `noise_rng`. Returns the data and the teacher layers `[T_1, T_2]`.
pub fn relu_teacher(
    spec: &ReluTeacherSpec,
    rng: &mut ChaCha8Rng,
    noise_rng: &mut ChaCha8Rng,
) -> Result<(Dataset, [Mat<f64>; 2]), DataError> {
    spec.validate()?;
    let (n, d, m, c) = (
        spec.samples,
        spec.input_dim,
        spec.teacher_width,
        spec.outputs,
    );
    let x = gaussian_matrix(n, d, rng);
    let t1 = gaussian_matrix(m, d, rng) * faer::Scale(1.0 / (d as f64).sqrt());
    let t2 = gaussian_matrix(c, m, rng) * faer::Scale(1.0 / (m as f64).sqrt());
    let mut hidden = Mat::zeros(n, m);
    matmul(
        hidden.as_mut(),
        Accum::Replace,
        x.as_ref(),
        t1.transpose(),
        1.0,
        Par::Seq,
    );
    for j in 0..m {
        for v in hidden.col_as_slice_mut(j) {
            *v = v.max(0.0);
        }
    }
    let mut y = Mat::zeros(n, c);
    matmul(
        y.as_mut(),
        Accum::Replace,
        hidden.as_ref(),
        t2.transpose(),
        1.0,
        Par::Seq,
    );
    add_label_noise(&mut y, spec.noise, noise_rng);
    Ok((Dataset { x, y }, [t1, t2]))
}

/// ABP22's scalar linear teacher on (partially) whitened inputs (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WhitenedTeacherSpec {
    /// Number of samples P ≥ 1.
    pub samples: usize,
    /// Input dimension D ≥ 1.
    pub input_dim: usize,
    /// Whitening exponent γ ≥ 0 of [`partially_whiten`] (0 whitens, 1
    /// keeps the raw spectrum).
    pub gamma: f64,
    /// Anisotropy a ≥ 0: raw column k is scaled by `(k+1)^{−a}` before
    /// whitening.
    pub anisotropy: f64,
    /// Teacher scale s > 0.
    pub signal: f64,
    /// Label-noise standard deviation σ_ε ≥ 0.
    pub noise: f64,
}

impl WhitenedTeacherSpec {
    /// Check every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), DataError> {
        at_least_one("samples", self.samples)?;
        at_least_one("input_dim", self.input_dim)?;
        finite("gamma", self.gamma, self.gamma >= 0.0, "≥ 0")?;
        finite("anisotropy", self.anisotropy, self.anisotropy >= 0.0, "≥ 0")?;
        finite("signal", self.signal, self.signal > 0.0, "> 0")?;
        noise(self.noise)
    }
}

/// ABP22's task. From `rng`, in this order: raw inputs `R ∈ R^{P×D}`
/// i.i.d. `N(0, 1)` with column k scaled by `(k+1)^{−a}`, whitened to
/// `X = partially_whiten(R, γ)`; then `β = g/‖g‖` with `g ∈ R^D` standard
/// normal. Targets `y = s·Xβ + σ_ε ξ` (P × 1), ξ from `noise_rng`. Returns
/// the data and the unit teacher β (D × 1).
pub fn whitened_teacher(
    spec: &WhitenedTeacherSpec,
    rng: &mut ChaCha8Rng,
    noise_rng: &mut ChaCha8Rng,
) -> Result<(Dataset, Mat<f64>), DataError> {
    spec.validate()?;
    let raw = gaussian_matrix(spec.samples, spec.input_dim, rng);
    let raw = Mat::from_fn(raw.nrows(), raw.ncols(), |i, k| {
        raw[(i, k)] * ((k + 1) as f64).powf(-spec.anisotropy)
    });
    let x = partially_whiten(&raw, spec.gamma)?;
    let beta = gaussian_matrix(spec.input_dim, 1, rng);
    let beta = &beta * faer::Scale(1.0 / beta.norm_l2());
    let mut y = &x * &beta * faer::Scale(spec.signal);
    add_label_noise(&mut y, spec.noise, noise_rng);
    Ok((Dataset { x, y }, beta))
}

/// Independent Gaussian inputs and targets (BMA24's early-time prediction,
/// SPEC §4: a network at init fitting targets it cannot predict).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianSpec {
    /// Number of samples n ≥ 1.
    pub samples: usize,
    /// Input dimension d ≥ 1.
    pub input_dim: usize,
    /// Output dimension C ≥ 1.
    pub outputs: usize,
    /// Label-noise standard deviation σ_ε ≥ 0.
    pub noise: f64,
}

impl GaussianSpec {
    /// Check every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), DataError> {
        at_least_one("samples", self.samples)?;
        at_least_one("input_dim", self.input_dim)?;
        at_least_one("outputs", self.outputs)?;
        noise(self.noise)
    }
}

/// Gaussian inputs and targets. From `rng`, in this order: `X ∈ R^{n×d}`,
/// then `Y ∈ R^{n×C}`, both i.i.d. `N(0, 1)` drawn column by column; then
/// `σ_ε ξ` from `noise_rng`.
pub fn gaussian(
    spec: &GaussianSpec,
    rng: &mut ChaCha8Rng,
    noise_rng: &mut ChaCha8Rng,
) -> Result<Dataset, DataError> {
    spec.validate()?;
    let x = gaussian_matrix(spec.samples, spec.input_dim, rng);
    let mut y = gaussian_matrix(spec.samples, spec.outputs, rng);
    add_label_noise(&mut y, spec.noise, noise_rng);
    Ok(Dataset { x, y })
}
