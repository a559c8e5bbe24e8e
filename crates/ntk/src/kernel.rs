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
//! A network with convolutions or pooling ([`Model::Sequential`]) has its
//! kernels from the per-sample parameter gradients instead,
//! `Θ_c(x, x') = ⟨∇_θ f_c(x), ∇_θ f_c(x')⟩` with a convolution's weight
//! gradient `Σ_p δ_p patch_pᵀ` (SPEC §9,
//! [`networks::sequential::tangents::parameter_gradients`]): `n²·C·P`
//! multiply-adds for P parameters, memory `C·n·P`.
//!
//! The tests compare the closed form with `J Jᵀ` from the explicit
//! parameter Jacobian (`test-support`), assembled from the loss
//! backpropagation of [`networks::MlpObjective`], independent of the gradient
//! recursion of [`networks::tangents`] that the closed form uses.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use networks::sequential::tangents::{parameter_count, parameter_gradients};
use networks::{Architecture, Sequential, forward_and_gradients};

use crate::NtkError;

/// The network whose NTK is computed.
#[derive(Debug, Clone, Copy)]
pub enum Model<'a> {
    /// A fully connected network: the closed form layer by layer.
    Mlp(&'a Architecture),
    /// A sequential network with convolutions or pooling: per-sample
    /// parameter gradients.
    Sequential(&'a Sequential),
}

impl Model<'_> {
    /// C, the number of outputs.
    pub fn outputs(&self) -> usize {
        match self {
            Model::Mlp(arch) => arch.widths[arch.depth()],
            Model::Sequential(net) => net.outputs(),
        }
    }

    /// Check the parameters against the network.
    pub fn check(&self, params: &[Mat<f64>]) -> Result<(), NtkError> {
        match self {
            Model::Mlp(arch) => arch.check(params)?,
            Model::Sequential(net) => net.check(params)?,
        }
        Ok(())
    }

    /// Values held per sample by a tile's tangents.
    pub(crate) fn held_per_sample(&self) -> u64 {
        match self {
            Model::Mlp(arch) => {
                let depth = arch.depth();
                let bias = u64::from(arch.bias);
                let sum = |w: &[usize]| w.iter().map(|&v| v as u64).sum::<u64>();
                sum(&arch.widths[..depth])
                    + depth as u64 * bias
                    + self.outputs() as u64 * sum(&arch.widths[1..depth])
            }
            Model::Sequential(net) => self.outputs() as u64 * parameter_count(net) as u64,
        }
    }
}

/// The tangents of a block of samples (rows `start..start + len` of the
/// data): the inputs `ã_{l−1}` of every layer (len × (d_{l−1} + 1) with
/// biases: a column of ones appended, so that `⟨ã, ã'⟩ = ⟨a, a'⟩ + 1`;
/// len × d_{l−1} without) and the stacked pre-activation gradients `δ_{l,c}`
/// of the hidden layers l = 1..L−1 (C·len × d_l, row `c·len + i`; the
/// output layer's `δ_{L,c} = e_c` is not stored); for a
/// [`Model::Sequential`], instead, the parameter gradients (P × C·len,
/// column `c·len + i`).
pub(crate) struct Tangents {
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) inputs: Vec<Mat<f64>>,
    pub(crate) deltas: Vec<Mat<f64>>,
    pub(crate) gradients: Option<Mat<f64>>,
}

/// The [`Tangents`] of rows `start..start + len` of `x`, every product with
/// parallelism `par`.
pub(crate) fn tangents(
    model: Model<'_>,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    (start, len): (usize, usize),
    par: Par,
) -> Result<Tangents, NtkError> {
    let rows = x.subrows(start, len);
    let arch = match model {
        Model::Mlp(arch) => arch,
        Model::Sequential(net) => {
            return Ok(Tangents {
                start,
                len,
                inputs: Vec::new(),
                deltas: Vec::new(),
                gradients: Some(parameter_gradients(net, params, rows)?),
            });
        }
    };
    let (fwd, mut deltas) = forward_and_gradients(arch, params, rows, par)?;
    deltas.pop();
    let augment = |a: MatRef<'_, f64>| {
        let d = a.ncols();
        Mat::from_fn(len, d + usize::from(arch.bias), |i, j| {
            if j < d { a[(i, j)] } else { 1.0 }
        })
    };
    let mut inputs = Vec::with_capacity(arch.depth());
    inputs.push(augment(rows));
    inputs.extend(fwd.post.iter().map(|a| augment(a.as_ref())));
    Ok(Tangents {
        start,
        len,
        inputs,
        deltas,
        gradients: None,
    })
}

/// `gram ← ã_{l−1}(A) ã_{l−1}(B)ᵀ`, layer index l − 1.
fn activation_gram(a: &Tangents, b: &Tangents, l: usize, gram: &mut Mat<f64>, par: Par) {
    matmul(
        gram.as_mut(),
        Accum::Replace,
        a.inputs[l].as_ref(),
        b.inputs[l].transpose(),
        1.0,
        par,
    );
}

/// `kernels[c] ← Θ_c(A, B)` for every output c, with `gram` and
/// `delta_gram` as scratch (all `a.len × b.len`): the output layer's
/// activation Gram (`δ_{L,c} = e_c`, the same for every output) first,
/// then each hidden layer's `Gram ⊙ ⟨δ_{l,c}, δ'_{l,c}⟩`.
pub(crate) fn kernel_blocks(
    a: &Tangents,
    b: &Tangents,
    kernels: &mut [Mat<f64>],
    gram: &mut Mat<f64>,
    delta_gram: &mut Mat<f64>,
    par: Par,
) {
    if let (Some(ga), Some(gb)) = (&a.gradients, &b.gradients) {
        for (c, k) in kernels.iter_mut().enumerate() {
            matmul(
                k.as_mut(),
                Accum::Replace,
                ga.subcols(c * a.len, a.len).transpose(),
                gb.subcols(c * b.len, b.len),
                1.0,
                par,
            );
        }
        return;
    }
    let hidden = a.deltas.len();
    activation_gram(a, b, hidden, gram, par);
    for k in kernels.iter_mut() {
        k.as_mut().copy_from(gram.as_ref());
    }
    for l in 0..hidden {
        activation_gram(a, b, l, gram, par);
        for (c, k) in kernels.iter_mut().enumerate() {
            matmul(
                delta_gram.as_mut(),
                Accum::Replace,
                a.deltas[l].subrows(c * a.len, a.len),
                b.deltas[l].subrows(c * b.len, b.len).transpose(),
                1.0,
                par,
            );
            add_hadamard(k, gram, delta_gram, 0, 0);
        }
    }
}

/// `Θ_c(X_1, X_2)` for every output c: element c is the n_1 × n_2 matrix
/// `∇_θ f_c(X_1) ∇_θ f_c(X_2)ᵀ` (closed form, module docs).
pub fn per_output_ntk_between(
    arch: &Architecture,
    params: &[Mat<f64>],
    x1: MatRef<'_, f64>,
    x2: MatRef<'_, f64>,
    par: Par,
) -> Result<Vec<Mat<f64>>, NtkError> {
    let t1 = tangents(Model::Mlp(arch), params, x1, (0, x1.nrows()), par)?;
    let t2 = tangents(Model::Mlp(arch), params, x2, (0, x2.nrows()), par)?;
    Ok(per_output(Model::Mlp(arch).outputs(), &t1, &t2, par))
}

/// `Θ_c(X, X)` for every output c (n × n each, symmetric PSD).
pub fn per_output_ntk(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    par: Par,
) -> Result<Vec<Mat<f64>>, NtkError> {
    per_output_ntk_of(Model::Mlp(arch), params, x, par)
}

/// [`per_output_ntk`] of any [`Model`].
pub fn per_output_ntk_of(
    model: Model<'_>,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    par: Par,
) -> Result<Vec<Mat<f64>>, NtkError> {
    model.check(params)?;
    let t = tangents(model, params, x, (0, x.nrows()), par)?;
    Ok(per_output(model.outputs(), &t, &t, par))
}

fn per_output(outputs: usize, t1: &Tangents, t2: &Tangents, par: Par) -> Vec<Mat<f64>> {
    let (n1, n2) = (t1.len, t2.len);
    let mut kernels = vec![Mat::<f64>::zeros(n1, n2); outputs];
    let mut gram = Mat::<f64>::zeros(n1, n2);
    let mut delta_gram = Mat::<f64>::zeros(n1, n2);
    kernel_blocks(t1, t2, &mut kernels, &mut gram, &mut delta_gram, par);
    kernels
}

/// `K[r0 + i, c0 + j] += A_ij B_ij`, column by column.
fn add_hadamard(k: &mut Mat<f64>, a: &Mat<f64>, b: &Mat<f64>, r0: usize, c0: usize) {
    let rows = a.nrows();
    for j in 0..a.ncols() {
        let dst = &mut k.col_as_slice_mut(c0 + j)[r0..r0 + rows];
        for ((d, &p), &q) in dst.iter_mut().zip(a.col_as_slice(j)).zip(b.col_as_slice(j)) {
            *d += p * q;
        }
    }
}

/// The full empirical NTK `Θ_{cc'}(x_i, x_j)` as a (C·n) × (C·n) matrix,
/// row and column `c·n + i` (closed form, module docs): the hidden layers'
/// cross-output Grams, then the output layer, whose `⟨e_c, e_c'⟩` puts its
/// activation Gram on the diagonal blocks only.
pub fn full_ntk(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    par: Par,
) -> Result<Mat<f64>, NtkError> {
    let n = x.nrows();
    let t = tangents(Model::Mlp(arch), params, x, (0, n), par)?;
    let outputs = arch.widths[arch.depth()];
    let mut kernel = Mat::<f64>::zeros(outputs * n, outputs * n);
    let mut gram = Mat::<f64>::zeros(n, n);
    let mut delta_gram = Mat::<f64>::zeros(n, n);
    for l in 0..t.deltas.len() {
        activation_gram(&t, &t, l, &mut gram, par);
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
    activation_gram(&t, &t, t.deltas.len(), &mut gram, par);
    for c in 0..outputs {
        let mut block = kernel.submatrix_mut(c * n, c * n, n, n);
        block += &gram;
    }
    Ok(kernel)
}

/// The (c, c) block of a full (C·n) × (C·n) NTK such as [`full_ntk`]'s.
pub fn output_block(full: MatRef<'_, f64>, samples: usize, c: usize) -> Mat<f64> {
    full.submatrix(c * samples, c * samples, samples, samples)
        .to_owned()
}
