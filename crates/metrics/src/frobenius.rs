//! Frobenius inner products and norms, `⟨A, B⟩_F = Σ_ij A_ij B_ij`.

use faer::MatRef;

use crate::MetricError;

/// `⟨A, B⟩_F`. Errors when the shapes differ.
pub fn frobenius_inner(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Result<f64, MetricError> {
    same_shape("frobenius_inner", a, b)?;
    let mut acc = 0.0;
    for j in 0..a.ncols() {
        let s: f64 = a.col(j).transpose() * b.col(j);
        acc += s;
    }
    Ok(acc)
}

/// `‖A‖_F`, computed by faer with scaling against overflow.
pub fn frobenius_norm(a: MatRef<'_, f64>) -> f64 {
    a.norm_l2()
}

pub(crate) fn same_shape(
    what: &'static str,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
) -> Result<(), MetricError> {
    if a.nrows() != b.nrows() || a.ncols() != b.ncols() {
        return Err(MetricError::ShapeMismatch {
            what,
            left: (a.nrows(), a.ncols()),
            right: (b.nrows(), b.ncols()),
        });
    }
    Ok(())
}

pub(crate) fn check_finite(what: &'static str, a: MatRef<'_, f64>) -> Result<(), MetricError> {
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            if !a[(i, j)].is_finite() {
                return Err(MetricError::NonFinite { what });
            }
        }
    }
    Ok(())
}

pub(crate) fn check_square(what: &'static str, a: MatRef<'_, f64>) -> Result<(), MetricError> {
    if a.nrows() != a.ncols() {
        return Err(MetricError::NotSquare {
            what,
            rows: a.nrows(),
            cols: a.ncols(),
        });
    }
    Ok(())
}
