//! The similarity conventions for comparing an NFM with a power of the AGOP
//! (SPEC §1.1). Every report row names the convention it used.
//!
//! | name | formula | used by |
//! |---|---|---|
//! | `cosine` | `⟨A,B⟩_F / (‖A‖_F ‖B‖_F)` | RBPB22 2022 code (α = 1) |
//! | `pearson` | cosine after subtracting each matrix's mean entry | BMA24 code, RBPB22 Science code |
//! | `relerr` | `‖A − B‖_F / ‖B‖_F` | TMC25 exact identity |
//! | `relerr_scaled` | `min_c ‖cA − B‖_F / ‖B‖_F` | proportionality up to a constant |

use std::fmt;
use std::str::FromStr;

use faer::MatRef;

use crate::frobenius::{check_finite, same_shape, zip_columns};
use crate::{MetricError, Undefined};

/// A denominator below this absolute value makes a similarity undefined.
pub(crate) const ABSOLUTE_ZERO: f64 = 1e-300;
/// A Pearson-centred norm below this fraction of the uncentred norm means the
/// matrix is constant up to round-off (`~1e2·ε_mach`): undefined.
pub(crate) const RELATIVE_ZERO: f64 = 1e-14;

/// One of the similarity conventions of SPEC §1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Similarity {
    /// `⟨A,B⟩_F / (‖A‖_F ‖B‖_F)`; 1 when proportional.
    Cosine,
    /// Cosine of the matrices with their mean entry subtracted.
    Pearson,
    /// `‖A − B‖_F / ‖B‖_F`; 0 when equal (the constant is tested too).
    RelErr,
    /// `min_c ‖cA − B‖_F / ‖B‖_F`; 0 when proportional.
    RelErrScaled,
}

impl Similarity {
    /// All conventions, in report order.
    pub const ALL: [Similarity; 4] = [
        Similarity::Cosine,
        Similarity::Pearson,
        Similarity::RelErr,
        Similarity::RelErrScaled,
    ];

    /// The name used in configs, reports and the command line.
    pub fn name(self) -> &'static str {
        match self {
            Similarity::Cosine => "cosine",
            Similarity::Pearson => "pearson",
            Similarity::RelErr => "relerr",
            Similarity::RelErrScaled => "relerr_scaled",
        }
    }

    /// True for correlations (best = 1), false for errors (best = 0).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Similarity::Cosine | Similarity::Pearson)
    }
}

impl fmt::Display for Similarity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error parsing a [`Similarity`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown similarity `{0}`, expected one of cosine, pearson, relerr, relerr_scaled")]
pub struct UnknownSimilarity(pub String);

impl FromStr for Similarity {
    type Err = UnknownSimilarity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Similarity::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownSimilarity(s.to_owned()))
    }
}

/// Sufficient statistics of a pair (A, B) for every convention.
struct PairStats {
    ab: f64,
    aa: f64,
    bb: f64,
    /// Centred versions (mean entry subtracted).
    ab_c: f64,
    aa_c: f64,
    bb_c: f64,
}

fn pair_stats(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> PairStats {
    let count = (a.nrows() * a.ncols()) as f64;
    let (mut sa, mut sb) = (0.0, 0.0);
    zip_columns(a, b, |x, y| {
        sa += x.iter().sum::<f64>();
        sb += y.iter().sum::<f64>();
    });
    let (ma, mb) = (sa / count, sb / count);
    let mut s = PairStats {
        ab: 0.0,
        aa: 0.0,
        bb: 0.0,
        ab_c: 0.0,
        aa_c: 0.0,
        bb_c: 0.0,
    };
    zip_columns(a, b, |xs, ys| {
        // Column-local accumulators stay in registers.
        let mut c = [0.0f64; 6];
        for (&x, &y) in xs.iter().zip(ys) {
            let (xc, yc) = (x - ma, y - mb);
            c[0] += x * y;
            c[1] += x * x;
            c[2] += y * y;
            c[3] += xc * yc;
            c[4] += xc * xc;
            c[5] += yc * yc;
        }
        s.ab += c[0];
        s.aa += c[1];
        s.bb += c[2];
        s.ab_c += c[3];
        s.aa_c += c[4];
        s.bb_c += c[5];
    });
    s
}

/// `‖cA − B‖_F²`.
fn scaled_residual_sq(c: f64, a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    let mut acc = 0.0;
    zip_columns(a, b, |xs, ys| {
        acc += xs
            .iter()
            .zip(ys)
            .map(|(x, y)| (c * x - y) * (c * x - y))
            .sum::<f64>();
    });
    acc
}

/// `sim(A, B)` in the given convention. `B` is the reference (the AGOP power
/// in NFA checks): the error conventions divide by `‖B‖_F`.
///
/// Undefined (typed, never NaN) when a denominator vanishes: `‖A‖·‖B‖` or
/// `‖B‖` below `1e-300`, or a centred norm below `1e-14` of its uncentred
/// norm for Pearson.
pub fn similarity(
    kind: Similarity,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
) -> Result<f64, MetricError> {
    same_shape("similarity", a, b)?;
    check_finite("similarity operand A", a)?;
    check_finite("similarity operand B", b)?;
    let s = pair_stats(a, b);
    let (na, nb) = (s.aa.sqrt(), s.bb.sqrt());
    let zero = |which| MetricError::Undefined(Undefined::ZeroMatrix { which });
    match kind {
        Similarity::Cosine => {
            if na < ABSOLUTE_ZERO {
                return Err(zero("A"));
            }
            if nb < ABSOLUTE_ZERO {
                return Err(zero("B"));
            }
            Ok((s.ab / na / nb).clamp(-1.0, 1.0))
        }
        Similarity::Pearson => pearson_from_sums(s.ab_c, s.aa_c.sqrt(), s.bb_c.sqrt(), na, nb),
        Similarity::RelErr => {
            if nb < ABSOLUTE_ZERO {
                return Err(zero("B"));
            }
            let diff = scaled_residual_sq(1.0, a, b);
            Ok(diff.sqrt() / nb)
        }
        Similarity::RelErrScaled => {
            if nb < ABSOLUTE_ZERO {
                return Err(zero("B"));
            }
            // min over c of ‖cA − B‖ is at c* = ⟨A,B⟩/‖A‖² (any c when A = 0,
            // where the value is ‖B‖/‖B‖ = 1). Evaluate the residual directly
            // rather than as √(1 − cos²), which cancels near 1.
            let c = if s.aa > 0.0 { s.ab / s.aa } else { 0.0 };
            let res = scaled_residual_sq(c, a, b);
            Ok(res.sqrt() / nb)
        }
    }
}

/// Pearson correlation from centred inner product and norms, with the
/// undefined cases of SPEC §1.1. `na`, `nb` are the uncentred norms, used as
/// the scale for the relative test.
pub(crate) fn pearson_from_sums(
    ab_c: f64,
    na_c: f64,
    nb_c: f64,
    na: f64,
    nb: f64,
) -> Result<f64, MetricError> {
    for (which, centred, full) in [("A", na_c, na), ("B", nb_c, nb)] {
        if full < ABSOLUTE_ZERO {
            return Err(MetricError::Undefined(Undefined::ZeroMatrix { which }));
        }
        if centred < ABSOLUTE_ZERO || centred < RELATIVE_ZERO * full {
            return Err(MetricError::Undefined(Undefined::ConstantMatrix { which }));
        }
    }
    Ok((ab_c / na_c / nb_c).clamp(-1.0, 1.0))
}
