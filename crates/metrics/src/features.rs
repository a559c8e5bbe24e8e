//! Feature matrices of a layer (SPEC §1, §2.1).
//!
//! * NFM `F_l = W_lᵀ W_l` (d_{l−1} × d_{l−1}).
//! * AGOP `G_l = (1/n) Σ_i Σ_c ∇_{a_{l−1}} f_c(x_i) ∇_{a_{l−1}} f_c(x_i)ᵀ`:
//!   mean over samples, **sum** over outputs. Never the gradient of the
//!   summed output, which for C > 1 is a different matrix.
//! * Imbalance `D_l = W_{l+1}ᵀ W_{l+1} − W_l W_lᵀ`, l = 1..L−1, conserved by
//!   gradient flow without weight decay (TMC25, Theorem A).

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use crate::MetricError;

/// Neural feature matrix `F = WᵀW` of a weight matrix `W` (d_l × d_{l−1}).
pub fn nfm(w: MatRef<'_, f64>) -> Mat<f64> {
    gram(w)
}

/// `WᵀW`, written into a fresh matrix with one product.
fn gram(w: MatRef<'_, f64>) -> Mat<f64> {
    let mut out = Mat::zeros(w.ncols(), w.ncols());
    matmul(
        out.as_mut(),
        Accum::Replace,
        w.transpose(),
        w,
        1.0,
        Par::Seq,
    );
    out
}

/// AGOP from per-sample gradients stacked as rows.
///
/// `gradients` has one row per (sample, output) pair, `∇_{a_{l−1}} f_c(x_i)ᵀ`;
/// the result is `(1/n) Σ_rows g gᵀ = (1/n) JᵀJ` with `n = n_samples`
/// (mean over samples, sum over outputs).
pub fn agop_from_gradients(
    gradients: MatRef<'_, f64>,
    n_samples: usize,
) -> Result<Mat<f64>, MetricError> {
    if n_samples == 0 {
        return Err(MetricError::InvalidArgument {
            name: "n_samples",
            value: 0.0,
            expected: "at least one sample",
        });
    }
    let mut g = gram(gradients);
    let inv_n = 1.0 / n_samples as f64;
    for j in 0..g.ncols() {
        for i in 0..g.nrows() {
            g[(i, j)] *= inv_n;
        }
    }
    Ok(g)
}

/// AGOP `G_l` of a deep linear network in closed form.
///
/// `layers` holds `W_l, W_{l+1}, …, W_L` in forward order. Every sample has
/// the same input gradient, row c of `P_l = W_L ⋯ W_l`, so the mean over
/// samples of `Σ_c ∇f_c ∇f_cᵀ` is `G_l = P_lᵀ P_l` (SPEC §2.1). With
/// `layers` = all layers this is `G_1 = PᵀP`.
pub fn agop_linear(layers: &[MatRef<'_, f64>]) -> Result<Mat<f64>, MetricError> {
    let p = end_to_end(layers)?;
    Ok(gram(p.as_ref()))
}

/// The product `W_L ⋯ W_l` of `layers = [W_l, …, W_L]` (forward order).
pub fn end_to_end(layers: &[MatRef<'_, f64>]) -> Result<Mat<f64>, MetricError> {
    let (first, rest) = layers.split_first().ok_or(MetricError::InvalidArgument {
        name: "layers",
        value: 0.0,
        expected: "at least one layer",
    })?;
    let mut p = first.to_owned();
    for w in rest {
        if w.ncols() != p.nrows() {
            return Err(MetricError::ShapeMismatch {
                what: "end_to_end (W_{l+1} cols vs W_l rows)",
                left: (w.nrows(), w.ncols()),
                right: (p.nrows(), p.ncols()),
            });
        }
        let mut next = Mat::zeros(w.nrows(), p.ncols());
        matmul(next.as_mut(), Accum::Replace, *w, p.as_ref(), 1.0, Par::Seq);
        p = next;
    }
    Ok(p)
}

/// Imbalance `D = W_nextᵀ W_next − W W ᵀ` of consecutive layers
/// `W = W_l` (d_l × d_{l−1}) and `W_next = W_{l+1}` (d_{l+1} × d_l).
pub fn imbalance(w: MatRef<'_, f64>, w_next: MatRef<'_, f64>) -> Result<Mat<f64>, MetricError> {
    if w_next.ncols() != w.nrows() {
        return Err(MetricError::ShapeMismatch {
            what: "imbalance (W_{l+1} cols vs W_l rows)",
            left: (w_next.nrows(), w_next.ncols()),
            right: (w.nrows(), w.ncols()),
        });
    }
    let mut d = gram(w_next);
    matmul(d.as_mut(), Accum::Add, w, w.transpose(), -1.0, Par::Seq);
    Ok(d)
}

/// All imbalances `D_1, …, D_{L−1}` of `layers = [W_1, …, W_L]`.
pub fn imbalances(layers: &[MatRef<'_, f64>]) -> Result<Vec<Mat<f64>>, MetricError> {
    layers
        .windows(2)
        .map(|pair| imbalance(pair[0], pair[1]))
        .collect()
}

/// `‖D_l‖_F` for l = 1..L−1 of `layers = [W_1, …, W_L]`.
pub fn imbalance_norms(layers: &[MatRef<'_, f64>]) -> Result<Vec<f64>, MetricError> {
    Ok(imbalances(layers)?.iter().map(|d| d.norm_l2()).collect())
}
