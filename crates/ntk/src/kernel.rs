//! The empirical NTK of an MLP (SPEC §5, ABP22; per output, SB21 §6).
//!
//! For output c, `Θ_c(x, x') = ∇_θ f_c(x) · ∇_θ f_c(x')`. Since
//! `∂f_c/∂W_l = δ_{l,c} a_{l−1}ᵀ` and `∂f_c/∂b_l = δ_{l,c}` with
//! `δ_{l,c} = ∇_{h_l} f_c`, the closed form is
//!
//! `Θ_{cc'}(x, x') = Σ_l (⟨a_{l−1}(x), a_{l−1}(x')⟩ + [bias]) ⟨δ_{l,c}(x), δ_{l,c'}(x')⟩`.
//!
//! Costs, for n samples, C outputs, widths `d_0..d_L` (multiply-adds):
//!
//! * closed form ([`per_output_ntk`], [`per_output_ntk_between`]): the
//!   forward pass and the pre-activation gradients (`C·n·Σ d_l d_{l−1}`),
//!   one activation Gram `n²·d_{l−1}` per layer and one gradient Gram
//!   `n²·d_l` per layer and output, so `n²·Σ_l (d_{l−1} + C·d_l)`. Memory:
//!   the gradients `C·n·Σ d_l`, one n×n scratch and the C output kernels;
//! * full kernel ([`full_ntk`]): the same with the cross-output gradient
//!   Grams, `n²·Σ_l (d_{l−1} + C²·d_l)`, memory `(C·n)²`.
//!
//! The tests compare the closed form with `J Jᵀ` from the explicit
//! parameter Jacobian (`test-support`), assembled from the loss
//! backpropagation of [`mlp::MlpObjective`], independent of the gradient
//! recursion of [`mlp::tangents`] that the closed form uses.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, get_global_parallelism};
use mlp::{Architecture, forward_and_gradients};

use crate::NtkError;

/// Per-layer inputs `a_{l−1}` (n × d_{l−1}) and stacked pre-activation
/// gradients `δ_l` (C·n × d_l, row `c·n + i`) of a data set.
struct Tangents {
    inputs: Vec<Mat<f64>>,
    deltas: Vec<Mat<f64>>,
    samples: usize,
}

fn tangents(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Tangents, NtkError> {
    let (fwd, deltas) = forward_and_gradients(arch, params, x, get_global_parallelism())?;
    let mut inputs = Vec::with_capacity(arch.depth());
    inputs.push(x.to_owned());
    inputs.extend(fwd.post);
    Ok(Tangents {
        inputs,
        deltas,
        samples: x.nrows(),
    })
}

/// `Θ_c(X_1, X_2)` for every output c: element c is the n_1 × n_2 matrix
/// `∇_θ f_c(X_1) ∇_θ f_c(X_2)ᵀ` (closed form, module docs).
pub fn per_output_ntk_between(
    arch: &Architecture,
    params: &[Mat<f64>],
    x1: MatRef<'_, f64>,
    x2: MatRef<'_, f64>,
) -> Result<Vec<Mat<f64>>, NtkError> {
    let t1 = tangents(arch, params, x1)?;
    let t2 = tangents(arch, params, x2)?;
    Ok(per_output(arch, &t1, &t2))
}

/// `Θ_c(X, X)` for every output c (n × n each, symmetric PSD).
pub fn per_output_ntk(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Vec<Mat<f64>>, NtkError> {
    let t = tangents(arch, params, x)?;
    Ok(per_output(arch, &t, &t))
}

fn per_output(arch: &Architecture, t1: &Tangents, t2: &Tangents) -> Vec<Mat<f64>> {
    let (n1, n2) = (t1.samples, t2.samples);
    let depth = arch.depth();
    let outputs = arch.widths[depth];
    let par = get_global_parallelism();
    // Last layer: δ_L = e_c, so ⟨δ_L, δ'_L⟩ = 1 and every K_c starts as the
    // Gram of the last hidden activations (plus 1 with biases).
    let mut gram = Mat::<f64>::zeros(n1, n2);
    activation_gram(arch, t1, t2, depth - 1, &mut gram);
    let mut kernels = vec![gram.clone(); outputs];
    let mut delta_gram = Mat::<f64>::zeros(n1, n2);
    for l in 0..depth - 1 {
        activation_gram(arch, t1, t2, l, &mut gram);
        for (c, kernel) in kernels.iter_mut().enumerate() {
            matmul(
                delta_gram.as_mut(),
                Accum::Replace,
                t1.deltas[l].subrows(c * n1, n1),
                t2.deltas[l].subrows(c * n2, n2).transpose(),
                1.0,
                par,
            );
            add_hadamard(kernel, &gram, &delta_gram, 0, 0);
        }
    }
    kernels
}

/// `⟨a_{l−1}(x_i), a_{l−1}(x'_j)⟩` (+ 1 with biases) into `gram` (index l = layer − 1).
fn activation_gram(
    arch: &Architecture,
    t1: &Tangents,
    t2: &Tangents,
    l: usize,
    gram: &mut Mat<f64>,
) {
    matmul(
        gram.as_mut(),
        Accum::Replace,
        t1.inputs[l].as_ref(),
        t2.inputs[l].transpose(),
        1.0,
        get_global_parallelism(),
    );
    if arch.bias {
        for j in 0..gram.ncols() {
            for v in gram.col_as_slice_mut(j) {
                *v += 1.0;
            }
        }
    }
}

/// `K[r0 + i, c0 + j] += A_ij B_ij`, column by column.
pub(crate) fn add_hadamard(k: &mut Mat<f64>, a: &Mat<f64>, b: &Mat<f64>, r0: usize, c0: usize) {
    let rows = a.nrows();
    for j in 0..a.ncols() {
        let dst = &mut k.col_as_slice_mut(c0 + j)[r0..r0 + rows];
        for ((d, &p), &q) in dst.iter_mut().zip(a.col_as_slice(j)).zip(b.col_as_slice(j)) {
            *d += p * q;
        }
    }
}

/// The full empirical NTK `Θ_{cc'}(x_i, x_j)` as a (C·n) × (C·n) matrix,
/// row and column `c·n + i` (closed form, module docs).
pub fn full_ntk(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Mat<f64>, NtkError> {
    let t = tangents(arch, params, x)?;
    let n = t.samples;
    let outputs = arch.widths[arch.depth()];
    let par = get_global_parallelism();
    let mut kernel = Mat::<f64>::zeros(outputs * n, outputs * n);
    let mut gram = Mat::<f64>::zeros(n, n);
    let mut delta_gram = Mat::<f64>::zeros(n, n);
    for l in 0..arch.depth() {
        activation_gram(arch, &t, &t, l, &mut gram);
        for c in 0..outputs {
            for c2 in 0..outputs {
                matmul(
                    delta_gram.as_mut(),
                    Accum::Replace,
                    t.deltas[l].subrows(c * n, n),
                    t.deltas[l].subrows(c2 * n, n).transpose(),
                    1.0,
                    par,
                );
                add_hadamard(&mut kernel, &gram, &delta_gram, c * n, c2 * n);
            }
        }
    }
    Ok(kernel)
}

/// The (c, c) block of a full (C·n) × (C·n) NTK such as [`full_ntk`]'s.
pub fn output_block(full: MatRef<'_, f64>, samples: usize, c: usize) -> Mat<f64> {
    full.submatrix(c * samples, c * samples, samples, samples)
        .to_owned()
}
