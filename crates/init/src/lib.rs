//! Initialisations of a stack of weight matrices `W_1, …, W_L` with
//! `W_l ∈ R^{d_l × d_{l−1}}` (SPEC §2.3).
//!
//! * **Balanced** (TMC25): draw `A = U S Vᵀ ∈ R^{C×d}` truncated to rank r,
//!   orthonormal `Q_l ∈ R^{d_l×r}`, and set `W_1 = Q_1 S^{1/L} Vᵀ`,
//!   `W_l = Q_l S^{1/L} Q_{l−1}ᵀ`, `W_L = U S^{1/L} Q_{L−1}ᵀ`. Then
//!   `W_{l+1}ᵀW_{l+1} = Q_l S^{2/L} Q_lᵀ = W_l W_lᵀ`, i.e. every imbalance
//!   `D_l = 0`, and the end-to-end matrix is `W_L⋯W_1 = U S Vᵀ = A`.
//!   Needs every hidden width `d_l ≥ r`.
//! * **Gaussian**: i.i.d. `N(0, σ_l²/d_{l−1})` entries, σ per network or per
//!   layer.
//! * **Orthogonal**: `W_l = g·Q` with Q having orthonormal columns (or rows,
//!   whichever is shorter).
//! * **Small** (ABP22): the Gaussian scheme in the small-initialisation
//!   regime `0 < σ ≤ 0.1`, where the silent-alignment asymptotics apply.
//! * **Uniform**: i.i.d. `U(−g/√d_{l−1}, g/√d_{l−1})` entries; with g = 1
//!   this is PyTorch's default `nn.Linear` init (`kaiming_uniform_` with
//!   `a = √5`: bound `√(6/((1 + a²) d_{l−1})) = 1/√d_{l−1}`), the init of
//!   BMA24's public code (SPEC §8).
//!
//! Every scheme reports the initial imbalance norms `‖D_l(0)‖_F`.
#![warn(missing_docs)]

use common::gaussian_matrix;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// An initialisation scheme.
#[derive(Debug, Clone, PartialEq)]
pub enum InitScheme {
    /// Balanced init with end-to-end matrix `A` of rank `rank`, where `A`
    /// has i.i.d. `N(0, scale²/d)` entries before truncation.
    Balanced {
        /// Scale of the end-to-end matrix A.
        scale: f64,
        /// Rank r of A (1 ≤ r ≤ min(C, d)); `None` = min(C, d).
        rank: Option<usize>,
    },
    /// Gaussian `N(0, σ_l²/d_{l−1})`.
    Gaussian {
        /// One σ per layer (length L), or a single σ for all layers.
        sigma: Vec<f64>,
    },
    /// Scaled semi-orthogonal layers.
    Orthogonal {
        /// Gain g.
        gain: f64,
    },
    /// Small Gaussian init (ABP22), `0 < σ ≤ 0.1`.
    Small {
        /// σ.
        sigma: f64,
    },
    /// Uniform `U(−g/√d_{l−1}, g/√d_{l−1})` (g = 1: PyTorch's default).
    Uniform {
        /// Gain g.
        gain: f64,
    },
}

/// Errors of the initialisations; the message names the offending field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InitError {
    /// The widths do not describe a network.
    #[error("widths: {0}")]
    Widths(String),
    /// A hidden width is smaller than the rank the balanced init needs.
    #[error(
        "widths: hidden width d_{layer} = {width} is smaller than the balanced rank r = {rank}"
    )]
    WidthBelowRank {
        /// Hidden layer index l (1-based).
        layer: usize,
        /// Its width d_l.
        width: usize,
        /// The rank r.
        rank: usize,
    },
    /// A scheme parameter is out of range.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending parameter.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// An initialised network with its initial imbalance.
#[derive(Debug, Clone)]
pub struct Initialised {
    /// `W_1, …, W_L`.
    pub weights: Vec<Mat<f64>>,
    /// `‖D_l(0)‖_F` for l = 1..L−1 (empty for weights that do not chain
    /// as fully connected layers, such as convolutions).
    pub imbalance: Vec<f64>,
}

impl Initialised {
    /// `max_l ‖D_l(0)‖_F` (0 for a single layer).
    pub fn max_imbalance(&self) -> f64 {
        self.imbalance.iter().copied().fold(0.0, f64::max)
    }
}

fn invalid(field: &'static str, message: String) -> InitError {
    InitError::Invalid { field, message }
}

fn positive(field: &'static str, v: f64) -> Result<(), InitError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(field, format!("must be finite and > 0, got {v}")))
    }
}

impl InitScheme {
    /// Check the scheme's own parameters for a network of `depth` layers.
    pub fn validate(&self, depth: usize) -> Result<(), InitError> {
        match self {
            InitScheme::Balanced { scale, rank } => {
                positive("init.scale", *scale)?;
                if *rank == Some(0) {
                    return Err(invalid("init.rank", "must be at least 1".into()));
                }
                Ok(())
            }
            InitScheme::Gaussian { sigma } => {
                if sigma.len() != 1 && sigma.len() != depth {
                    return Err(invalid(
                        "init.sigma",
                        format!("needs 1 or depth = {depth} values, got {}", sigma.len()),
                    ));
                }
                sigma.iter().try_for_each(|&s| positive("init.sigma", s))
            }
            InitScheme::Orthogonal { gain } | InitScheme::Uniform { gain } => {
                positive("init.gain", *gain)
            }
            InitScheme::Small { sigma } => {
                positive("init.sigma", *sigma)?;
                if *sigma > 0.1 {
                    return Err(invalid(
                        "init.sigma",
                        format!("small init needs σ ≤ 0.1, got {sigma}"),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Initialise `W_1..W_L` for `widths = [d_0, d_1, …, d_L]` with `rng` (the
/// caller's seeded init stream).
pub fn initialise(
    widths: &[usize],
    scheme: &InitScheme,
    rng: &mut ChaCha8Rng,
) -> Result<Initialised, InitError> {
    if widths.len() < 2 {
        return Err(InitError::Widths(format!(
            "need at least input and output widths (depth ≥ 1), got {} entries",
            widths.len()
        )));
    }
    if let Some(k) = widths.iter().position(|&w| w == 0) {
        return Err(InitError::Widths(format!("d_{k} must be at least 1")));
    }
    let depth = widths.len() - 1;
    scheme.validate(depth)?;
    let weights = match scheme {
        InitScheme::Balanced { scale, rank } => balanced(widths, *scale, *rank, rng)?,
        _ => {
            let shapes: Vec<(usize, usize)> = widths.windows(2).map(|w| (w[1], w[0])).collect();
            initialise_shapes(&shapes, scheme, rng)?
        }
    };
    let imbalance = metrics::imbalance_norms(&common::views(&weights))
        .expect("consecutive layers of an initialised network have matching shapes");
    Ok(Initialised { weights, imbalance })
}

/// Initialise weight matrices of the given `(rows, cols)` shapes layer by
/// layer, each with fan-in `cols` (`d_{l−1}` of a linear layer,
/// `k_in·h·w` of a convolution's flattened filter bank): every scheme but
/// `balanced`, which needs a chain of fully connected layers.
pub fn initialise_shapes(
    shapes: &[(usize, usize)],
    scheme: &InitScheme,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Mat<f64>>, InitError> {
    scheme.validate(shapes.len())?;
    let fan_in = |cols: usize| (cols as f64).sqrt();
    Ok(match scheme {
        InitScheme::Balanced { .. } => {
            return Err(invalid(
                "init.kind",
                "balanced needs a chain of fully connected layers".into(),
            ));
        }
        InitScheme::Gaussian { sigma } => shapes
            .iter()
            .enumerate()
            .map(|(l, &(rows, cols))| {
                let s = if sigma.len() == 1 { sigma[0] } else { sigma[l] };
                scaled_gaussian(rows, cols, s / fan_in(cols), rng)
            })
            .collect(),
        InitScheme::Small { sigma } => shapes
            .iter()
            .map(|&(rows, cols)| scaled_gaussian(rows, cols, sigma / fan_in(cols), rng))
            .collect(),
        InitScheme::Uniform { gain } => shapes
            .iter()
            .map(|&(rows, cols)| {
                let bound = gain / fan_in(cols);
                Mat::from_fn(rows, cols, |_, _| bound * (2.0 * rng.random::<f64>() - 1.0))
            })
            .collect(),
        InitScheme::Orthogonal { gain } => shapes
            .iter()
            .map(|&(rows, cols)| {
                let q = if rows >= cols {
                    orthonormal_columns(rows, cols, rng)
                } else {
                    orthonormal_columns(cols, rows, rng).transpose().to_owned()
                };
                scale_mat(q, *gain)
            })
            .collect(),
    })
}

fn scale_mat(mut m: Mat<f64>, s: f64) -> Mat<f64> {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            m[(i, j)] *= s;
        }
    }
    m
}

fn scaled_gaussian(rows: usize, cols: usize, s: f64, rng: &mut ChaCha8Rng) -> Mat<f64> {
    scale_mat(gaussian_matrix(rows, cols, rng), s)
}

/// `rows × cols` matrix with orthonormal columns (`rows ≥ cols`): the thin Q
/// factor of a Gaussian matrix.
fn orthonormal_columns(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Mat<f64> {
    debug_assert!(rows >= cols);
    common::linalg::thin_q(gaussian_matrix(rows, cols, rng).as_ref(), Par::Seq)
}

fn balanced(
    widths: &[usize],
    scale: f64,
    rank: Option<usize>,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Mat<f64>>, InitError> {
    let depth = widths.len() - 1;
    let (d, c) = (widths[0], widths[depth]);
    let r = rank.unwrap_or(c.min(d));
    if r > c.min(d) {
        return Err(invalid(
            "init.rank",
            format!("must be at most min(C, d) = {}, got {r}", c.min(d)),
        ));
    }
    for (l, &w) in widths.iter().enumerate().take(depth).skip(1) {
        if w < r {
            return Err(InitError::WidthBelowRank {
                layer: l,
                width: w,
                rank: r,
            });
        }
    }
    let a = scaled_gaussian(c, d, scale / (d as f64).sqrt(), rng);
    let common::linalg::ThinSvd { u, s, v } = common::linalg::thin_svd(a.as_ref(), Par::Seq)
        .map_err(|_| {
            invalid(
                "init",
                "SVD of the end-to-end matrix did not converge".into(),
            )
        })?;
    let root: Vec<f64> = (0..r).map(|k| s[k].powf(1.0 / depth as f64)).collect();
    // M_l = (left factor) · diag(root) · (right factor)ᵀ, with the left factor
    // Q_l (or U at the top) and the right factor Q_{l−1} (or V at the bottom).
    let qs: Vec<Mat<f64>> = (1..depth)
        .map(|l| orthonormal_columns(widths[l], r, rng))
        .collect();
    let left = |l: usize| -> MatRef<'_, f64> {
        if l == depth {
            u.subcols(0, r)
        } else {
            qs[l - 1].as_ref()
        }
    };
    let right = |l: usize| -> MatRef<'_, f64> {
        if l == 1 {
            v.subcols(0, r)
        } else {
            qs[l - 2].as_ref()
        }
    };
    Ok((1..=depth)
        .map(|l| {
            let lhs = left(l);
            let scaled = Mat::from_fn(lhs.nrows(), r, |i, k| lhs[(i, k)] * root[k]);
            let rhs = right(l);
            let mut w = Mat::zeros(lhs.nrows(), rhs.nrows());
            matmul(
                w.as_mut(),
                Accum::Replace,
                scaled.as_ref(),
                rhs.transpose(),
                1.0,
                Par::Seq,
            );
            w
        })
        .collect())
}
