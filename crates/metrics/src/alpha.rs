//! Estimating the exponent α of the ansatz `F ∝ G^α` (SPEC §1.2).
//!
//! * `corr`: `argmax_α sim(F, G^α)` on `α ∈ [0.02, 2]` — a grid brackets the
//!   optimum, golden-section search refines it to `1e-6`.
//! * `eig`: least-squares slope of `log λ_i(F)` against `log λ_i(G)` over the
//!   eigenpairs of G above the cutoff, each matched to the eigenvector of F
//!   it overlaps most. Exact when F and G commute.
//! * `fit`: `argmin_α relerr_scaled(F, G^α)`.
//!
//! **Identifiability** (SPEC §1.2, derived): when `rank G = 1` (scalar output
//! of a deep linear network), `G^α` is the same matrix up to scale for every
//! α, so no scale-free similarity can identify α; more generally whenever G
//! has a single distinct non-zero eigenvalue. Every estimator then returns
//! [`AlphaEstimate::Unidentifiable`], not a number.
//!
//! ## The scan in the eigenbasis of G
//!
//! One eigendecomposition `G = V diag(w) Vᵀ` and one rotation `F̃ = VᵀFV`
//! make every further exponent O(d) ([`AlphaScan`]):
//! `⟨F, G^α⟩ = Σ_i w_i^α F̃_ii`, `‖G^α‖² = Σ_i w_i^{2α}`,
//! `1ᵀG^α1 = Σ_i w_i^α (v_iᵀ1)²` (for Pearson), and
//! `‖cF − G^α‖² = c² Σ_{(i,j)∉diag(S)} F̃_ij² + Σ_{i∈S} (cF̃_ii − w_i^α)²`
//! with S the support of G — free of the cancellation in `1 − cos²`.

use std::fmt;

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use crate::frobenius::zip_columns;
use crate::psd::{Cutoff, PsdEigen};
use crate::similarity::{ABSOLUTE_ZERO, Similarity, pearson_from_sums};
use crate::{MetricError, Undefined};

/// Why α cannot be identified from (F, G).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unidentifiable {
    /// Numerical rank of the AGOP G.
    pub rank: usize,
}

impl fmt::Display for Unidentifiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rank == 1 {
            write!(
                f,
                "unidentifiable: rank(AGOP) = 1, so G^α is the same matrix up to scale for every α"
            )
        } else {
            write!(
                f,
                "unidentifiable: the AGOP has one distinct non-zero eigenvalue (rank {}), so G^α is the same up to scale for every α",
                self.rank
            )
        }
    }
}

/// Outcome of an α estimator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AlphaEstimate {
    /// α was identified.
    Identified {
        /// The estimate.
        alpha: f64,
        /// The estimator's objective at `alpha`: the similarity for `corr`,
        /// `relerr_scaled` for `fit`, the rms log-residual for `eig`.
        objective: f64,
    },
    /// No scale-free comparison can identify α from these matrices.
    Unidentifiable(Unidentifiable),
}

impl AlphaEstimate {
    /// The estimate, if identified.
    pub fn value(&self) -> Option<f64> {
        match self {
            AlphaEstimate::Identified { alpha, .. } => Some(*alpha),
            AlphaEstimate::Unidentifiable(_) => None,
        }
    }
}

/// The three α estimators of SPEC §1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlphaEstimator {
    /// `argmax_α sim(F, G^α)` (default similarity: cosine).
    Corr,
    /// Log-log slope of matched eigenvalues.
    Eig,
    /// `argmin_α relerr_scaled(F, G^α)`.
    Fit,
}

impl AlphaEstimator {
    /// All estimators, in report order.
    pub const ALL: [AlphaEstimator; 3] = [
        AlphaEstimator::Corr,
        AlphaEstimator::Eig,
        AlphaEstimator::Fit,
    ];

    /// Name used in reports and configs.
    pub fn name(self) -> &'static str {
        match self {
            AlphaEstimator::Corr => "corr",
            AlphaEstimator::Eig => "eig",
            AlphaEstimator::Fit => "fit",
        }
    }
}

/// Settings shared by the estimators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlphaOptions {
    /// Similarity maximised (or minimised, for error conventions) by `corr`.
    pub similarity: Similarity,
    /// Search interval for `corr` and `fit`.
    pub range: (f64, f64),
    /// Width of the final golden-section bracket.
    pub tolerance: f64,
    /// Number of grid points that bracket the optimum.
    pub grid: usize,
    /// Relative eigenvalue cutoff for G (and F in `eig`); `None` = `n·ε_mach`.
    pub cutoff: Option<Cutoff>,
}

impl Default for AlphaOptions {
    fn default() -> Self {
        AlphaOptions {
            similarity: Similarity::Cosine,
            range: (0.02, 2.0),
            tolerance: 1e-6,
            grid: 100,
            cutoff: None,
        }
    }
}

/// Precomputed eigenbasis data that makes `sim(F, G^α)` O(d) per exponent.
#[derive(Debug, Clone)]
pub struct AlphaScan {
    /// Non-zero eigenvalues of G.
    w: Vec<f64>,
    /// `F̃_ii` on the support of G.
    f_diag: Vec<f64>,
    /// `(v_iᵀ1)²` on the support of G.
    ones_sq: Vec<f64>,
    /// `Σ F̃_ij²` over all entries except the support diagonal.
    rest_sq: f64,
    /// `‖F‖_F²`.
    f_sq: f64,
    /// Centred `‖F − mean(F)·J‖_F²`.
    f_centred_sq: f64,
    /// Mean entry of F.
    f_mean: f64,
    /// Number of entries d².
    count: f64,
    /// Numerical rank of G.
    rank: usize,
    /// `max ln w − min ln w` on the support.
    log_spread: f64,
}

impl AlphaScan {
    /// One eigendecomposition of `g` (the AGOP) and one rotation of `f` (the
    /// NFM) into its eigenbasis. Neither input is modified.
    pub fn new(
        f: MatRef<'_, f64>,
        g: MatRef<'_, f64>,
        cutoff: Cutoff,
    ) -> Result<Self, MetricError> {
        crate::frobenius::same_shape("alpha scan (NFM vs AGOP)", f, g)?;
        crate::frobenius::check_finite("NFM", f)?;
        let eig = PsdEigen::new(g, cutoff, "AGOP")?;
        let d = f.nrows();
        let v = eig.vectors.as_ref();
        let mut fv = Mat::zeros(d, d);
        matmul(fv.as_mut(), Accum::Replace, f, v, 1.0, Par::Seq);
        let mut ft = Mat::zeros(d, d);
        matmul(
            ft.as_mut(),
            Accum::Replace,
            v.transpose(),
            fv.as_ref(),
            1.0,
            Par::Seq,
        );

        let support: Vec<usize> = eig.support().collect();
        // Σ F̃_ij² over all entries but the support diagonal, summed without
        // subtracting (so it stays accurate when F̃ is nearly diagonal).
        let sq = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>();
        let mut rest_sq = 0.0;
        for j in 0..d {
            let col = ft.col_as_slice(j);
            rest_sq += if eig.values[j] > 0.0 {
                sq(&col[..j]) + sq(&col[j + 1..])
            } else {
                sq(col)
            };
        }
        let (mut f_sq, mut f_sum) = (0.0, 0.0);
        zip_columns(f, f, |x, _| {
            f_sq += x.iter().map(|v| v * v).sum::<f64>();
            f_sum += x.iter().sum::<f64>();
        });
        let count = (d * d) as f64;
        let f_mean = f_sum / count;
        let mut f_centred_sq = 0.0;
        zip_columns(f, f, |x, _| {
            f_centred_sq += x.iter().map(|v| (v - f_mean) * (v - f_mean)).sum::<f64>()
        });
        let w: Vec<f64> = support.iter().map(|&i| eig.values[i]).collect();
        let ones_sq = support
            .iter()
            .map(|&i| {
                let s: f64 = (0..d).map(|r| v[(r, i)]).sum();
                s * s
            })
            .collect();
        let log_spread = match (w.first(), w.last()) {
            (Some(lo), Some(hi)) => hi.ln() - lo.ln(),
            _ => 0.0,
        };
        Ok(AlphaScan {
            f_diag: support.iter().map(|&i| ft[(i, i)]).collect(),
            w,
            ones_sq,
            rest_sq,
            f_sq,
            f_centred_sq,
            f_mean,
            count,
            rank: eig.rank,
            log_spread,
        })
    }

    /// The `fit` estimator on this scan, `argmin_α relerr_scaled(F, G^α)`
    /// ([`estimate_alpha`] with [`AlphaEstimator::Fit`] and the scan's
    /// cutoff), for callers that also need the scan's similarities: one
    /// eigendecomposition serves both.
    pub fn fit(&self, options: &AlphaOptions) -> Result<AlphaEstimate, MetricError> {
        check_nonzero(self)?;
        self.optimise(Similarity::RelErrScaled, options)
    }

    /// Numerical rank of the AGOP.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// `Some` when α cannot be identified: rank ≤ 1, or a single distinct
    /// eigenvalue on the support (relative spread below `1e-12`, where
    /// `w_i^α` differ by round-off only).
    pub fn unidentifiable(&self) -> Option<Unidentifiable> {
        (self.rank == 1 || (self.rank > 1 && self.log_spread < 1e-12))
            .then_some(Unidentifiable { rank: self.rank })
    }

    /// `sim(F, G^α)` in O(d).
    pub fn similarity(&self, kind: Similarity, alpha: f64) -> Result<f64, MetricError> {
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(MetricError::InvalidArgument {
                name: "alpha",
                value: alpha,
                expected: "a finite exponent ≥ 0",
            });
        }
        let zero = |which| MetricError::Undefined(Undefined::ZeroMatrix { which });
        if self.rank == 0 {
            return Err(zero("AGOP power"));
        }
        // w_i^α once: the sums below and the residual share them.
        let powers: Vec<f64> = self.w.iter().map(|w| w.powf(alpha)).collect();
        let (mut fb, mut bb, mut ones_b) = (0.0, 0.0, 0.0);
        for (k, &b) in powers.iter().enumerate() {
            fb += b * self.f_diag[k];
            bb += b * b;
            ones_b += b * self.ones_sq[k];
        }
        let nb = bb.sqrt();
        let nf = self.f_sq.sqrt();
        match kind {
            Similarity::Cosine => {
                if nf < ABSOLUTE_ZERO {
                    return Err(zero("NFM"));
                }
                Ok((fb / nf / nb).clamp(-1.0, 1.0))
            }
            Similarity::Pearson => {
                let b_mean = ones_b / self.count;
                let ab_c = fb - self.count * self.f_mean * b_mean;
                let bb_c = (bb - self.count * b_mean * b_mean).max(0.0);
                pearson_from_sums(ab_c, self.f_centred_sq.sqrt(), bb_c.sqrt(), nf, nb)
            }
            Similarity::RelErr => Ok(self.residual(1.0, &powers) / nb),
            Similarity::RelErrScaled => {
                let c = if self.f_sq > 0.0 { fb / self.f_sq } else { 0.0 };
                Ok(self.residual(c, &powers) / nb)
            }
        }
    }

    /// Chordal distance `‖F/‖F‖ − G^α/‖G^α‖‖_F` in the eigenbasis.
    fn chordal(&self, alpha: f64) -> f64 {
        let nb = self
            .w
            .iter()
            .map(|w| w.powf(2.0 * alpha))
            .sum::<f64>()
            .sqrt();
        let nf = self.f_sq.sqrt();
        let mut r = self.rest_sq / self.f_sq;
        for k in 0..self.w.len() {
            let d = self.f_diag[k] / nf - self.w[k].powf(alpha) / nb;
            r += d * d;
        }
        r.sqrt()
    }

    /// `‖cF − G^α‖_F` in the eigenbasis, from `powers` = `w_i^α`.
    fn residual(&self, c: f64, powers: &[f64]) -> f64 {
        let mut r = c * c * self.rest_sq;
        for (k, &b) in powers.iter().enumerate() {
            let d = c * self.f_diag[k] - b;
            r += d * d;
        }
        r.sqrt()
    }

    /// The best exponent of a list (max for correlations, min for errors),
    /// with its value.
    pub fn best_of(
        &self,
        kind: Similarity,
        alphas: &[f64],
    ) -> Result<Option<(f64, f64)>, MetricError> {
        let mut best: Option<(f64, f64)> = None;
        for &a in alphas {
            let s = self.similarity(kind, a)?;
            let better = match best {
                None => true,
                Some((_, b)) => {
                    (kind.higher_is_better() && s > b) || (!kind.higher_is_better() && s < b)
                }
            };
            if better {
                best = Some((a, s));
            }
        }
        Ok(best)
    }

    /// Grid bracketing then golden-section search for the best α of `kind`
    /// on `options.range`, refined to `options.tolerance`.
    pub fn optimise(
        &self,
        kind: Similarity,
        options: &AlphaOptions,
    ) -> Result<AlphaEstimate, MetricError> {
        if let Some(u) = self.unidentifiable() {
            return Ok(AlphaEstimate::Unidentifiable(u));
        }
        let (lo, hi) = options.range;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi) {
            return Err(MetricError::InvalidArgument {
                name: "range",
                value: lo,
                expected: "0 ≤ lo < hi, both finite",
            });
        }
        // The objective to maximise. Cosine is maximised through the chordal
        // distance ‖F/‖F‖ − G^α/‖G^α‖‖ = √(2 − 2cos), evaluated without the
        // cancellation in 1 − cos: near a flat maximum, cos itself cannot
        // resolve α below ~√(ε_mach / curvature).
        let sign = if kind.higher_is_better() { 1.0 } else { -1.0 };
        let objective = |x: f64| match kind {
            Similarity::Cosine => Ok(-self.chordal(x)),
            _ => self.similarity(kind, x).map(|s| sign * s),
        };
        // Bracket the optimum on a grid, then refine by golden section.
        let m = options.grid.max(3);
        let grid: Vec<f64> = (0..m)
            .map(|k| lo + (hi - lo) * k as f64 / (m - 1) as f64)
            .collect();
        let mut k = 0;
        let mut best = f64::NEG_INFINITY;
        for (i, &x) in grid.iter().enumerate() {
            let v = objective(x)?;
            if v > best {
                best = v;
                k = i;
            }
        }
        let a0 = grid[k];
        let (mut a, mut b) = (grid[k.saturating_sub(1)], grid[(k + 1).min(m - 1)]);
        let invphi = (5f64.sqrt() - 1.0) / 2.0;
        let mut c = b - invphi * (b - a);
        let mut d = a + invphi * (b - a);
        let (mut fc, mut fd) = (objective(c)?, objective(d)?);
        while (b - a).abs() > options.tolerance {
            if fc > fd {
                b = d;
                d = c;
                fd = fc;
                c = b - invphi * (b - a);
                fc = objective(c)?;
            } else {
                a = c;
                c = d;
                fc = fd;
                d = a + invphi * (b - a);
                fd = objective(d)?;
            }
        }
        let x = 0.5 * (a + b);
        let alpha = if objective(x)? >= objective(a0)? {
            x
        } else {
            a0
        };
        Ok(AlphaEstimate::Identified {
            alpha,
            objective: self.similarity(kind, alpha)?,
        })
    }
}

/// Estimate α in `F ∝ G^α` with the chosen estimator (SPEC §1.2).
///
/// `f` is the NFM, `g` the AGOP; neither is modified. Returns
/// [`AlphaEstimate::Unidentifiable`] when rank(G) = 1 (or G has one distinct
/// non-zero eigenvalue), and [`MetricError::Undefined`] when G is zero.
pub fn estimate_alpha(
    f: MatRef<'_, f64>,
    g: MatRef<'_, f64>,
    estimator: AlphaEstimator,
    options: &AlphaOptions,
) -> Result<AlphaEstimate, MetricError> {
    let cutoff = options.cutoff.unwrap_or_else(|| Cutoff::for_dim(g.nrows()));
    match estimator {
        AlphaEstimator::Corr => {
            let scan = AlphaScan::new(f, g, cutoff)?;
            check_nonzero(&scan)?;
            scan.optimise(options.similarity, options)
        }
        AlphaEstimator::Fit => AlphaScan::new(f, g, cutoff)?.fit(options),
        AlphaEstimator::Eig => alpha_eig(f, g, cutoff),
    }
}

fn check_nonzero(scan: &AlphaScan) -> Result<(), MetricError> {
    if scan.rank == 0 {
        return Err(MetricError::Undefined(Undefined::ZeroMatrix {
            which: "AGOP",
        }));
    }
    if scan.f_sq.sqrt() < ABSOLUTE_ZERO {
        return Err(MetricError::Undefined(Undefined::ZeroMatrix {
            which: "NFM",
        }));
    }
    Ok(())
}

/// `eig` estimator: match each eigenvector of G on its support to the
/// eigenvector of F with the largest overlap `|u_jᵀ v_i|`, then fit
/// `ln μ_j = α ln w_i + c` by least squares.
fn alpha_eig(
    f: MatRef<'_, f64>,
    g: MatRef<'_, f64>,
    cutoff: Cutoff,
) -> Result<AlphaEstimate, MetricError> {
    crate::frobenius::same_shape("alpha eig (NFM vs AGOP)", f, g)?;
    let eg = PsdEigen::new(g, cutoff, "AGOP")?;
    let ef = PsdEigen::new(f, cutoff, "NFM")?;
    if eg.rank == 0 {
        return Err(MetricError::Undefined(Undefined::ZeroMatrix {
            which: "AGOP",
        }));
    }
    if ef.rank == 0 {
        return Err(MetricError::Undefined(Undefined::ZeroMatrix {
            which: "NFM",
        }));
    }
    let support: Vec<usize> = eg.support().collect();
    let (lo, hi) = (
        eg.values[support[0]],
        eg.values[*support.last().expect("rank > 0")],
    );
    if eg.rank == 1 || hi.ln() - lo.ln() < 1e-12 {
        return Ok(AlphaEstimate::Unidentifiable(Unidentifiable {
            rank: eg.rank,
        }));
    }
    let d = f.nrows();
    let mut overlap = Mat::zeros(d, d);
    matmul(
        overlap.as_mut(),
        Accum::Replace,
        ef.vectors.transpose(),
        eg.vectors.as_ref(),
        1.0,
        Par::Seq,
    );
    let mut points = Vec::with_capacity(support.len());
    for &i in &support {
        let j = (0..d)
            .max_by(|&p, &q| overlap[(p, i)].abs().total_cmp(&overlap[(q, i)].abs()))
            .expect("d > 0");
        if ef.values[j] > 0.0 {
            points.push((eg.values[i].ln(), ef.values[j].ln()));
        }
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if points.len() < 2 || sxx.sqrt() < 1e-12 {
        return Ok(AlphaEstimate::Unidentifiable(Unidentifiable {
            rank: eg.rank,
        }));
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let alpha = sxy / sxx;
    let rms = (points
        .iter()
        .map(|p| (p.1 - my - alpha * (p.0 - mx)).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    Ok(AlphaEstimate::Identified {
        alpha,
        objective: rms,
    })
}
