//! Frobenius inner products and norms, `⟨A, B⟩_F = Σ_ij A_ij B_ij`.

use faer::MatRef;

use crate::MetricError;

/// `⟨A, B⟩_F`. Errors when the shapes differ.
pub fn frobenius_inner(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Result<f64, MetricError> {
    same_shape("frobenius_inner", a, b)?;
    let mut acc = 0.0;
    zip_columns(a, b, |x, y| {
        acc += x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>()
    });
    Ok(acc)
}

/// Call `f` on each pair of columns `(A_{:,j}, B_{:,j})` as slices, copying
/// a column into scratch only when it is not contiguous (a transposed or
/// strided view). Shapes must match.
pub(crate) fn zip_columns(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    mut f: impl FnMut(&[f64], &[f64]),
) {
    let (mut sa, mut sb) = (Vec::new(), Vec::new());
    for j in 0..a.ncols() {
        let x = column(a, j, &mut sa);
        let y = column(b, j, &mut sb);
        f(x, y);
    }
}

fn column<'a>(m: MatRef<'a, f64>, j: usize, scratch: &'a mut Vec<f64>) -> &'a [f64] {
    match m.col(j).try_as_col_major() {
        Some(c) => c.as_slice(),
        None => {
            scratch.clear();
            scratch.extend(m.col(j).iter().copied());
            scratch
        }
    }
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
    let mut finite = true;
    zip_columns(a, a, |x, _| finite &= x.iter().all(|v| v.is_finite()));
    if finite {
        Ok(())
    } else {
        Err(MetricError::NonFinite { what })
    }
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
