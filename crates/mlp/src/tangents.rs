//! Per-sample pre-activation gradients, the pre-activation tangent kernel
//! (PTK) and the per-layer AGOP (SPEC §1, BMA24).
//!
//! For a block of b samples, stack the gradients of every output c and
//! sample i as rows (ordered by c, then i): `S_L = I_C ⊗ 1_b`
//! (`∇_{h_L} f_c = e_c`), the input gradients of layer l are
//! `J_l = S_l W_l` (rows `∇_{a_{l−1}} f_c(x_i)ᵀ`), and
//! `S_{l−1} = φ'(H_{l−1}) ⊙ J_l`. Then
//!
//! * `K_l = Σ_blocks S_lᵀ S_l` (d_l × d_l; summed over samples and outputs,
//!   as BMA24's code), accumulated as a symmetric rank-k update of one
//!   triangle and mirrored at the end;
//! * `G_l = W_lᵀ K_l W_l / n` (chain rule; [`tangents`], [`agop_from_ptk`]);
//! * and, the independent computation, `G_l = (1/n) Σ_blocks J_lᵀ J_l`
//!   from the per-sample input gradients (mean over samples, sum over
//!   outputs; [`agop_from_input_gradients`]).
//!
//! Cost per block: `C·b·d_l·d_{l−1}` multiply-adds for each `J_l` (l ≥ 2
//! for [`tangents`]), `C·b·d_l(d_l+1)/2` for each `K_l` update and, for the
//! input-gradient AGOP, `C·b·d_{l−1}(d_{l−1}+1)/2`; the chain-rule AGOP adds
//! `d_l²d_{l−1} + d_l d_{l−1}²` per layer, independent of n; memory `C·b·max d_l` per layer, so the
//! block size bounds it independently of n. Blocks run in parallel with
//! rayon and are summed in block order (bit-identical results for any
//! thread count).

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatMut, MatRef, Par, get_global_parallelism};
use rayon::prelude::*;

use crate::network::{Architecture, Forward, MlpError, forward};

/// PTK and AGOP of every layer on a data set.
#[derive(Debug, Clone)]
pub struct LayerTangents {
    /// `K_l`, l = 1..L (index l − 1).
    pub ptk: Vec<Mat<f64>>,
    /// `G_l = W_lᵀK_lW_l/n`, l = 1..L.
    pub agop: Vec<Mat<f64>>,
    /// Number of samples n.
    pub samples: usize,
}

/// The stacked pre-activation gradients `S_l` (C·b × d_l, rows ordered by
/// output then sample) of the rows of `x`, l = 1..L, passed to `visit`
/// together with the input gradients `J_l = S_l W_l`.
fn visit_gradients(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    par: Par,
    first_layer_j: bool,
    mut visit: impl FnMut(usize, MatRef<'_, f64>, MatRef<'_, f64>),
) -> Result<(), MlpError> {
    let fwd = forward(arch, params, x)?;
    let depth = arch.depth();
    let (b, c) = (x.nrows(), arch.widths[depth]);
    let rows = c * b;
    // Two buffers, reused layer after layer: S_l lives in one, J_l = S_l W_l
    // is written into the other and becomes S_{l−1} in place.
    let width = arch.widths.iter().copied().max().unwrap_or(0);
    let mut bufs = [
        Mat::<f64>::zeros(rows, width),
        Mat::<f64>::zeros(rows, width),
    ];
    for r in 0..rows {
        bufs[0][(r, r / b)] = 1.0;
    }
    let (mut cur, mut s_cols) = (0usize, c);
    for l in (0..depth).rev() {
        let (first, second) = bufs.split_at_mut(1);
        let (src, dst) = if cur == 0 {
            (&first[0], &mut second[0])
        } else {
            (&second[0], &mut first[0])
        };
        let s = src.as_ref().subcols(0, s_cols);
        if l == 0 && !first_layer_j {
            // J_1 = S_1 W_1 only feeds the input-gradient AGOP.
            visit(l, s, Mat::<f64>::zeros(0, 0).as_ref());
            break;
        }
        let j_cols = arch.widths[l];
        let mut j = dst.as_mut().subcols_mut(0, j_cols);
        matmul(j.as_mut(), Accum::Replace, s, params[l].as_ref(), 1.0, par);
        visit(l, s, j.as_ref());
        if l > 0 {
            scale_by_derivative(arch, j.as_mut(), &fwd.pre[l - 1]);
            cur = 1 - cur;
            s_cols = j_cols;
        }
    }
    Ok(())
}

/// `J ← φ'(H) ⊙ J` for stacked rows (output c, sample i at row `c·b + i`):
/// φ'(H) is evaluated once per sample and applied to each output's rows.
fn scale_by_derivative(arch: &Architecture, mut j: MatMut<'_, f64>, h: &Mat<f64>) {
    let b = h.nrows();
    let mut dphi = vec![0.0; b];
    for col in 0..j.ncols() {
        for (d, &hv) in dphi.iter_mut().zip(h.col_as_slice(col)) {
            *d = arch.activation.derivative(hv);
        }
        let column = j
            .as_mut()
            .col_mut(col)
            .try_as_col_major_mut()
            .expect("owned columns are contiguous")
            .as_slice_mut();
        for chunk in column.chunks_exact_mut(b) {
            for (v, d) in chunk.iter_mut().zip(&dphi) {
                *v *= d;
            }
        }
    }
}

/// The forward pass and the per-sample pre-activation gradients
/// `∇_{h_l} f_c(x_i)` of every layer: element l − 1 of the gradients is the
/// (C·n × d_l) matrix whose row `c·n + i` is `∇_{h_l} f_c(x_i)ᵀ`, computed by
/// `S_{l−1} = φ'(H_{l−1}) ⊙ (S_l W_l)` directly into its output. Memory
/// grows with n: prefer [`tangents`] for kernels of large data sets.
pub fn forward_and_gradients(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<(Forward, Vec<Mat<f64>>), MlpError> {
    let fwd = forward(arch, params, x)?;
    let depth = arch.depth();
    let (n, c) = (x.nrows(), arch.widths[depth]);
    let par = get_global_parallelism();
    let mut s = Mat::<f64>::zeros(c * n, c);
    for r in 0..c * n {
        s[(r, r / n)] = 1.0;
    }
    let mut grads = Vec::with_capacity(depth);
    for l in (1..depth).rev() {
        let mut next = Mat::<f64>::zeros(c * n, arch.widths[l]);
        matmul(
            next.as_mut(),
            Accum::Replace,
            s.as_ref(),
            params[l].as_ref(),
            1.0,
            par,
        );
        scale_by_derivative(arch, next.as_mut(), &fwd.pre[l - 1]);
        grads.push(std::mem::replace(&mut s, next));
    }
    grads.push(s);
    grads.reverse();
    Ok((fwd, grads))
}

/// Per-sample pre-activation gradients `∇_{h_l} f_c(x_i)` for every layer
/// (the second part of [`forward_and_gradients`]).
pub fn pre_activation_gradients(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Vec<Mat<f64>>, MlpError> {
    Ok(forward_and_gradients(arch, params, x)?.1)
}

/// Sum over sample blocks of per-layer symmetric Gram matrices of the
/// stacked pre-activation gradients `S_l` (`which = Ptk`, d_l × d_l) or of
/// the input gradients `J_l` (`which = InputGradients`, d_{l−1} × d_{l−1}).
/// Blocks run in parallel (each single-threaded); their partial sums are
/// added in block order, so the result does not depend on the number of
/// threads.
fn block_grams(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
    which: Gram,
) -> Result<Vec<Mat<f64>>, MlpError> {
    arch.check(params)?;
    let n = x.nrows();
    if n == 0 {
        return Err(MlpError::Data("no samples".into()));
    }
    let block = block.max(1);
    let depth = arch.depth();
    let dim = |l: usize| match which {
        Gram::Ptk => arch.widths[l + 1],
        Gram::InputGradients => arch.widths[l],
    };
    let zeros = || -> Vec<Mat<f64>> { (0..depth).map(|l| Mat::zeros(dim(l), dim(l))).collect() };
    let starts: Vec<usize> = (0..n).step_by(block).collect();
    let partials: Vec<Result<Vec<Mat<f64>>, MlpError>> = starts
        .par_iter()
        .map(|&start| {
            let mut acc = zeros();
            let len = block.min(n - start);
            let first_layer_j = which == Gram::InputGradients;
            visit_gradients(
                arch,
                params,
                x.subrows(start, len),
                Par::Seq,
                first_layer_j,
                |l, s, j| match which {
                    Gram::Ptk => gram_lower(&mut acc[l], s),
                    Gram::InputGradients => gram_lower(&mut acc[l], j),
                },
            )?;
            Ok(acc)
        })
        .collect();
    let mut total = zeros();
    for part in partials {
        for (acc, m) in total.iter_mut().zip(&part?) {
            *acc += m;
        }
    }
    for m in &mut total {
        mirror_lower(m);
    }
    Ok(total)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gram {
    Ptk,
    InputGradients,
}

/// `K_l` of every layer on the rows of `x` in blocks of at most `block`
/// samples, and the AGOP by the chain rule `G_l = W_lᵀK_lW_l/n` (module
/// docs). Never modifies `params`.
pub fn tangents(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
) -> Result<LayerTangents, MlpError> {
    let ptk = block_grams(arch, params, x, block, Gram::Ptk)?;
    let n = x.nrows();
    let agop = ptk
        .iter()
        .zip(params)
        .map(|(k, w)| agop_from_ptk(w.as_ref(), k.as_ref(), n))
        .collect();
    Ok(LayerTangents {
        ptk,
        agop,
        samples: n,
    })
}

/// The AGOP of every layer from the per-sample input gradients,
/// `G_l = (1/n)Σ_blocks J_lᵀJ_l` — the computation that does not go through
/// the PTK, for checking [`tangents`].
pub fn agop_from_input_gradients(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
) -> Result<Vec<Mat<f64>>, MlpError> {
    let mut g = block_grams(arch, params, x, block, Gram::InputGradients)?;
    for m in &mut g {
        *m *= faer::Scale(1.0 / x.nrows() as f64);
    }
    Ok(g)
}

/// `dst_lower += (MᵀM)_lower`: a symmetric rank-k update of one triangle,
/// half the work of the full product.
fn gram_lower(dst: &mut Mat<f64>, m: MatRef<'_, f64>) {
    triangular::matmul(
        dst.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Add,
        m.transpose(),
        BlockStructure::Rectangular,
        m,
        BlockStructure::Rectangular,
        1.0,
        Par::Seq,
    );
}

/// Copy the lower triangle onto the upper one.
fn mirror_lower(m: &mut Mat<f64>) {
    for j in 0..m.ncols() {
        for i in 0..j {
            m[(i, j)] = m[(j, i)];
        }
    }
}

/// The second computation of the AGOP: `G_l = W_lᵀ K_l W_l / n`.
pub fn agop_from_ptk(w: MatRef<'_, f64>, ptk: MatRef<'_, f64>, samples: usize) -> Mat<f64> {
    let mut kw = Mat::zeros(ptk.nrows(), w.ncols());
    matmul(kw.as_mut(), Accum::Replace, ptk, w, 1.0, Par::Seq);
    let mut g = Mat::zeros(w.ncols(), w.ncols());
    matmul(
        g.as_mut(),
        Accum::Replace,
        w.transpose(),
        kw.as_ref(),
        1.0 / samples as f64,
        Par::Seq,
    );
    g
}
