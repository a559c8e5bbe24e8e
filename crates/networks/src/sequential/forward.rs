//! The forward pass of a [`Sequential`] network on a batch whose columns
//! are samples (module docs of [`super`]).
//!
//! A convolution gathers the patches of every sample into one
//! `k_in·h·w × b·P` matrix (im2col; columns ordered by sample, then
//! position), multiplies it by the `k_out × k_in·h·w` filter matrix in one
//! GEMM and stores the `k_out × P` result of each sample channel by channel.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use super::{ConvGeometry, Layer, PADDING, Pool, Sequential, Shape};
use crate::NetworkError;

/// The values of a batch after every layer.
#[derive(Debug, Clone)]
pub struct Forward {
    /// After layer k (index k): `size × b`, one column per sample.
    pub values: Vec<Mat<f64>>,
    /// For a max-pool layer k: per output value (column-major, as
    /// `values[k]`), the index of the input value that is its maximum.
    pub(crate) argmax: Vec<Option<Vec<usize>>>,
}

impl Forward {
    /// The outputs, `C × b`.
    pub fn output(&self) -> &Mat<f64> {
        self.values.last().expect("a network has layers")
    }
}

/// The forward pass of the columns of `x` (`input size × b`); `params`
/// must have been checked against `net`.
pub(crate) fn forward_columns(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    par: Par,
) -> Forward {
    let weights = net.split(params);
    let mut values: Vec<Mat<f64>> = Vec::with_capacity(net.layers.len());
    let mut argmax = Vec::with_capacity(net.layers.len());
    let mut j = 0;
    for (k, layer) in net.layers.iter().enumerate() {
        let input = if k == 0 { x } else { values[k - 1].as_ref() };
        let mut max_index = None;
        let out = match *layer {
            Layer::Activation(a) => {
                Mat::from_fn(input.nrows(), input.ncols(), |r, c| a.apply(input[(r, c)]))
            }
            Layer::Flatten => input.to_owned(),
            Layer::Linear { .. } => {
                let (w, b) = weights[j];
                j += 1;
                let mut h = Mat::zeros(w.nrows(), input.ncols());
                matmul(h.as_mut(), Accum::Replace, w.as_ref(), input, 1.0, par);
                if let Some(b) = b {
                    for s in 0..h.ncols() {
                        for (v, o) in h.col_as_slice_mut(s).iter_mut().zip(0..) {
                            *v += b[(0, o)];
                        }
                    }
                }
                h
            }
            Layer::Conv2d(_) => {
                let (w, b) = weights[j];
                j += 1;
                let geometry = net.conv_geometry(k).expect("a checked convolution");
                convolve(&geometry, w.as_ref(), b, input, par)
            }
            Layer::MaxPool2d(pool) => {
                let (out, index) = max_pool(pool, net.shape_before(k), input);
                max_index = Some(index);
                out
            }
            Layer::AvgPool2d(pool) => avg_pool(pool, net.shape_before(k), input),
            Layer::GlobalAvgPool => {
                let Shape::Image([c, h, w]) = net.shape_before(k) else {
                    unreachable!("checked in Sequential::new")
                };
                let area = (h * w) as f64;
                Mat::from_fn(c, input.ncols(), |ch, s| {
                    input.col(s).subrows(ch * h * w, h * w).sum() / area
                })
            }
        };
        values.push(out);
        argmax.push(max_index);
    }
    Forward { values, argmax }
}

/// The patches of every sample of `input`: `k_in·h·w × b·P`, column
/// `i·P + p` the patch of sample i at position p.
pub(crate) fn im2col(g: &ConvGeometry, input: MatRef<'_, f64>) -> Mat<f64> {
    let (patch, positions) = (g.patch(), g.positions());
    let table = g.sources();
    let mut out = Mat::zeros(patch, input.ncols() * positions);
    for i in 0..input.ncols() {
        let x = input.col(i);
        for (p, sources) in table.chunks_exact(patch).enumerate() {
            let col = out.col_as_slice_mut(i * positions + p);
            for (v, &src) in col.iter_mut().zip(sources) {
                if src != PADDING {
                    *v = x[src as usize];
                }
            }
        }
    }
    out
}

/// `out[:, r] = Σ_p col2im(q[:, r·P + p])`: each patch entry's gradient
/// added to the input value it read.
pub(crate) fn col2im(g: &ConvGeometry, q: MatRef<'_, f64>, columns: usize) -> Mat<f64> {
    let (patch, positions) = (g.patch(), g.positions());
    let table = g.sources();
    let [c, h, w] = g.input;
    let mut out = Mat::zeros(c * h * w, columns);
    for r in 0..columns {
        let dst = out.col_as_slice_mut(r);
        for (p, sources) in table.chunks_exact(patch).enumerate() {
            let grad = q.col(r * positions + p);
            for (e, &src) in sources.iter().enumerate() {
                if src != PADDING {
                    dst[src as usize] += grad[e];
                }
            }
        }
    }
    out
}

/// A convolution of every column of `input` (module docs).
fn convolve(
    g: &ConvGeometry,
    w: MatRef<'_, f64>,
    bias: Option<&Mat<f64>>,
    input: MatRef<'_, f64>,
    par: Par,
) -> Mat<f64> {
    let patches = im2col(g, input);
    let mut y = Mat::zeros(w.nrows(), patches.ncols());
    matmul(y.as_mut(), Accum::Replace, w, patches.as_ref(), 1.0, par);
    let positions = g.positions();
    Mat::from_fn(w.nrows() * positions, input.ncols(), |row, i| {
        let (ch, p) = (row / positions, row % positions);
        y[(ch, i * positions + p)] + bias.map_or(0.0, |b| b[(0, ch)])
    })
}

/// For each window of `pool` over an image of `shape`: the output index
/// and the input indices it covers, in row-major order of the window.
pub(crate) fn pool_windows(pool: Pool, shape: Shape) -> Vec<(usize, Vec<usize>)> {
    let Shape::Image([c, h, w]) = shape else {
        unreachable!("checked in Sequential::new")
    };
    let [kh, kw] = pool.kernel;
    let (oh, ow) = ((h - kh) / pool.stride[0] + 1, (w - kw) / pool.stride[1] + 1);
    let mut out = Vec::with_capacity(c * oh * ow);
    for ch in 0..c {
        for oi in 0..oh {
            for oj in 0..ow {
                let (i0, j0) = (oi * pool.stride[0], oj * pool.stride[1]);
                let cover = (0..kh)
                    .flat_map(|di| (0..kw).map(move |dj| (ch * h + i0 + di) * w + j0 + dj))
                    .collect();
                out.push(((ch * oh + oi) * ow + oj, cover));
            }
        }
    }
    out
}

fn max_pool(pool: Pool, shape: Shape, input: MatRef<'_, f64>) -> (Mat<f64>, Vec<usize>) {
    let windows = pool_windows(pool, shape);
    let size = windows.len();
    let mut out = Mat::zeros(size, input.ncols());
    let mut index = vec![0; size * input.ncols()];
    for s in 0..input.ncols() {
        for (o, cover) in &windows {
            // The first maximum in the window's row-major order.
            let mut best = cover[0];
            for &src in &cover[1..] {
                if input[(src, s)] > input[(best, s)] {
                    best = src;
                }
            }
            out[(*o, s)] = input[(best, s)];
            index[s * size + o] = best;
        }
    }
    (out, index)
}

fn avg_pool(pool: Pool, shape: Shape, input: MatRef<'_, f64>) -> Mat<f64> {
    let windows = pool_windows(pool, shape);
    let area = (pool.kernel[0] * pool.kernel[1]) as f64;
    let mut out = Mat::zeros(windows.len(), input.ncols());
    for s in 0..input.ncols() {
        for (o, cover) in &windows {
            out[(*o, s)] = cover.iter().map(|&src| input[(src, s)]).sum::<f64>() / area;
        }
    }
    out
}

/// The outputs `F` (n × C) of the rows of `x` (n × input size, each row a
/// sample in NCHW order), in batches of at most `batch` samples.
pub fn forward(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    batch: usize,
    par: Par,
) -> Result<Mat<f64>, NetworkError> {
    net.check(params)?;
    net.check_data(x)?;
    let mut out = Mat::zeros(x.nrows(), net.outputs());
    for start in (0..x.nrows()).step_by(batch.max(1)) {
        let rows = batch.max(1).min(x.nrows() - start);
        let columns = x.subrows(start, rows).transpose().to_owned();
        let f = forward_columns(net, params, columns.as_ref(), par);
        out.subrows_mut(start, rows)
            .copy_from(f.output().transpose());
    }
    Ok(out)
}
