//! Kernel alignments (SPEC §5–6; ABP22, SB21).
//!
//! * kernel–target alignment `A(K, Y) = ⟨K, YYᵀ⟩_F / (‖K‖_F ‖YYᵀ‖_F)`,
//!   which for one target column is ABP22's `yᵀKy / (‖K‖_F ‖y‖²)`;
//! * centred alignment: the same with `HKH` and `HY`, `H = I − 11ᵀ/n`;
//! * kernel–kernel alignment `⟨K_1, K_2⟩_F / (‖K_1‖_F ‖K_2‖_F)`;
//! * top-k eigenfunction alignment: the fraction `Σ_{i≤k} ‖v_iᵀY‖² / ‖Y‖_F²`
//!   of the target's energy in the k leading eigenvectors of K;
//! * specialisation matrix `S_{cc'} = A(K_c, y_{c'})` (SB21).
//!
//! A zero kernel or target makes a ratio undefined: a typed
//! [`MetricError::Undefined`], never NaN.

use faer::{Mat, MatRef, Par};
use metrics::{Cutoff, MetricError, PsdEigen, Undefined, frobenius_inner};

/// Norms below this are treated as zero (the metrics crate's convention).
const ZERO_NORM: f64 = 1e-300;

fn check_kernel(what: &'static str, k: MatRef<'_, f64>) -> Result<(), MetricError> {
    if k.nrows() != k.ncols() {
        return Err(MetricError::NotSquare {
            what,
            rows: k.nrows(),
            cols: k.ncols(),
        });
    }
    check_finite(what, k)
}

fn check_finite(what: &'static str, m: MatRef<'_, f64>) -> Result<(), MetricError> {
    if m.has_nan() || !m.is_all_finite() {
        return Err(MetricError::NonFinite { what });
    }
    Ok(())
}

fn check_target(k: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<(), MetricError> {
    if y.nrows() != k.nrows() {
        return Err(MetricError::ShapeMismatch {
            what: "kernel–target alignment (kernel rows vs target rows)",
            left: (k.nrows(), k.ncols()),
            right: (y.nrows(), y.ncols()),
        });
    }
    check_finite("target", y)
}

fn nonzero(what: &'static str, norm: f64) -> Result<f64, MetricError> {
    if norm < ZERO_NORM {
        Err(MetricError::Undefined(Undefined::ZeroMatrix {
            which: what,
        }))
    } else {
        Ok(norm)
    }
}

/// `AB`, sequential: these metrics give the same bits on any number of
/// threads.
fn product(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    common::linalg::product(a, b, Par::Seq)
}

/// Uncentred kernel–target alignment `⟨K, YYᵀ⟩_F / (‖K‖_F ‖YYᵀ‖_F)`
/// (ABP22) of an n×n kernel and an n×m target.
pub fn kernel_target_alignment(k: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<f64, MetricError> {
    check_kernel("kernel", k)?;
    check_target(k, y)?;
    let k_norm = nonzero("kernel", k.norm_l2())?;
    let yty = product(y.transpose(), y);
    let y_norm = nonzero("target", yty.norm_l2())?;
    let ky = product(k, y);
    Ok(frobenius_inner(ky.as_ref(), y)? / (k_norm * y_norm))
}

/// `HMH` for a square M, or `HM` (column centring) when `both` is false.
fn centre(m: MatRef<'_, f64>, both: bool) -> Mat<f64> {
    let (rows, cols) = (m.nrows(), m.ncols());
    let col_mean: Vec<f64> = (0..cols)
        .map(|j| m.col(j).iter().sum::<f64>() / rows as f64)
        .collect();
    let mut out = Mat::from_fn(rows, cols, |i, j| m[(i, j)] - col_mean[j]);
    if both {
        for i in 0..rows {
            let mean = (0..cols).map(|j| out[(i, j)]).sum::<f64>() / cols as f64;
            for j in 0..cols {
                out[(i, j)] -= mean;
            }
        }
    }
    out
}

/// Centred kernel–target alignment `A(HKH, HY)`.
pub fn centered_kernel_target_alignment(
    k: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
) -> Result<f64, MetricError> {
    check_kernel("kernel", k)?;
    check_target(k, y)?;
    kernel_target_alignment(centre(k, true).as_ref(), centre(y, false).as_ref()).map_err(
        |e| match e {
            MetricError::Undefined(Undefined::ZeroMatrix { which }) => {
                MetricError::Undefined(Undefined::ConstantMatrix { which })
            }
            other => other,
        },
    )
}

/// Kernel–kernel alignment `⟨K_1, K_2⟩_F / (‖K_1‖_F ‖K_2‖_F)`.
pub fn kernel_alignment(k1: MatRef<'_, f64>, k2: MatRef<'_, f64>) -> Result<f64, MetricError> {
    check_kernel("first kernel", k1)?;
    check_kernel("second kernel", k2)?;
    let inner = frobenius_inner(k1, k2)?;
    let n1 = nonzero("first kernel", k1.norm_l2())?;
    let n2 = nonzero("second kernel", k2.norm_l2())?;
    Ok(inner / (n1 * n2))
}

/// Fraction of the target's energy `‖Y‖_F²` in the span of the k leading
/// eigenvectors of the PSD kernel K (eigenvalues in decreasing order;
/// `k` is clamped to n).
pub fn top_k_alignment(
    kernel: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    k: usize,
) -> Result<f64, MetricError> {
    check_kernel("kernel", kernel)?;
    check_target(kernel, y)?;
    let y_norm2 = nonzero("target", y.norm_l2())?.powi(2);
    let eig = PsdEigen::new(kernel, Cutoff(0.0), "kernel")?;
    let n = kernel.nrows();
    let mut energy = 0.0;
    // Eigenvalues are ascending: the leading ones are the last columns.
    for idx in (n.saturating_sub(k)..n).rev() {
        let proj = product(eig.vectors.col(idx).transpose().as_mat(), y);
        energy += proj.norm_l2().powi(2);
    }
    Ok(energy / y_norm2)
}

/// SB21's specialisation matrix `S_{cc'} = A(K_c, y_{c'})` for per-output
/// kernels `K_c` (n × n) and targets `Y` (n × C, one column per output).
pub fn specialisation_matrix(
    kernels: &[Mat<f64>],
    y: MatRef<'_, f64>,
) -> Result<Mat<f64>, MetricError> {
    alignment_matrix(kernels, y, kernel_target_alignment)
}

/// The specialisation matrix with centred alignment,
/// `S_{cc'} = A(HK_cH, Hy_{c'})`.
pub fn centered_specialisation_matrix(
    kernels: &[Mat<f64>],
    y: MatRef<'_, f64>,
) -> Result<Mat<f64>, MetricError> {
    alignment_matrix(kernels, y, centered_kernel_target_alignment)
}

/// `S_{cc'} = align(K_c, y_{c'})`.
fn alignment_matrix(
    kernels: &[Mat<f64>],
    y: MatRef<'_, f64>,
    align: fn(MatRef<'_, f64>, MatRef<'_, f64>) -> Result<f64, MetricError>,
) -> Result<Mat<f64>, MetricError> {
    if kernels.len() != y.ncols() {
        return Err(MetricError::ShapeMismatch {
            what: "specialisation matrix (kernels vs target columns)",
            left: (kernels.len(), 1),
            right: (y.nrows(), y.ncols()),
        });
    }
    let c = kernels.len();
    let mut s = Mat::zeros(c, c);
    for (i, kernel) in kernels.iter().enumerate() {
        for j in 0..c {
            s[(i, j)] = align(kernel.as_ref(), y.subcols(j, 1))?;
        }
    }
    Ok(s)
}

/// A specialisation matrix is square with at least two outputs.
fn check_specialisation(s: MatRef<'_, f64>) -> Result<(), MetricError> {
    if s.nrows() != s.ncols() || s.nrows() < 2 {
        return Err(MetricError::NotSquare {
            what: "specialisation matrix (needs at least 2 outputs)",
            rows: s.nrows(),
            cols: s.ncols(),
        });
    }
    Ok(())
}

/// Per-row diagonal margins of a square matrix, `S_cc − max_{c'≠c} S_cc'`
/// (pass `Sᵀ` for the column margins `S_cc − max_{c'≠c} S_c'c`).
pub fn diagonal_margins(s: MatRef<'_, f64>) -> Result<Vec<f64>, MetricError> {
    check_specialisation(s)?;
    let c = s.nrows();
    Ok((0..c)
        .map(|i| {
            let off = (0..c)
                .filter(|&j| j != i)
                .map(|j| s[(i, j)])
                .fold(f64::NEG_INFINITY, f64::max);
            s[(i, i)] - off
        })
        .collect())
}

/// Diagonal contrast of a square matrix: the mean of its diagonal minus
/// the mean of its off-diagonal entries, `mean_c S_cc − mean_{c≠c'} S_cc'`
/// (SPEC §8). Its no-specialisation value is 0: when every output shares
/// one kernel up to scale, `S_cc' = s_c'` in every row, and the diagonal
/// and the off-diagonal entries average the same `s`. It equals
/// `C/(C−1)` times the mean diagonal of the double-centred S.
pub fn diagonal_contrast(s: MatRef<'_, f64>) -> Result<f64, MetricError> {
    check_specialisation(s)?;
    let c = s.nrows();
    let (mut diagonal, mut off) = (0.0, 0.0);
    for i in 0..c {
        for j in 0..c {
            if i == j {
                diagonal += s[(i, j)];
            } else {
                off += s[(i, j)];
            }
        }
    }
    Ok(diagonal / c as f64 - off / (c * (c - 1)) as f64)
}

/// Diagonal excess of a square matrix: the smallest of its
/// [`diagonal_margins`], `min_c (S_cc − max_{c'≠c} S_cc')` (positive when
/// every row is diagonally dominant; SB21's specialisation).
pub fn diagonal_excess(s: MatRef<'_, f64>) -> Result<f64, MetricError> {
    Ok(diagonal_margins(s)?
        .into_iter()
        .fold(f64::INFINITY, f64::min))
}
