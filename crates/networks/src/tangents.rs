//! Per-sample pre-activation gradients, the pre-activation tangent kernel
//! (PTK) and the per-layer AGOP (SPEC §1, BMA24).
//!
//! For a panel of b samples, stack the gradients of every output c and
//! sample i as rows (ordered by c, then i): `S_L = I_C ⊗ 1_b`
//! (`∇_{h_L} f_c = e_c`), the input gradients of layer l are
//! `J_l = S_l W_l` (rows `∇_{a_{l−1}} f_c(x_i)ᵀ`), and
//! `S_{l−1} = φ'(H_{l−1}) ⊙ J_l`. Then
//!
//! * `K_l = Σ_panels S_lᵀ S_l` (d_l × d_l; summed over samples and outputs,
//!   as BMA24's code), accumulated as a symmetric rank-k update of one
//!   triangle and mirrored at the end;
//! * `G_l = W_lᵀ K_l W_l / n` (chain rule; [`tangents`](fn@tangents), [`agop_from_ptk`]);
//! * and, the independent computation, `G_l = (1/n) Σ_panels J_lᵀ J_l`
//!   from the per-sample input gradients (mean over samples, sum over
//!   outputs; [`agop_from_input_gradients`]).
//!
//! Cost per panel: `C·b·d_l·d_{l−1}` multiply-adds for each `J_l` (l ≥ 2
//! for [`tangents`](fn@tangents)), `C·b·d_l(d_l+1)/2` for each `K_l` update and, for the
//! input-gradient AGOP, `C·b·d_{l−1}(d_{l−1}+1)/2`; the chain-rule AGOP adds
//! `d_l²d_{l−1} + d_l d_{l−1}²` per layer, independent of n.
//!
//! Work is split twice. Blocks of the caller's `block` samples run in
//! parallel with rayon, each single-threaded, and their partial sums are
//! added in block order (bit-identical results for any thread count).
//! Inside a block, panels of b samples (C·b × max d_l f64s, about 512 KiB:
//! `PANEL_BYTES`) go through two gradient buffers allocated once per
//! block, so that each `S_l` is still in cache for its Gram update and its
//! product right after the φ' scaling that produced it. Memory: two
//! buffers and `Σ_l d_l²` partial sums per running block (as many blocks at
//! a time as threads), independent of n.

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::activation::Activation;
use crate::network::{Architecture, Forward, NetworkError, forward};

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

/// Two (C·b_max × max d_l) buffers for [`accumulate_grams`], reused from
/// one sample panel to the next.
struct GradientBuffers([Mat<f64>; 2]);

impl GradientBuffers {
    fn new(arch: &Architecture, samples: usize) -> Self {
        let rows = arch.widths[arch.depth()] * samples;
        let width = arch.widths.iter().copied().max().unwrap_or(0);
        Self([Mat::zeros(rows, width), Mat::zeros(rows, width)])
    }
}

/// `acc[l − 1] += (S_lᵀS_l)_lower` (`which = Ptk`) or `(J_lᵀJ_l)_lower`
/// (`which = InputGradients`) for the rows of `x`, l = 1..L, with the
/// stacked pre-activation gradients `S_l` (C·b × d_l, rows ordered by output
/// then sample) and `J_l = S_l W_l`. `bufs` must hold at least C·b rows.
fn accumulate_grams(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    which: Gram,
    bufs: &mut GradientBuffers,
    acc: &mut [Mat<f64>],
) -> Result<(), NetworkError> {
    let fwd = forward(arch, params, x, Par::Seq)?;
    let depth = arch.depth();
    let (b, c) = (x.nrows(), arch.widths[depth]);
    let rows = c * b;
    // S_l lives in one buffer, J_l = S_l W_l is written into the other and
    // becomes S_{l−1} in place. S_L = I_C ⊗ 1_b.
    let [first, second] = &mut bufs.0;
    let (mut s_buf, mut j_buf) = (first.as_mut(), second.as_mut());
    let mut s_last = s_buf.rb_mut().submatrix_mut(0, 0, rows, c);
    s_last.fill(0.0);
    for r in 0..rows {
        s_last[(r, r / b)] = 1.0;
    }
    let mut s_cols = c;
    for l in (0..depth).rev() {
        let s = s_buf.rb().submatrix(0, 0, rows, s_cols);
        if which == Gram::Ptk {
            // Right after the φ' scaling that produced it, S_l is still in
            // cache: its Gram goes first.
            gram_lower(&mut acc[l], s);
            if l == 0 {
                break;
            }
        }
        let j_cols = arch.widths[l];
        let mut j = j_buf.rb_mut().submatrix_mut(0, 0, rows, j_cols);
        matmul(
            j.rb_mut(),
            Accum::Replace,
            s,
            params[l].as_ref(),
            1.0,
            Par::Seq,
        );
        if which == Gram::InputGradients {
            gram_lower(&mut acc[l], j.rb());
        }
        if l > 0 {
            scale_by_derivative(arch, j, fwd.pre[l - 1].as_ref());
            std::mem::swap(&mut s_buf, &mut j_buf);
            s_cols = j_cols;
        }
    }
    Ok(())
}

/// `J ← φ'(H) ⊙ J` for stacked rows (output c, sample i at row `c·b + i`):
/// φ'(H) is evaluated once per sample and applied to each output's rows.
fn scale_by_derivative(arch: &Architecture, mut j: MatMut<'_, f64>, h: MatRef<'_, f64>) {
    let b = h.nrows();
    let mut dphi = vec![0.0; b];
    for col in 0..j.ncols() {
        let hcol = h
            .col(col)
            .try_as_col_major()
            .expect("owned columns are contiguous")
            .as_slice();
        derivatives(arch.activation, hcol, &mut dphi);
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

/// `out_i = φ'(h_i)`, with the match on the activation outside the loop so
/// that the piecewise-linear cases compile to branch-free vector selects
/// (a per-element branch on the sign of a pre-activation mispredicts half
/// the time).
fn derivatives(activation: Activation, h: &[f64], out: &mut [f64]) {
    match activation {
        Activation::Relu => {
            for (o, &v) in out.iter_mut().zip(h) {
                *o = if v > 0.0 { 1.0 } else { 0.0 };
            }
        }
        Activation::LeakyRelu { slope } => {
            for (o, &v) in out.iter_mut().zip(h) {
                *o = if v > 0.0 { 1.0 } else { slope };
            }
        }
        other => {
            for (o, &v) in out.iter_mut().zip(h) {
                *o = other.derivative(v);
            }
        }
    }
}

/// The forward pass and the per-sample pre-activation gradients
/// `∇_{h_l} f_c(x_i)` of every layer: element l − 1 of the gradients is the
/// (C·n × d_l) matrix whose row `c·n + i` is `∇_{h_l} f_c(x_i)ᵀ`, computed by
/// `S_{l−1} = φ'(H_{l−1}) ⊙ (S_l W_l)` directly into its output, every
/// product with parallelism `par`. Memory grows with n: prefer
/// [`tangents`](fn@tangents) for the PTK of large data sets, and blocks of
/// samples for kernels.
pub fn forward_and_gradients(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    par: Par,
) -> Result<(Forward, Vec<Mat<f64>>), NetworkError> {
    let fwd = forward(arch, params, x, par)?;
    let depth = arch.depth();
    let (n, c) = (x.nrows(), arch.widths[depth]);
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
        scale_by_derivative(arch, next.as_mut(), fwd.pre[l - 1].as_ref());
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
    par: Par,
) -> Result<Vec<Mat<f64>>, NetworkError> {
    Ok(forward_and_gradients(arch, params, x, par)?.1)
}

/// Sum over sample blocks of per-layer symmetric Gram matrices of the
/// stacked pre-activation gradients `S_l` (`which = Ptk`, d_l × d_l) or of
/// the input gradients `J_l` (`which = InputGradients`, d_{l−1} × d_{l−1}).
/// Blocks run in parallel (each single-threaded, in panels: module docs);
/// their partial sums are added in block order, so the result does not
/// depend on the number of threads.
fn block_grams(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
    which: Gram,
) -> Result<Vec<Mat<f64>>, NetworkError> {
    arch.check(params)?;
    let n = x.nrows();
    if n == 0 {
        return Err(NetworkError::Data("no samples".into()));
    }
    let block = block.max(1);
    let depth = arch.depth();
    let dim = |l: usize| match which {
        Gram::Ptk => arch.widths[l + 1],
        Gram::InputGradients => arch.widths[l],
    };
    let zeros = || -> Vec<Mat<f64>> { (0..depth).map(|l| Mat::zeros(dim(l), dim(l))).collect() };
    let starts: Vec<usize> = (0..n).step_by(block).collect();
    let panel_max = panel_samples(arch);
    let mut total = zeros();
    // As many blocks at a time as there are threads, so that the partial
    // sums held at once do not grow with n; each group's partial sums are
    // added in block order, so the total does not depend on the grouping.
    for group in starts.chunks(rayon::current_num_threads().max(1)) {
        let partials: Vec<Result<Vec<Mat<f64>>, NetworkError>> = group
            .par_iter()
            .map(|&start| {
                let mut acc = zeros();
                let len = block.min(n - start);
                let panel = panel_max.min(len);
                let mut bufs = GradientBuffers::new(arch, panel);
                for offset in (0..len).step_by(panel) {
                    let rows = x.subrows(start + offset, panel.min(len - offset));
                    accumulate_grams(arch, params, rows, which, &mut bufs, &mut acc)?;
                }
                Ok(acc)
            })
            .collect();
        for part in partials {
            for (acc, m) in total.iter_mut().zip(&part?) {
                *acc += m;
            }
        }
    }
    for m in &mut total {
        mirror_lower(m);
    }
    Ok(total)
}

/// Bytes of one stacked-gradient buffer (C·panel × max d_l f64s): a panel
/// of samples small enough that `S_l`, `J_l` and the φ' scaling between
/// them stay in a core's L2 cache (1–2 MiB on current x86 cores), large
/// enough for the products to run at full GEMM speed.
const PANEL_BYTES: usize = 1 << 19;

/// Stacked rows per panel are rounded down to a multiple of this: the row
/// count of faer's widest f64 GEMM microkernel (48 with AVX-512; a
/// multiple of the 8-, 16- and 24-row kernels), so that no product runs a
/// partly empty edge tile.
const PANEL_ROW_MULTIPLE: usize = 48;

/// Samples per panel: [`PANEL_BYTES`] rounded down so that C·panel is a
/// multiple of [`PANEL_ROW_MULTIPLE`], when that leaves at least one
/// multiple; at least one sample. Measured on the `ptk_agop` bench (C = 10,
/// width 256, blocks of 256 samples): 24-sample panels (240 rows) run at
/// 192–197 Gflop/s, 25-sample panels (250 rows) at 181–186, whole blocks at
/// 158–163.
fn panel_samples(arch: &Architecture) -> usize {
    let outputs = arch.widths[arch.depth()].max(1);
    let width = arch.widths.iter().copied().max().unwrap_or(1).max(1);
    let fit = (PANEL_BYTES / (outputs * width * std::mem::size_of::<f64>())).max(1);
    let step = PANEL_ROW_MULTIPLE / gcd(outputs, PANEL_ROW_MULTIPLE);
    if fit >= step { fit - fit % step } else { fit }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
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
) -> Result<LayerTangents, NetworkError> {
    let ptk = block_grams(arch, params, x, block, Gram::Ptk)?;
    let n = x.nrows();
    // One independent, single-threaded product chain per layer.
    let agop = ptk
        .par_iter()
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
/// the PTK, for checking [`tangents`](fn@tangents).
pub fn agop_from_input_gradients(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
) -> Result<Vec<Mat<f64>>, NetworkError> {
    let mut g = block_grams(arch, params, x, block, Gram::InputGradients)?;
    for m in &mut g {
        *m *= faer::Scale(1.0 / x.nrows() as f64);
    }
    Ok(g)
}

/// `dst_lower += (MᵀM)_lower`: a symmetric rank-k update of one triangle,
/// half the work of the full product.
pub(crate) fn gram_lower(dst: &mut Mat<f64>, m: MatRef<'_, f64>) {
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
pub(crate) fn mirror_lower(m: &mut Mat<f64>) {
    for j in 0..m.ncols() {
        for i in 0..j {
            m[(i, j)] = m[(j, i)];
        }
    }
}

/// The second computation of the AGOP: `G_l = W_lᵀ K_l W_l / n`, made
/// exactly symmetric (the lower triangle mirrored): the two products leave
/// an asymmetry of round-off size relative to the largest entries of
/// `W_l`, which for a network whose gradients cancel large terms (the
/// sign-mixed quadratic network at c = 32: 1.6e-10 relative) is far above
/// `ε` relative to `G_l` itself.
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
    mirror_lower(&mut g);
    g
}
