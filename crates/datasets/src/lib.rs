//! Data sets the experiments train on.
//!
//! * [`teacher`]: synthetic linear teacher tasks `Y = X Bᵀ + σ_ε·ξ` (SPEC §2,
//!   §2.4), with a teacher `B ∈ R^{C×d}` of any rank and optionally
//!   anisotropic inputs.
//! * [`digits`]: the UCI optical digits (1797 × 64, 10 classes; E. Alpaydin,
//!   C. Kaynak 1998, CC BY 4.0), embedded from `fixtures/data/`, with
//!   standardised pixels and one-hot − 1/C labels; [`digit_pair`]: two of
//!   its classes as a ±1 task with a held-out split, whitened with
//!   [`PartialWhitening`] fitted on the training rows (ABP22, module
//!   [`pair`]).
//! * [`synthetic`] (SB21), [`relu_teacher`] (TMC25's trained
//!   counterexample), [`whitened_teacher`] (ABP22, with
//!   [`partially_whiten`]) and [`gaussian`] (BMA24's early-time
//!   prediction): the synthetic tasks of the papers (module [`tasks`]).
//! * Target transforms (module [`targets`]): [`parity_targets`] (SB21's
//!   digits parity), [`argmax_one_hot`] (BMA24's labels of a teacher's
//!   outputs) and [`add_label_noise`].
//!
//! All randomness comes from the caller's seeded `ChaCha8Rng` streams: one
//! stream for the inputs and teacher, one for label noise (SPEC preamble).
//! Every function states the order in which it draws, so that a task is
//! the same bits wherever it is built.
#![warn(missing_docs)]

pub mod pair;
pub mod targets;
pub mod tasks;

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use rand_chacha::ChaCha8Rng;

pub use pair::{DIGITS_PER_CLASS, DigitPairSpec, PartialWhitening, Split, digit_pair};
pub use targets::{add_label_noise, argmax_one_hot, one_vs_rest_targets, parity_targets};
pub use tasks::{
    GaussianSpec, ReluTeacherSpec, SyntheticSpec, WhitenedTeacherSpec, gaussian, relu_teacher,
    synthetic, whitened_teacher,
};

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

use common::gaussian_matrix;

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
    add_label_noise(&mut y, spec.noise, noise_rng);
    Ok((Dataset { x, y }, b))
}

/// The digits data set (UCI optical digits as shipped with scikit-learn;
/// E. Alpaydin, C. Kaynak, 1998, CC BY 4.0; see `fixtures/data/README.md`),
/// embedded at compile time: 1797 rows of 64 pixel counts and a label.
const DIGITS_GZ: &[u8] = include_bytes!("../../../fixtures/data/digits.csv.gz");

/// Rows in the digits data set.
pub const DIGITS_ROWS: usize = 1797;
/// Pixels per digit (8×8).
pub const DIGITS_PIXELS: usize = 64;
/// Classes.
pub const DIGITS_CLASSES: usize = 10;

/// Options of the digits data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DigitsSpec {
    /// Number of samples, 1..=1797 (a seeded random subset when fewer).
    pub samples: usize,
    /// Label-noise standard deviation σ_ε ≥ 0.
    pub noise: f64,
    /// Rows held out for testing: the last `held_out` rows of the subset.
    /// When > 0 the rows are drawn in a seeded order even when all 1797
    /// are used (the split varies with the seed), and the standardisation
    /// is fitted on the other rows only (SPEC §8).
    pub held_out: usize,
}

impl DigitsSpec {
    /// Check every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), DataError> {
        if self.samples == 0 || self.samples > DIGITS_ROWS {
            return Err(DataError::Invalid {
                field: "samples",
                message: format!("must be in 1..={DIGITS_ROWS}, got {}", self.samples),
            });
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(DataError::Invalid {
                field: "noise",
                message: format!("must be finite and ≥ 0, got {}", self.noise),
            });
        }
        if self.held_out >= self.samples {
            return Err(DataError::Invalid {
                field: "held_out",
                message: format!(
                    "must leave at least one of the {} samples for training, got {}",
                    self.samples, self.held_out
                ),
            });
        }
        Ok(())
    }
}

/// Pixel rows and labels of the embedded digits.
type DigitsRaw = (Vec<[f64; DIGITS_PIXELS]>, Vec<usize>);

/// The embedded CSV, decompressed and parsed once per process (a study
/// loads digits in hundreds of units).
pub(crate) fn digits_raw() -> Result<&'static DigitsRaw, DataError> {
    static RAW: std::sync::OnceLock<Result<DigitsRaw, DataError>> = std::sync::OnceLock::new();
    RAW.get_or_init(parse_digits).as_ref().map_err(Clone::clone)
}

/// Parse the embedded CSV into pixel rows and labels.
fn parse_digits() -> Result<DigitsRaw, DataError> {
    use std::io::Read;
    let corrupt = |message: String| DataError::Invalid {
        field: "digits",
        message,
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_GZ)
        .read_to_string(&mut text)
        .map_err(|e| corrupt(format!("embedded digits.csv.gz: {e}")))?;
    let mut pixels = Vec::with_capacity(DIGITS_ROWS);
    let mut labels = Vec::with_capacity(DIGITS_ROWS);
    for (r, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let values: Vec<f64> = line
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt(format!("row {r}: {e}")))?;
        if values.len() != DIGITS_PIXELS + 1 {
            return Err(corrupt(format!(
                "row {r} has {} columns, expected 65",
                values.len()
            )));
        }
        let mut row = [0.0; DIGITS_PIXELS];
        row.copy_from_slice(&values[..DIGITS_PIXELS]);
        pixels.push(row);
        let label = values[DIGITS_PIXELS];
        if !(0.0..DIGITS_CLASSES as f64).contains(&label) || label.fract() != 0.0 {
            return Err(corrupt(format!("row {r}: label {label} is not in 0..=9")));
        }
        labels.push(label as usize);
    }
    if pixels.len() != DIGITS_ROWS {
        return Err(corrupt(format!(
            "{} rows, expected {DIGITS_ROWS}",
            pixels.len()
        )));
    }
    Ok((pixels, labels))
}

/// Load digits: a seeded subset of `spec.samples` rows (all rows, in file
/// order, when it is 1797 and none is held out), pixels standardised per
/// column with the mean and variance of the training rows (all rows but
/// the last `spec.held_out`; constant columns stay 0), targets one-hot
/// minus `1/C` plus `σ_ε ξ` from `noise_rng`.
pub fn digits(
    spec: &DigitsSpec,
    rng: &mut ChaCha8Rng,
    noise_rng: &mut ChaCha8Rng,
) -> Result<Dataset, DataError> {
    use rand::seq::SliceRandom;
    spec.validate()?;
    let (pixels, labels) = digits_raw()?;
    let mut rows: Vec<usize> = (0..DIGITS_ROWS).collect();
    if spec.samples < DIGITS_ROWS || spec.held_out > 0 {
        rows.shuffle(rng);
        rows.truncate(spec.samples);
    }
    let n = rows.len();
    let fit = n - spec.held_out;
    let mut x = Mat::from_fn(n, DIGITS_PIXELS, |i, j| pixels[rows[i]][j]);
    for j in 0..DIGITS_PIXELS {
        let mean = (0..fit).map(|i| x[(i, j)]).sum::<f64>() / fit as f64;
        let var = (0..fit).map(|i| (x[(i, j)] - mean).powi(2)).sum::<f64>() / fit as f64;
        let sd = var.sqrt();
        for i in 0..n {
            x[(i, j)] = if sd > 0.0 {
                (x[(i, j)] - mean) / sd
            } else {
                0.0
            };
        }
    }
    let c = DIGITS_CLASSES;
    let mut y = Mat::from_fn(
        n,
        c,
        |i, k| if labels[rows[i]] == k { 1.0 } else { 0.0 } - 1.0 / c as f64,
    );
    add_label_noise(&mut y, spec.noise, noise_rng);
    Ok(Dataset { x, y })
}

/// Partial whitening `X_γ = c · U S^γ Vᵀ` of `X = U S Vᵀ` (thin SVD; ABP22's
/// anisotropy sweep, SPEC §5): γ = 0 whitens (all kept singular values
/// equal), γ = 1 keeps the raw spectrum. Singular values below
/// `n·ε·s_max` are dropped (rank deficiency). The scale c makes the kept
/// singular values' mean square equal n, so at γ = 0 with n ≥ d the inputs
/// have unit covariance, `X_γᵀX_γ = n·I`.
pub fn partially_whiten(x: &Mat<f64>, gamma: f64) -> Result<Mat<f64>, DataError> {
    if !(gamma.is_finite() && gamma >= 0.0) {
        return Err(DataError::Invalid {
            field: "gamma",
            message: format!("{gamma} is not a finite exponent ≥ 0"),
        });
    }
    if x.nrows() == 0 || x.ncols() == 0 || !x.is_all_finite() {
        return Err(DataError::Invalid {
            field: "x",
            message: "needs a finite, non-empty input matrix".into(),
        });
    }
    let common::linalg::ThinSvd { u, s, v } = common::linalg::thin_svd(x.as_ref(), Par::Seq)
        .map_err(|_| DataError::Invalid {
            field: "x",
            message: "the SVD did not converge".into(),
        })?;
    let s_max = s.iter().copied().fold(0.0, f64::max);
    let cutoff = x.nrows().max(x.ncols()) as f64 * f64::EPSILON * s_max;
    let kept: Vec<f64> = s
        .iter()
        .map(|&v| if v > cutoff { v.powf(gamma) } else { 0.0 })
        .collect();
    let rank = kept.iter().filter(|&&v| v > 0.0).count();
    if rank == 0 {
        return Err(DataError::Invalid {
            field: "x",
            message: "is the zero matrix".into(),
        });
    }
    let mean_square = kept.iter().map(|v| v * v).sum::<f64>() / rank as f64;
    let c = (x.nrows() as f64 / mean_square).sqrt();
    let scaled = Mat::from_fn(u.nrows(), u.ncols(), |i, k| u[(i, k)] * kept[k] * c);
    let mut out = Mat::zeros(x.nrows(), x.ncols());
    matmul(
        out.as_mut(),
        Accum::Replace,
        scaled.as_ref(),
        v.transpose(),
        1.0,
        Par::Seq,
    );
    Ok(out)
}
