//! Per-position pre-activation gradients, the PTK and the patch AGOP of
//! every parametrised layer of a [`Sequential`] network (SPEC §1, §9).
//!
//! For a panel of b samples the gradients of every output c and sample i
//! are stacked as columns (column `c·b + i`), starting from `e_c` at the
//! output and going back through the layers. At a parametrised layer
//! (index j among them) the stacked gradient is the gradient with respect
//! to the layer's pre-activation:
//!
//! * a linear layer: `S` (out × C·b); `K_j += S Sᵀ`, the input gradients
//!   `Q = W_jᵀ S` and `G_j^input += Q Qᵀ`;
//! * a convolution: its `k_out·P × C·b` gradient rearranged to
//!   `δ` (`k_out × C·b·P`, one column per output, sample and position);
//!   `K_j += δ δᵀ`, the patch gradients `Q = W_jᵀ δ` (one column per
//!   output, sample and position: the gradient with respect to that patch
//!   alone) and `G_j^input += Q Qᵀ`; the gradient with respect to the
//!   layer's input adds each patch gradient to the values its patch read
//!   (col2im).
//!
//! Then `G_j = W_jᵀ K_j W_j / n` (chain rule, the reported AGOP) and
//! `G_j^input / n` (the independent computation): the patch AGOP of SPEC
//! §9, and for a linear layer the AGOP of SPEC §1.
//!
//! Blocks of samples run in parallel (each single-threaded) and their
//! partial sums are added in block order: the same bits for any number of
//! threads. Inside a block, panels are sized so that the largest stacked
//! gradient stays under [`PANEL_BYTES`].
//!
//! The same backward pass gives RBPB22's gradient-centred AGOP
//! ([`centred_agop`]) and, for the NTK (SPEC §9), the per-sample parameter
//! gradients ([`parameter_gradients`]), their sum over samples and their
//! inner products with given vectors ([`summed_parameter_gradients`],
//! [`parameter_gradient_dots`], which never form per-sample gradients).

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;

use super::forward::{Forward, col2im, forward_columns, im2col, pool_windows};
use super::{Layer, Sequential, Shape};
use crate::NetworkError;
use crate::tangents::{agop_from_ptk, gram_lower, mirror_lower};

/// PTK and AGOP of every parametrised layer.
#[derive(Debug, Clone)]
pub struct SequentialTangents {
    /// `K_j` (out × out; for a convolution k_out × k_out), per parametrised
    /// layer in order.
    pub ptk: Vec<Mat<f64>>,
    /// `G_j = W_jᵀK_jW_j/n` (chain rule).
    pub agop: Vec<Mat<f64>>,
    /// `G_j` from the input (patch) gradients.
    pub agop_input: Vec<Mat<f64>>,
    /// n.
    pub samples: usize,
}

/// The largest stacked gradient of a panel, in bytes: panels this small
/// keep a block's working set in the tens of megabytes whatever the image
/// size (an n-independent memory bound).
pub const PANEL_BYTES: usize = 32 << 20;

/// Samples per panel (at least one): the largest stacked gradient of a
/// panel (C × the widest layer, image or patches) stays under
/// [`PANEL_BYTES`].
pub fn panel_samples(net: &Sequential) -> usize {
    let outputs = net.outputs().max(1);
    let mut widest = net.input.size();
    for k in 0..net.layers.len() {
        widest = widest.max(net.shapes[k].size());
        if let Some(g) = net.conv_geometry(k) {
            widest = widest.max(g.patch() * g.positions());
        }
    }
    (PANEL_BYTES / (8 * outputs * widest.max(1))).max(1)
}

/// `K_j`, the chain-rule AGOP and the input-gradient AGOP of every
/// parametrised layer on the rows of `x` (n × input size, NCHW rows), in
/// blocks of at most `block` samples (module docs). Never modifies
/// `params`.
pub fn sequential_tangents(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
) -> Result<SequentialTangents, NetworkError> {
    let n = checked_samples(net, params, x)?;
    let shapes = net.parameter_layers();
    let m = shapes.len();
    // K_j at index j, G_j^input at index m + j.
    let zeros = || -> Vec<Mat<f64>> {
        let ptk = shapes.iter().map(|&(_, (r, _), _)| Mat::zeros(r, r));
        let input = shapes.iter().map(|&(_, (_, c), _)| Mat::zeros(c, c));
        ptk.chain(input).collect()
    };
    let mut ptk = fold_blocks(net, params, x, block, &zeros, &|j, _, at, acc| {
        gram_lower(&mut acc[j], at.delta.transpose());
        gram_lower(&mut acc[m + j], at.input_gradients.transpose());
    });
    let mut agop_input = ptk.split_off(m);
    for g in ptk.iter_mut().chain(agop_input.iter_mut()) {
        mirror_lower(g);
    }
    for g in &mut agop_input {
        *g *= faer::Scale(1.0 / n as f64);
    }
    let weights = net.split(params);
    let agop = ptk
        .par_iter()
        .zip(&weights)
        .map(|(k, (w, _))| agop_from_ptk(w.as_ref(), k.as_ref(), n))
        .collect();
    Ok(SequentialTangents {
        ptk,
        agop,
        agop_input,
        samples: n,
    })
}

/// n, the samples of `x`, after checking that `params` and `x` fit `net`
/// and that there is at least one sample.
fn checked_samples(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<usize, NetworkError> {
    net.check(params)?;
    net.check_data(x)?;
    match x.nrows() {
        0 => Err(NetworkError::Data("no samples".into())),
        n => Ok(n),
    }
}

/// `K_j` of every parametrised layer alone (the PTK of
/// [`sequential_tangents`], without the patch AGOP's Gram matrices of
/// `k_in·h·w` rows), for measurements that need only the PTK.
pub fn sequential_ptk(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
) -> Result<Vec<Mat<f64>>, NetworkError> {
    checked_samples(net, params, x)?;
    let shapes = net.parameter_layers();
    let zeros = || -> Vec<Mat<f64>> {
        shapes
            .iter()
            .map(|&(_, (r, _), _)| Mat::zeros(r, r))
            .collect()
    };
    let mut ptk = fold_blocks(net, params, x, block, &zeros, &|j, _, at, acc| {
        gram_lower(&mut acc[j], at.delta.transpose());
    });
    for k in &mut ptk {
        mirror_lower(k);
    }
    Ok(ptk)
}

/// What the backward pass holds at parametrised layer j, for a panel of b
/// samples and C outputs (R = C·b stacked columns, column `c·b + i`).
pub(crate) struct AtLayer<'a> {
    /// The gradient with respect to the pre-activation: `out × R` for a
    /// linear layer, `k_out × R·P` (column `r·P + p`) for a convolution.
    pub(crate) delta: MatRef<'a, f64>,
    /// The gradient with respect to the layer's input (`in × R`) or to each
    /// patch alone (`k_in·h·w × R·P`): `W_jᵀ δ`.
    pub(crate) input_gradients: MatRef<'a, f64>,
    /// The layer's input, one column per sample (`in × b`), or for a
    /// convolution its patches (`k_in·h·w × b·P`, column `i·P + p`).
    pub(crate) input: MatRef<'a, f64>,
    /// P (1 for a linear layer).
    pub(crate) positions: usize,
}

/// The forward pass of the columns of `x`, then the stacked gradients from
/// `e_c` at the output back to the first parametrised layer, calling
/// `visit(j, …)` at each parametrised layer j, last to first (module
/// docs).
pub(crate) fn backward(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    visit: &mut dyn FnMut(usize, AtLayer<'_>),
) {
    let fwd = forward_columns(net, params, x, Par::Seq);
    let (b, outputs) = (x.ncols(), net.outputs());
    let mut seed = Mat::<f64>::zeros(outputs, outputs * b);
    for r in 0..outputs * b {
        seed[(r / b, r)] = 1.0;
    }
    backward_from(net, params, x, &fwd, seed, visit);
}

/// The backward pass from `seed`, the gradients with respect to the
/// outputs (`C × R`, R a multiple of the b samples of `x`; column r
/// belongs to sample `r mod b`), given the forward pass `fwd` of `x`;
/// `visit` as in [`backward`].
pub(crate) fn backward_from(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    fwd: &Forward,
    seed: Mat<f64>,
    visit: &mut dyn FnMut(usize, AtLayer<'_>),
) {
    let weights = net.split(params);
    let b = x.ncols();
    let columns = seed.ncols();
    let mut g = seed;
    let first = net
        .weight_layers()
        .next()
        .expect("checked: a parametrised layer");
    let mut j = weights.len();
    for k in (first..net.layers.len()).rev() {
        g = match net.layers[k] {
            Layer::Activation(a) => {
                let h = input_of(fwd, x, k);
                for r in 0..columns {
                    let hs = h.col(r % b);
                    for (v, e) in g.col_as_slice_mut(r).iter_mut().zip(0..) {
                        *v *= a.derivative(hs[e]);
                    }
                }
                g
            }
            Layer::Flatten => g,
            Layer::Linear { .. } => {
                j -= 1;
                let w = weights[j].0;
                let mut q = Mat::zeros(w.ncols(), columns);
                matmul(
                    q.as_mut(),
                    Accum::Replace,
                    w.transpose(),
                    g.as_ref(),
                    1.0,
                    Par::Seq,
                );
                visit(
                    j,
                    AtLayer {
                        delta: g.as_ref(),
                        input_gradients: q.as_ref(),
                        input: input_of(fwd, x, k),
                        positions: 1,
                    },
                );
                q
            }
            Layer::Conv2d(_) => {
                j -= 1;
                let w = weights[j].0;
                let geometry = net.conv_geometry(k).expect("a checked convolution");
                let positions = geometry.positions();
                let delta = Mat::from_fn(w.nrows(), columns * positions, |ch, col| {
                    let (r, p) = (col / positions, col % positions);
                    g[(ch * positions + p, r)]
                });
                let mut q = Mat::zeros(w.ncols(), delta.ncols());
                matmul(
                    q.as_mut(),
                    Accum::Replace,
                    w.transpose(),
                    delta.as_ref(),
                    1.0,
                    Par::Seq,
                );
                let patches = im2col(&geometry, input_of(fwd, x, k));
                visit(
                    j,
                    AtLayer {
                        delta: delta.as_ref(),
                        input_gradients: q.as_ref(),
                        input: patches.as_ref(),
                        positions,
                    },
                );
                if k == first {
                    break;
                }
                col2im(&geometry, q.as_ref(), columns)
            }
            Layer::MaxPool2d(_) => {
                let index = fwd.argmax[k]
                    .as_ref()
                    .expect("recorded by the forward pass");
                let size = g.nrows();
                let mut back = Mat::zeros(net.shape_before(k).size(), columns);
                for r in 0..columns {
                    let s = r % b;
                    for o in 0..size {
                        back[(index[s * size + o], r)] += g[(o, r)];
                    }
                }
                back
            }
            Layer::AvgPool2d(pool) => {
                let shape = net.shape_before(k);
                let area = (pool.kernel[0] * pool.kernel[1]) as f64;
                let mut back = Mat::zeros(shape.size(), columns);
                for (o, cover) in pool_windows(pool, shape) {
                    for r in 0..columns {
                        let v = g[(o, r)] / area;
                        for &src in &cover {
                            back[(src, r)] += v;
                        }
                    }
                }
                back
            }
            Layer::GlobalAvgPool => {
                let Shape::Image([c, h, w]) = net.shape_before(k) else {
                    unreachable!("checked in Sequential::new")
                };
                let area = h * w;
                Mat::from_fn(c * area, columns, |e, r| g[(e / area, r)] / area as f64)
            }
        };
    }
}

/// The input of layer k in the forward pass.
fn input_of<'a>(fwd: &'a Forward, x: MatRef<'a, f64>, k: usize) -> MatRef<'a, f64> {
    if k == 0 {
        x
    } else {
        fwd.values[k - 1].as_ref()
    }
}

/// The number of parameters of `net` (weights and biases).
pub fn parameter_count(net: &Sequential) -> usize {
    net.parameter_layers()
        .iter()
        .map(|&(_, (r, c), bias)| r * c + if bias { r } else { 0 })
        .sum()
}

/// [`backward`] over the rows of `x` (samples) in panels of at most
/// [`panel_samples`], in order: `visit(start, b, j, at)` for the panel of
/// rows `start..start + b`, so that the stacked gradients of a panel stay
/// under [`PANEL_BYTES`] whatever the number of rows.
fn for_panels(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    visit: &mut dyn FnMut(usize, usize, usize, AtLayer<'_>),
) {
    let panel = panel_samples(net);
    for start in (0..x.nrows()).step_by(panel) {
        let rows = x.subrows(start, panel.min(x.nrows() - start));
        let b = rows.nrows();
        backward(
            net,
            params,
            rows.transpose().to_owned().as_ref(),
            &mut |j, at| visit(start, b, j, at),
        );
    }
}

/// Where each parametrised layer's weight (row by row) and bias start in
/// the parameter vector: all weights in layer order, then the biases.
fn parameter_offsets(net: &Sequential) -> (Vec<usize>, Vec<Option<usize>>) {
    let layers = net.parameter_layers();
    let mut offsets = Vec::with_capacity(layers.len());
    let mut bias_offsets = Vec::with_capacity(layers.len());
    let mut next = 0;
    for &(_, (r, c), _) in &layers {
        offsets.push(next);
        next += r * c;
    }
    for &(_, (r, _), bias) in &layers {
        bias_offsets.push(bias.then_some(next));
        next += if bias { r } else { 0 };
    }
    (offsets, bias_offsets)
}

/// `Σ_i ∇_θ f_c(x_i)` over the rows of `x`, one column per output c
/// (`parameter_count × C`, rows as in [`parameter_gradients`]), without
/// forming the per-sample gradients: per layer and output one product
/// `δ_c · inputᵀ` over all samples and positions.
pub fn summed_parameter_gradients(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Mat<f64>, NetworkError> {
    net.check(params)?;
    net.check_data(x)?;
    let (offsets, bias_offsets) = parameter_offsets(net);
    let outputs = net.outputs();
    let mut out = Mat::<f64>::zeros(parameter_count(net), outputs);
    for_panels(net, params, x, &mut |_, b, j, at| {
        let (rows, cols) = (at.delta.nrows(), at.input.nrows());
        let span = b * at.positions;
        let mut sum = Mat::<f64>::zeros(rows, cols);
        for c in 0..outputs {
            let delta = at.delta.subcols(c * span, span);
            matmul(
                sum.as_mut(),
                Accum::Replace,
                delta,
                at.input.transpose(),
                1.0,
                Par::Seq,
            );
            let col = out.col_as_slice_mut(c);
            for o in 0..rows {
                for e in 0..cols {
                    col[offsets[j] + o * cols + e] += sum[(o, e)];
                }
            }
            if let Some(off) = bias_offsets[j] {
                for o in 0..rows {
                    col[off + o] += delta.row(o).sum();
                }
            }
        }
    });
    Ok(out)
}

/// `⟨∇_θ f_c(x_i), v_c⟩` for every row i of `x` and output c (b × C), with
/// `v_c` column c of `vectors` (`parameter_count × C`, rows as in
/// [`parameter_gradients`]), without forming the per-sample gradients: per
/// layer and output, `Σ_p δ_pᵀ V patch_p` from one product `V · input`.
pub fn parameter_gradient_dots(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    vectors: MatRef<'_, f64>,
) -> Result<Mat<f64>, NetworkError> {
    net.check(params)?;
    net.check_data(x)?;
    let (offsets, bias_offsets) = parameter_offsets(net);
    let outputs = net.outputs();
    let mut out = Mat::<f64>::zeros(x.nrows(), outputs);
    for_panels(net, params, x, &mut |start, b, j, at| {
        let (rows, cols, positions) = (at.delta.nrows(), at.input.nrows(), at.positions);
        let span = b * positions;
        let mut product = Mat::<f64>::zeros(rows, span);
        for c in 0..outputs {
            let v = vectors.col(c);
            let weight = Mat::from_fn(rows, cols, |o, e| v[offsets[j] + o * cols + e]);
            matmul(
                product.as_mut(),
                Accum::Replace,
                weight.as_ref(),
                at.input,
                1.0,
                Par::Seq,
            );
            let delta = at.delta.subcols(c * span, span);
            for i in 0..b {
                let mut dot = 0.0;
                for q in i * positions..(i + 1) * positions {
                    for o in 0..rows {
                        let bias = bias_offsets[j].map_or(0.0, |off| v[off + o]);
                        dot += delta[(o, q)] * (product[(o, q)] + bias);
                    }
                }
                out[(start + i, c)] += dot;
            }
        }
    });
    Ok(out)
}

/// The per-sample, per-output parameter gradients `∇_θ f_c(x_i)` of the
/// rows of `x` (b × input size): a `parameter_count × C·b` matrix, column
/// `c·b + i`, its rows in the order of `params` (each weight row by row,
/// then the biases). For a linear layer `∂f_c/∂W = δ aᵀ`, for a
/// convolution `∂f_c/∂W = Σ_p δ_p patch_pᵀ` and `∂f_c/∂b = Σ_p δ_p`
/// (SPEC §9). Memory: `parameter_count · C · b` values.
pub fn parameter_gradients(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Mat<f64>, NetworkError> {
    net.check(params)?;
    net.check_data(x)?;
    let (offsets, bias_offsets) = parameter_offsets(net);
    let (n, outputs) = (x.nrows(), net.outputs());
    let mut out = Mat::<f64>::zeros(parameter_count(net), outputs * n);
    for_panels(net, params, x, &mut |start, b, j, at| {
        let (rows, cols) = (at.delta.nrows(), at.input.nrows());
        let positions = at.positions;
        let mut w_grad = Mat::<f64>::zeros(rows, cols);
        for r in 0..outputs * b {
            let i = r % b;
            let delta = at.delta.subcols(r * positions, positions);
            matmul(
                w_grad.as_mut(),
                Accum::Replace,
                delta,
                at.input.subcols(i * positions, positions).transpose(),
                1.0,
                Par::Seq,
            );
            let col = out.col_as_slice_mut((r / b) * n + start + i);
            for o in 0..rows {
                for e in 0..cols {
                    col[offsets[j] + o * cols + e] = w_grad[(o, e)];
                }
            }
            if let Some(off) = bias_offsets[j] {
                for o in 0..rows {
                    col[off + o] = delta.row(o).sum();
                }
            }
        }
    });
    Ok(out)
}

/// What a pass of [`fold_blocks`] does at parametrised layer j of a panel
/// of b samples: `(j, b, the layer's gradients, the block's sums)`.
type PanelVisit<'a> = dyn Fn(usize, usize, AtLayer<'_>, &mut Vec<Mat<f64>>) + Sync + 'a;

/// Sums over the rows of `x` (samples) in blocks of at most `block`: each
/// block, single-threaded, starts from `zeros()` and runs the backward
/// pass of its panels (at most [`panel_samples`] samples, module docs),
/// calling `visit` at every parametrised layer; blocks run in parallel, as
/// many at a time as threads (memory independent of n), and their sums are
/// added in block order (the same bits for any number of threads).
fn fold_blocks(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
    zeros: &(dyn Fn() -> Vec<Mat<f64>> + Sync),
    visit: &PanelVisit<'_>,
) -> Vec<Mat<f64>> {
    let n = x.nrows();
    let block = block.max(1);
    let panel = panel_samples(net).min(block);
    let starts: Vec<usize> = (0..n).step_by(block).collect();
    let mut total = zeros();
    for group in starts.chunks(rayon::current_num_threads().max(1)) {
        let partials: Vec<Vec<Mat<f64>>> = group
            .par_iter()
            .map(|&start| {
                let mut acc = zeros();
                let len = block.min(n - start);
                for offset in (0..len).step_by(panel) {
                    let rows = x.subrows(start + offset, panel.min(len - offset));
                    let b = rows.nrows();
                    backward(
                        net,
                        params,
                        rows.transpose().to_owned().as_ref(),
                        &mut |j, at| visit(j, b, at, &mut acc),
                    );
                }
                acc
            })
            .collect();
        for part in partials {
            for (t, m) in total.iter_mut().zip(&part) {
                *t += m;
            }
        }
    }
    total
}

/// RBPB22's gradient-centred AGOP of every parametrised layer: the input
/// (for a convolution, patch) gradients centred over samples before their
/// Gram, `(1/n) Σ_i Σ_c Σ_p (q_{icp} − q̄_{cp})(q_{icp} − q̄_{cp})ᵀ` with
/// `q̄_{cp} = (1/n) Σ_i q_{icp}` (P = 1 for a linear layer), in two passes
/// over the samples: the means, then the centred Grams (no cancellation
/// of `G` against `q̄q̄ᵀ`). It is zero for a linear network, whose input
/// gradients do not depend on the sample. Blocks as in
/// [`sequential_tangents`]; never modifies `params`.
pub fn centred_agop(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    block: usize,
) -> Result<Vec<Mat<f64>>, NetworkError> {
    let n = checked_samples(net, params, x)?;
    let layers = net.parameter_layers();
    let outputs = net.outputs();
    let positions: Vec<usize> = layers
        .iter()
        .map(|&(k, _, _)| net.conv_geometry(k).map_or(1, |g| g.positions()))
        .collect();
    // q̄: per layer, in × C·P, column c·P + p.
    let sum_zeros = || -> Vec<Mat<f64>> {
        layers
            .iter()
            .zip(&positions)
            .map(|(&(_, (_, c), _), &p)| Mat::zeros(c, outputs * p))
            .collect()
    };
    let mut means = fold_blocks(net, params, x, block, &sum_zeros, &|j, b, at, acc| {
        let p = at.positions;
        for r in 0..outputs * b {
            let c = r / b;
            for q in 0..p {
                let mut dst = acc[j].col_mut(c * p + q);
                dst += at.input_gradients.col(r * p + q);
            }
        }
    });
    for m in &mut means {
        *m *= faer::Scale(1.0 / n as f64);
    }
    let gram_zeros = || -> Vec<Mat<f64>> {
        layers
            .iter()
            .map(|&(_, (_, c), _)| Mat::zeros(c, c))
            .collect()
    };
    let mut grams = fold_blocks(net, params, x, block, &gram_zeros, &|j, b, at, acc| {
        let p = at.positions;
        let centred = Mat::from_fn(
            at.input_gradients.nrows(),
            at.input_gradients.ncols(),
            |e, col| {
                let (r, q) = (col / p, col % p);
                at.input_gradients[(e, col)] - means[j][(e, (r / b) * p + q)]
            },
        );
        gram_lower(&mut acc[j], centred.transpose());
    });
    for g in &mut grams {
        mirror_lower(g);
        *g *= faer::Scale(1.0 / n as f64);
    }
    Ok(grams)
}
