//! Arithmetic on parameter lists `θ = (W_1, …, W_L)`.
//!
//! The element-wise loops run inside [`pulp::Arch::dispatch`], compiled for
//! the widest vector unit the CPU has; no loop reduces across elements, so
//! the results are the same bits on every CPU.

use faer::Mat;

/// Zero matrices with the shapes of `like`.
pub fn zeros_like(like: &[Mat<f64>]) -> Vec<Mat<f64>> {
    like.iter()
        .map(|m| Mat::zeros(m.nrows(), m.ncols()))
        .collect()
}

/// `y ← y + a·x`.
pub fn axpy(y: &mut [Mat<f64>], a: f64, x: &[Mat<f64>]) {
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            for (ym, xm) in y.iter_mut().zip(x) {
                for j in 0..ym.ncols() {
                    let (yc, xc) = (ym.col_as_slice_mut(j), xm.col_as_slice(j));
                    for (yi, xi) in yc.iter_mut().zip(xc) {
                        *yi += a * xi;
                    }
                }
            }
        },
    )
}

/// `y ← s·y`.
pub fn scale(y: &mut [Mat<f64>], s: f64) {
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            for ym in y.iter_mut() {
                for j in 0..ym.ncols() {
                    for yi in ym.col_as_slice_mut(j) {
                        *yi *= s;
                    }
                }
            }
        },
    )
}

/// `y ← x` (shapes must match).
pub fn copy(y: &mut [Mat<f64>], x: &[Mat<f64>]) {
    for (ym, xm) in y.iter_mut().zip(x) {
        ym.copy_from(xm);
    }
}

/// True when every entry is finite.
pub fn all_finite(x: &[Mat<f64>]) -> bool {
    // Non-finite iff every exponent bit is set (±∞, NaN): an integer OR
    // over the entries, which the compiler vectorises, unlike an early-exit
    // `all` over `is_finite`.
    const EXPONENT: u64 = 0x7ff0_0000_0000_0000;
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            x.iter().all(|m| {
                (0..m.ncols()).all(|j| {
                    let bad = m.col_as_slice(j).iter().fold(0u64, |acc, v| {
                        acc | u64::from(v.to_bits() & EXPONENT == EXPONENT)
                    });
                    bad == 0
                })
            })
        },
    )
}

/// `Σ_l ‖W_l‖_F²`.
pub fn squared_norm(x: &[Mat<f64>]) -> f64 {
    x.iter().map(|m| m.squared_norm_l2()).sum()
}
