//! Two digit classes as a ±1 task with a held-out split (ABP22's first
//! figure, SPEC §5, §8, on the shipped digits instead of MNIST), and the
//! whitening transform it uses.
//!
//! [`PartialWhitening`] is [`crate::partially_whiten`] of the centred
//! inputs as a transform fitted on one set and applied to others: with the
//! training inputs `X`, their column means `μ` and the thin SVD
//! `X − 1μᵀ = U S Vᵀ`, the directions with `s_k > max(n, d)·ε·s_max` are
//! kept (the others, e.g. pixels constant over the training set, are
//! numerically zero and dropped) and
//!
//! `T = c · Σ_{k kept} s_k^{γ−1} v_k v_kᵀ`,  `x ↦ (x − μ)ᵀ T`,
//!
//! with `c` making the mean square of the kept `s_k^γ` equal n. The
//! training inputs map to `c·U S^γ Vᵀ` (that of `partially_whiten`); at
//! γ = 0 (ZCA whitening) their Gram matrix is `n·V_k V_kᵀ`, n times the
//! identity on the kept directions. Held-out inputs are centred with the
//! training means and lose their components along the dropped directions.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use rand_chacha::ChaCha8Rng;

use crate::{DIGITS_CLASSES, DIGITS_PIXELS, DataError, Dataset, add_label_noise, digits_raw};

/// Rows of each class in the digits data set (checked against the file by
/// the tests).
pub const DIGITS_PER_CLASS: [usize; DIGITS_CLASSES] =
    [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];

/// A partial whitening transform fitted on training inputs (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct PartialWhitening {
    /// Column means of the training inputs (1 × d).
    pub mean: Mat<f64>,
    /// `T` (d × d).
    pub transform: Mat<f64>,
    /// Number of kept directions.
    pub rank: usize,
}

impl PartialWhitening {
    /// Fit on the rows of `x` with exponent γ ≥ 0 (0 whitens, 1 keeps the
    /// centred spectrum). Fails for a non-finite or empty `x`, a bad γ, or
    /// rows that are all equal (nothing left after centring).
    pub fn fit(x: MatRef<'_, f64>, gamma: f64) -> Result<Self, DataError> {
        let bad = |field, message: &str| DataError::Invalid {
            field,
            message: message.into(),
        };
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(DataError::Invalid {
                field: "gamma",
                message: format!("must be finite and ≥ 0, got {gamma}"),
            });
        }
        let (n, d) = x.shape();
        if n == 0 || d == 0 || !x.is_all_finite() {
            return Err(bad("x", "needs a finite, non-empty input matrix"));
        }
        let mean = Mat::from_fn(1, d, |_, j| {
            (0..n).map(|i| x[(i, j)]).sum::<f64>() / n as f64
        });
        let centred = Mat::from_fn(n, d, |i, j| x[(i, j)] - mean[(0, j)]);
        let common::linalg::ThinSvd { s, v, .. } =
            common::linalg::thin_svd(centred.as_ref(), Par::Seq)
                .map_err(|_| bad("x", "the SVD did not converge"))?;
        let s_max = s.iter().copied().fold(0.0, f64::max);
        // The cutoff of `partially_whiten`: singular values below the SVD's
        // backward error, max(n, d)·ε·s_max, are round-off of exact zeros.
        let cutoff = n.max(d) as f64 * f64::EPSILON * s_max;
        let kept: Vec<usize> = (0..s.len()).filter(|&k| s[k] > cutoff).collect();
        if kept.is_empty() {
            return Err(bad("x", "has no variance: every row is the same"));
        }
        let mean_square =
            kept.iter().map(|&k| s[k].powf(2.0 * gamma)).sum::<f64>() / kept.len() as f64;
        let c = (n as f64 / mean_square).sqrt();
        let vk = Mat::from_fn(d, kept.len(), |i, j| v[(i, kept[j])]);
        let scaled = Mat::from_fn(d, kept.len(), |i, j| {
            vk[(i, j)] * c * s[kept[j]].powf(gamma - 1.0)
        });
        let mut transform = Mat::zeros(d, d);
        matmul(
            transform.as_mut(),
            Accum::Replace,
            scaled.as_ref(),
            vk.transpose(),
            1.0,
            Par::Seq,
        );
        Ok(PartialWhitening {
            mean,
            transform,
            rank: kept.len(),
        })
    }

    /// `(X − 1μᵀ) T` for the rows of `x` (d columns).
    pub fn apply(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>, DataError> {
        let d = self.transform.nrows();
        if x.ncols() != d {
            return Err(DataError::Invalid {
                field: "x",
                message: format!("has {} columns, the transform {d}", x.ncols()),
            });
        }
        let centred = Mat::from_fn(x.nrows(), d, |i, j| x[(i, j)] - self.mean[(0, j)]);
        let mut out = Mat::zeros(x.nrows(), d);
        matmul(
            out.as_mut(),
            Accum::Replace,
            centred.as_ref(),
            self.transform.as_ref(),
            1.0,
            Par::Seq,
        );
        Ok(out)
    }
}

/// Two digit classes, ±1 targets, a seeded train/held-out split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DigitPairSpec {
    /// The classes: `classes[0]` has target +1, `classes[1]` target −1.
    pub classes: [usize; 2],
    /// Training samples; the other rows of the two classes are held out
    /// (at least one).
    pub samples: usize,
    /// Whitening exponent γ ≥ 0 of [`PartialWhitening`] (0 whitens).
    pub gamma: f64,
    /// Label-noise standard deviation σ_ε ≥ 0 (training targets only).
    pub noise: f64,
}

impl DigitPairSpec {
    /// Rows of the two classes.
    pub fn available(&self) -> usize {
        self.classes
            .iter()
            .map(|&c| DIGITS_PER_CLASS.get(c).copied().unwrap_or(0))
            .sum()
    }

    /// Check every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), DataError> {
        let [a, b] = self.classes;
        if a >= DIGITS_CLASSES || b >= DIGITS_CLASSES || a == b {
            return Err(DataError::Invalid {
                field: "classes",
                message: format!("must be two different digits in 0..=9, got [{a}, {b}]"),
            });
        }
        let available = self.available();
        if self.samples == 0 || self.samples >= available {
            return Err(DataError::Invalid {
                field: "samples",
                message: format!(
                    "must be in 1..{available} (the rows of digits {a} and {b}, at least one held out), got {}",
                    self.samples
                ),
            });
        }
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(DataError::Invalid {
                field: "gamma",
                message: format!("must be finite and ≥ 0, got {}", self.gamma),
            });
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(DataError::Invalid {
                field: "noise",
                message: format!("must be finite and ≥ 0, got {}", self.noise),
            });
        }
        Ok(())
    }
}

/// The task and its held-out rows.
#[derive(Debug, Clone)]
pub struct Split {
    /// Training inputs and targets.
    pub train: Dataset,
    /// Held-out inputs, transformed by the training set's whitening, and
    /// their noiseless targets.
    pub held_out: Dataset,
}

/// Load two digit classes: the rows of `classes` in file order, shuffled
/// by `rng` (the only draws from it); the first `samples` rows train, the
/// rest are held out. Pixel counts are transformed by the
/// [`PartialWhitening`] with exponent γ fitted on the training rows;
/// targets are +1 for `classes[0]` and −1 for `classes[1]`, the training
/// targets plus `σ_ε ξ` from `noise_rng`.
pub fn digit_pair(
    spec: &DigitPairSpec,
    rng: &mut ChaCha8Rng,
    noise_rng: &mut ChaCha8Rng,
) -> Result<Split, DataError> {
    use rand::seq::SliceRandom;
    spec.validate()?;
    let (pixels, labels) = digits_raw()?;
    let mut rows: Vec<usize> = (0..labels.len())
        .filter(|&i| spec.classes.contains(&labels[i]))
        .collect();
    rows.shuffle(rng);
    let (train, held_out) = rows.split_at(spec.samples);
    let raw = |rows: &[usize]| Mat::from_fn(rows.len(), DIGITS_PIXELS, |i, j| pixels[rows[i]][j]);
    let targets = |rows: &[usize]| {
        Mat::from_fn(rows.len(), 1, |i, _| {
            if labels[rows[i]] == spec.classes[0] {
                1.0
            } else {
                -1.0
            }
        })
    };
    let (x_train, x_held) = (raw(train), raw(held_out));
    let whitening = PartialWhitening::fit(x_train.as_ref(), spec.gamma)?;
    let mut y = targets(train);
    add_label_noise(&mut y, spec.noise, noise_rng);
    Ok(Split {
        train: Dataset {
            x: whitening.apply(x_train.as_ref())?,
            y,
        },
        held_out: Dataset {
            x: whitening.apply(x_held.as_ref())?,
            y: targets(held_out),
        },
    })
}
