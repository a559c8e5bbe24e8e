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
//! * `G_l = (1/n) Σ_blocks J_lᵀ J_l` (mean over samples, sum over outputs);
//! * and, the second computation, `G_l = W_lᵀ K_l W_l / n`
//!   ([`agop_from_ptk`]).
//!
//! Cost per block: `C·b·d_l·d_{l−1}` multiply-adds for each `J_l`,
//! `C·b·d_l(d_l+1)/2` for each `K_l` update and `C·b·d_{l−1}(d_{l−1}+1)/2`
//! for each AGOP update; memory `C·b·max d_l` per layer, so the
//! block size bounds it independently of n. Blocks run in parallel with
//! rayon and are summed in block order (bit-identical results for any
//! thread count).

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatRef, Par, get_global_parallelism};
use rayon::prelude::*;

use crate::network::{Architecture, MlpError, forward};

/// Per-layer (PTK, AGOP) accumulators.
type Kernels = (Vec<Mat<f64>>, Vec<Mat<f64>>);

/// PTK and AGOP of every layer on a data set.
#[derive(Debug, Clone)]
pub struct LayerTangents {
    /// `K_l`, l = 1..L (index l − 1).
    pub ptk: Vec<Mat<f64>>,
    /// `G_l` from per-sample input gradients, l = 1..L.
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
    mut visit: impl FnMut(usize, &Mat<f64>, &Mat<f64>),
) -> Result<(), MlpError> {
    let fwd = forward(arch, params, x)?;
    let depth = arch.depth();
    let (b, c) = (x.nrows(), arch.widths[depth]);
    let mut s = Mat::from_fn(c * b, c, |r, k| if r / b == k { 1.0 } else { 0.0 });
    for l in (0..depth).rev() {
        let mut j = Mat::zeros(c * b, arch.widths[l]);
        matmul(
            j.as_mut(),
            Accum::Replace,
            s.as_ref(),
            params[l].as_ref(),
            1.0,
            par,
        );
        visit(l, &s, &j);
        if l > 0 {
            // φ'(H_{l−1}) once per sample, applied to each output's rows.
            let h = &fwd.pre[l - 1];
            let mut dphi = vec![0.0; b];
            for col in 0..j.ncols() {
                for (d, &hv) in dphi.iter_mut().zip(h.col_as_slice(col)) {
                    *d = arch.activation.derivative(hv);
                }
                for chunk in j.col_as_slice_mut(col).chunks_exact_mut(b) {
                    for (v, d) in chunk.iter_mut().zip(&dphi) {
                        *v *= d;
                    }
                }
            }
            s = j;
        }
    }
    Ok(())
}

/// Per-sample pre-activation gradients `∇_{h_l} f_c(x_i)` for every layer:
/// element l − 1 is the (C·n × d_l) matrix whose row `c·n + i` is
/// `∇_{h_l} f_c(x_i)ᵀ`. Memory grows with n: prefer [`tangents`] for
/// kernels of large data sets.
pub fn pre_activation_gradients(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Vec<Mat<f64>>, MlpError> {
    let mut out: Vec<Option<Mat<f64>>> = vec![None; arch.depth()];
    visit_gradients(arch, params, x, get_global_parallelism(), |l, s, _| {
        out[l] = Some(s.clone())
    })?;
    Ok(out
        .into_iter()
        .map(|m| m.expect("every layer visited"))
        .collect())
}

/// `K_l` and `G_l` of every layer on the rows of `x`, in blocks of at most
/// `block` samples (module docs). Never modifies `params`.
pub fn tangents(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
) -> Result<LayerTangents, MlpError> {
    arch.check(params)?;
    let n = x.nrows();
    if n == 0 {
        return Err(MlpError::Data("no samples".into()));
    }
    let block = block.max(1);
    let depth = arch.depth();
    let zeros = || -> Kernels {
        (
            (1..=depth)
                .map(|l| Mat::zeros(arch.widths[l], arch.widths[l]))
                .collect(),
            (0..depth)
                .map(|l| Mat::zeros(arch.widths[l], arch.widths[l]))
                .collect(),
        )
    };
    // Blocks run in parallel (each single-threaded); their partial sums are
    // added in block order, so the result does not depend on the number of
    // threads.
    let starts: Vec<usize> = (0..n).step_by(block).collect();
    let partials: Vec<Result<Kernels, MlpError>> = starts
        .par_iter()
        .map(|&start| {
            let (mut ptk, mut agop) = zeros();
            let len = block.min(n - start);
            visit_gradients(arch, params, x.subrows(start, len), Par::Seq, |l, s, j| {
                gram_lower(&mut ptk[l], s);
                gram_lower(&mut agop[l], j);
            })?;
            Ok((ptk, agop))
        })
        .collect();
    let (mut ptk, mut agop) = zeros();
    for part in partials {
        let (p, a) = part?;
        for (acc, m) in ptk.iter_mut().zip(&p).chain(agop.iter_mut().zip(&a)) {
            *acc += m;
        }
    }
    for k in &mut ptk {
        mirror_lower(k);
    }
    for g in &mut agop {
        mirror_lower(g);
        *g *= faer::Scale(1.0 / n as f64);
    }
    Ok(LayerTangents {
        ptk,
        agop,
        samples: n,
    })
}

/// `dst_lower += (MᵀM)_lower`: a symmetric rank-k update of one triangle,
/// half the work of the full product.
fn gram_lower(dst: &mut Mat<f64>, m: &Mat<f64>) {
    triangular::matmul(
        dst.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Add,
        m.transpose(),
        BlockStructure::Rectangular,
        m.as_ref(),
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
