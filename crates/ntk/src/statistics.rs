//! Per-output NTK statistics in bounded memory (SPEC §5–6; ABP22, SB21):
//! every quantity the toolkit reports from the per-output kernels `Θ_c`
//! (n × n), computed over tiles of samples without ever forming an n × n
//! matrix.
//!
//! With `ã_{l−1}(x) = [a_{l−1}(x), 1]` when the layers have biases
//! (`a_{l−1}` otherwise) and `δ_{l,c} = ∇_{h_l} f_c`, the closed form of
//! [`crate::kernel`] is
//!
//! `Θ_c(x_i, x_j) = Σ_l ⟨ã_{l−1,i}, ã_{l−1,j}⟩ ⟨δ_{l,c,i}, δ_{l,c,j}⟩`,
//!
//! with `δ_{L,c} = e_c`, so the last layer contributes the same activation
//! Gram to every output. For targets `Y` (n × m) and `H = I − 11ᵀ/n`,
//! [`kernel_statistics`] accumulates, per output c, target column t and
//! output pair (c, c′):
//!
//! * `⟨Θ_c, Θ_c′⟩_F` (so `‖Θ_c‖_F` on the diagonal),
//! * `‖HΘ_cH‖_F² = Σ_ij (Θ_c,ij − μ_c,i − μ_c,j + m_c)²` with the row means
//!   `μ_c = Θ_c1/n` and `m_c = 1ᵀΘ_c1/n²`, summed exactly (no cancellation
//!   of `‖Θ_c‖²` against its mean),
//! * `y_tᵀΘ_c y_t` and `(Hy_t)ᵀΘ_c(Hy_t)`,
//!
//! For a network with convolutions or pooling ([`Model::Sequential`]) the
//! tangents of a tile are its per-sample parameter gradients `∇_θ f_c`
//! (SPEC §9), the kernel block of a tile pair is `G_c(A)ᵀG_c(B)` and the
//! row-sum factor is `Σ_j ∇_θ f_c(x_j)`; everything else is shared.
//!
//! from which [`KernelStatistics`] gives the uncentred and centred
//! kernel–target alignments, the specialisation matrix
//! `S_cc′ = A(Θ_c, y_c′)` and the kernel–kernel alignments, equal to those
//! of [`crate::alignment`] on the dense kernels.
//!
//! The row sums `Θ_c1` come first, in time linear in n: with
//! `M_{l,c} = Σ_j ã_{l−1,j} δ_{l,c,j}ᵀ`, `(Θ_c1)_i = Σ_l ã_{l−1,i}ᵀ M_{l,c} δ_{l,c,i}`.
//!
//! **Tiles and panels.** Samples are cut into tiles of `T` samples
//! ([`Blocking::tile`]); a tile's tangents (`ã_{l−1}` and `δ_{l,c}` of its
//! samples) come from one forward and backward pass. The tile pairs
//! `(a, b)`, `a ≤ b`, cover one triangle of every kernel; the kernel block
//! of a pair is formed for all outputs at once (`C·T²` numbers), reduced to
//! the sums above and dropped, an off-diagonal pair counting twice by
//! symmetry. Tangents are held for two panels of tiles at a time (the rows
//! and the columns of the pairs being computed): a column panel's tangents
//! are recomputed once per row panel, which costs a fraction
//! `≈ C·Σ d_l d_{l−1} / (P·Σ_l (d_{l−1} + C·d_l))` of the kernel work for
//! panels of P samples.
//!
//! Cost, for n samples and widths `d_0..d_L`: time `n²·Σ_l (d_{l−1} + C·d_l)`
//! multiply-adds (half of the dense kernels' `n²` entries plus the diagonal
//! tiles) plus `O(n²C²)` for the kernel–kernel sums; memory
//! [`Blocking::peak_bytes`], `O(P·C·Σ_l d_l + threads·C·T² + n·(C + m))`,
//! independent of n² (see [`Blocking::for_budget`]).
//!
//! **Determinism.** Tile pairs run in parallel, each single-threaded; the
//! sums of row tile a are added over b in increasing order and the rows in
//! increasing order, whatever the thread count or panel size, so the
//! results are bitwise identical for a given tile size.

use std::sync::Mutex;

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use metrics::{MetricError, Undefined};
use networks::sequential::tangents::{
    PANEL_BYTES, panel_samples, parameter_gradient_dots, summed_parameter_gradients,
};
use networks::{Architecture, NetworkError, Sequential};
use rayon::prelude::*;

use crate::NtkError;
use crate::kernel::{Model, Tangents, kernel_blocks, tangents};

/// Samples per tile by default: a T × T kernel block is 512 KiB, so the
/// Grams and the Hadamard accumulation between them stay in a core's L2
/// cache while the products run at full GEMM speed.
pub const DEFAULT_TILE: usize = 256;

/// Tiles per panel at most: with 16 tiles of 256 samples the recomputed
/// column tangents cost a few per cent of the kernel work (module docs), so
/// a larger panel would buy little time for its memory.
pub const MAX_PANEL_TILES: usize = 16;

/// Norms below this are treated as zero (the metrics crate's convention).
const ZERO_NORM: f64 = 1e-300;

/// A number of bytes, displayed in kB, MB or GB (powers of ten).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes(pub u64);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.0 as f64;
        if b >= 1e9 {
            write!(f, "{:.2} GB", b / 1e9)
        } else if b >= 1e6 {
            write!(f, "{:.1} MB", b / 1e6)
        } else {
            write!(f, "{:.1} kB", b / 1e3)
        }
    }
}

/// How the samples are cut: tiles of `tile` samples, panels of
/// `panel_tiles` tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocking {
    /// Samples per tile (kernel blocks are tile × tile).
    pub tile: usize,
    /// Tiles per panel (tangents of at most two panels are held at once).
    pub panel_tiles: usize,
}

impl Default for Blocking {
    fn default() -> Self {
        Blocking {
            tile: DEFAULT_TILE,
            panel_tiles: MAX_PANEL_TILES,
        }
    }
}

/// `Σ_l d_l` over the given layers' widths.
fn sum(widths: &[usize]) -> u64 {
    widths.iter().map(|&w| w as u64).sum()
}

impl Blocking {
    /// An estimate, from above, of the peak memory of
    /// [`kernel_statistics`] with this blocking on `samples` samples,
    /// `targets` target columns and `threads` threads, in bytes: the
    /// tangents of two panels, one tile's forward and backward pass and one
    /// tile pair's kernel blocks per thread, the targets `[Y, HY]` and row
    /// sums, and the row-sum factors `M_{l,c}` per thread.
    pub fn peak_bytes(
        &self,
        arch: &Architecture,
        samples: usize,
        targets: usize,
        threads: usize,
    ) -> u64 {
        self.peak_bytes_of(Model::Mlp(arch), samples, targets, threads)
    }

    /// [`Blocking::peak_bytes`] of any [`Model`]; for a sequential network
    /// the tangents are its per-sample parameter gradients, and a tile's
    /// backward pass holds its forward values and stacked gradients besides.
    pub fn peak_bytes_of(
        &self,
        model: Model<'_>,
        samples: usize,
        targets: usize,
        threads: usize,
    ) -> u64 {
        let outputs = model.outputs() as u64;
        let (n, m, threads) = (samples as u64, targets as u64, threads.max(1) as u64);
        let tile = self.tile.max(1) as u64;
        let tiles = n.div_ceil(tile);
        let panel_tiles = (self.panel_tiles.max(1) as u64).min(tiles);
        let panel = panel_tiles * tile;
        let panels_held = if panel_tiles < tiles { 2 } else { 1 };
        let held = model.held_per_sample();
        let (transient, factors, working) = match model {
            Model::Mlp(arch) => {
                let depth = arch.depth();
                let bias = u64::from(arch.bias);
                // While a tile's tangents are computed: the forward pass
                // (pre- and post-activations), every δ_{l,c} including the
                // output's, and the copy being kept.
                let transient = 2 * held + sum(&arch.widths[1..]) + outputs * outputs;
                let factors: u64 = (0..depth.saturating_sub(1))
                    .map(|l| outputs * (arch.widths[l] as u64 + bias) * arch.widths[l + 1] as u64)
                    .sum::<u64>()
                    + arch.widths[depth - 1] as u64
                    + bias;
                (transient, factors, 0)
            }
            // A tile's parameter gradients, computed in panels whose
            // backward pass holds its forward values and at most six
            // buffers (stacked gradients, rearranged δ, patch gradients,
            // patches, col2im, a layer's products) of at most PANEL_BYTES.
            Model::Sequential(net) => {
                let values: u64 = (0..net.layers().len())
                    .map(|k| net.shape_after(k).size() as u64)
                    .sum();
                let working = 6 * PANEL_BYTES as u64 / 8 + panel_samples(net) as u64 * values;
                (held, held, working)
            }
        };
        let scratch = (outputs + 2) * tile * tile + tile * 2 * m;
        let words = panels_held * panel * held
            + threads * (tile * transient + scratch + working)
            + n * (2 * m + outputs)
            + (threads + 1) * factors;
        8 * words
    }

    /// The blocking with the largest panel (at most [`MAX_PANEL_TILES`]
    /// tiles of `tile` samples) whose [`Blocking::peak_bytes`] fits in
    /// `budget` bytes, or [`NtkError::Memory`] naming what the smallest
    /// panel needs.
    pub fn for_budget(
        tile: usize,
        arch: &Architecture,
        samples: usize,
        targets: usize,
        threads: usize,
        budget: u64,
    ) -> Result<Blocking, NtkError> {
        Self::for_budget_of(tile, Model::Mlp(arch), samples, targets, threads, budget)
    }

    /// [`Blocking::for_budget`] of any [`Model`]; for a sequential network,
    /// whose tangents can hold many values per sample, tiles are halved
    /// (down to one sample) while even one tile per panel does not fit.
    pub fn for_budget_of(
        tile: usize,
        model: Model<'_>,
        samples: usize,
        targets: usize,
        threads: usize,
        budget: u64,
    ) -> Result<Blocking, NtkError> {
        let peak = |b: &Blocking| b.peak_bytes_of(model, samples, targets, threads);
        let mut t = tile.max(1);
        loop {
            let found = (1..=MAX_PANEL_TILES)
                .rev()
                .map(|panel_tiles| Blocking {
                    tile: t,
                    panel_tiles,
                })
                .find(|b| peak(b) <= budget);
            if let Some(b) = found {
                return Ok(b);
            }
            if t == 1 || matches!(model, Model::Mlp(_)) {
                let smallest = Blocking {
                    tile: t,
                    panel_tiles: 1,
                };
                return Err(NtkError::Memory {
                    what: format!("the per-output NTK statistics at n = {samples}"),
                    needed: Bytes(peak(&smallest)),
                    budget: Bytes(budget),
                });
            }
            t /= 2;
        }
    }
}

/// Sums over the per-output kernels `Θ_c` (module docs) and the targets;
/// the alignments are methods.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelStatistics {
    /// n.
    pub samples: usize,
    /// `⟨Θ_c, Θ_c′⟩_F` (C × C, symmetric; `‖Θ_c‖_F²` on the diagonal).
    pub inner: Mat<f64>,
    /// `‖HΘ_cH‖_F²`, per output.
    pub centered_norm_sq: Vec<f64>,
    /// `y_tᵀΘ_c y_t` (C × m: kernel c, target column t).
    pub quadratic: Mat<f64>,
    /// `(Hy_t)ᵀΘ_c(Hy_t)` (C × m).
    pub centered_quadratic: Mat<f64>,
    /// `‖y_t‖²`, per target column.
    pub target_norm_sq: Vec<f64>,
    /// `‖Hy_t‖²`, per target column.
    pub centered_target_norm_sq: Vec<f64>,
    /// `Θ_c1` (n × C).
    pub row_sums: Mat<f64>,
}

fn nonzero(
    what: &'static str,
    norm: f64,
    undefined: fn(&'static str) -> Undefined,
) -> Result<f64, MetricError> {
    if norm < ZERO_NORM {
        Err(MetricError::Undefined(undefined(what)))
    } else {
        Ok(norm)
    }
}

fn zero(which: &'static str) -> Undefined {
    Undefined::ZeroMatrix { which }
}

fn constant(which: &'static str) -> Undefined {
    Undefined::ConstantMatrix { which }
}

impl KernelStatistics {
    /// [`kernel_statistics`] with the default [`Blocking`] and no progress
    /// report (kernels whose size a fixture fixes).
    pub fn compute(
        arch: &Architecture,
        params: &[Mat<f64>],
        x: MatRef<'_, f64>,
        y: MatRef<'_, f64>,
    ) -> Result<Self, NtkError> {
        kernel_statistics(arch, params, x, y, Blocking::default(), &mut |_, _| {})
    }

    /// C.
    pub fn outputs(&self) -> usize {
        self.inner.nrows()
    }

    /// m.
    pub fn targets(&self) -> usize {
        self.quadratic.ncols()
    }

    /// `‖Θ_c‖_F`.
    pub fn norm(&self, c: usize) -> f64 {
        self.inner[(c, c)].max(0.0).sqrt()
    }

    /// `‖HΘ_cH‖_F`.
    pub fn centered_norm(&self, c: usize) -> f64 {
        self.centered_norm_sq[c].max(0.0).sqrt()
    }

    /// Uncentred kernel–target alignment `A(Θ_c, y_t) = y_tᵀΘ_c y_t / (‖Θ_c‖_F ‖y_t‖²)`
    /// ([`crate::kernel_target_alignment`] of the dense kernel).
    pub fn alignment(&self, c: usize, t: usize) -> Result<f64, MetricError> {
        let k = nonzero("kernel", self.norm(c), zero)?;
        let y = nonzero("target", self.target_norm_sq[t], zero)?;
        Ok(self.quadratic[(c, t)] / (k * y))
    }

    /// Centred alignment `A(HΘ_cH, Hy_t)`
    /// ([`crate::centered_kernel_target_alignment`] of the dense kernel).
    pub fn centered_alignment(&self, c: usize, t: usize) -> Result<f64, MetricError> {
        let k = nonzero("kernel", self.centered_norm(c), constant)?;
        let y = nonzero("target", self.centered_target_norm_sq[t], constant)?;
        Ok(self.centered_quadratic[(c, t)] / (k * y))
    }

    /// Kernel–kernel alignment `⟨Θ_c, Θ_c′⟩_F / (‖Θ_c‖_F ‖Θ_c′‖_F)`.
    pub fn kernel_alignment(&self, c: usize, c2: usize) -> Result<f64, MetricError> {
        let n1 = nonzero("first kernel", self.norm(c), zero)?;
        let n2 = nonzero("second kernel", self.norm(c2), zero)?;
        Ok(self.inner[(c, c2)] / (n1 * n2))
    }

    /// SB21's specialisation matrix `S_cc′ = A(Θ_c, y_c′)` (needs one target
    /// column per output; [`crate::specialisation_matrix`] of the dense
    /// kernels).
    pub fn specialisation_matrix(&self) -> Result<Mat<f64>, MetricError> {
        let c = self.outputs();
        if self.targets() != c {
            return Err(MetricError::ShapeMismatch {
                what: "specialisation matrix (kernels vs target columns)",
                left: (c, 1),
                right: (self.samples, self.targets()),
            });
        }
        let mut s = Mat::zeros(c, c);
        for i in 0..c {
            for j in 0..c {
                s[(i, j)] = self.alignment(i, j)?;
            }
        }
        Ok(s)
    }
}

/// The tiles `(start, len)` of n samples.
fn tiles(n: usize, tile: usize) -> Vec<(usize, usize)> {
    (0..n).step_by(tile).map(|s| (s, tile.min(n - s))).collect()
}

/// The tangents of a panel's tiles, computed in parallel.
fn panel_tangents(
    model: Model<'_>,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    panel: &[(usize, usize)],
) -> Result<Vec<Tangents>, NtkError> {
    panel
        .par_iter()
        .map(|&t| tangents(model, params, x, t, Par::Seq))
        .collect()
}

/// `Σ_k a_k b_k` in eight lanes (a fixed order, so deterministic, and
/// vectorisable).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    acc.iter().sum::<f64>() + tail
}

/// The row sums `Θ_c1` (n × C) in time linear in n (module docs), over the
/// tiles in groups of as many tiles as threads, added in tile order.
fn row_sums(
    model: Model<'_>,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    tiles: &[(usize, usize)],
) -> Result<Mat<f64>, NtkError> {
    let outputs = model.outputs();
    let depth = match model {
        Model::Mlp(arch) => arch.depth(),
        Model::Sequential(net) => return sequential_row_sums(net, params, x, tiles),
    };
    let group = rayon::current_num_threads().max(1);
    // Factors M_{l,c} = Σ_j ã_{l−1,j} δ_{l,c,j}ᵀ (index l·C + c, l < L − 1)
    // and, last, Σ_j ã_{L−1,j} for the output layer (δ_{L,c} = e_c).
    let factors_of = |t: &Tangents| -> Vec<Mat<f64>> {
        let mut out = Vec::with_capacity((depth - 1) * outputs + 1);
        for l in 0..depth - 1 {
            for c in 0..outputs {
                let delta = t.deltas[l].subrows(c * t.len, t.len);
                let mut m = Mat::zeros(t.inputs[l].ncols(), delta.ncols());
                matmul(
                    m.as_mut(),
                    Accum::Replace,
                    t.inputs[l].transpose(),
                    delta,
                    1.0,
                    Par::Seq,
                );
                out.push(m);
            }
        }
        let last = &t.inputs[depth - 1];
        out.push(Mat::from_fn(last.ncols(), 1, |j, _| {
            last.col(j).iter().sum()
        }));
        out
    };
    let mut factors: Option<Vec<Mat<f64>>> = None;
    for chunk in tiles.chunks(group) {
        let parts: Vec<Result<Vec<Mat<f64>>, NtkError>> = chunk
            .par_iter()
            .map(|&t| Ok(factors_of(&tangents(model, params, x, t, Par::Seq)?)))
            .collect();
        for part in parts {
            let part = part?;
            match &mut factors {
                None => factors = Some(part),
                Some(acc) => {
                    for (a, p) in acc.iter_mut().zip(&part) {
                        *a += p;
                    }
                }
            }
        }
    }
    let factors = factors.expect("at least one tile");
    let n = x.nrows();
    let mut sums = Mat::<f64>::zeros(n, outputs);
    for chunk in tiles.chunks(group) {
        let parts: Vec<Result<Mat<f64>, NtkError>> = chunk
            .par_iter()
            .map(|&t| {
                let t = tangents(model, params, x, t, Par::Seq)?;
                let mut r = Mat::<f64>::zeros(t.len, outputs);
                let last = &t.inputs[depth - 1];
                let mut shared = Mat::<f64>::zeros(t.len, 1);
                matmul(
                    shared.as_mut(),
                    Accum::Replace,
                    last.as_ref(),
                    factors[(depth - 1) * outputs].as_ref(),
                    1.0,
                    Par::Seq,
                );
                for c in 0..outputs {
                    for i in 0..t.len {
                        r[(i, c)] = shared[(i, 0)];
                    }
                }
                for l in 0..depth - 1 {
                    for c in 0..outputs {
                        let delta = t.deltas[l].subrows(c * t.len, t.len);
                        let mut am = Mat::zeros(t.len, delta.ncols());
                        matmul(
                            am.as_mut(),
                            Accum::Replace,
                            t.inputs[l].as_ref(),
                            factors[l * outputs + c].as_ref(),
                            1.0,
                            Par::Seq,
                        );
                        for i in 0..t.len {
                            let mut v = 0.0;
                            for j in 0..delta.ncols() {
                                v += am[(i, j)] * delta[(i, j)];
                            }
                            r[(i, c)] += v;
                        }
                    }
                }
                Ok(r)
            })
            .collect();
        for (&(start, len), part) in chunk.iter().zip(parts) {
            sums.subrows_mut(start, len).copy_from(part?.as_ref());
        }
    }
    Ok(sums)
}

/// [`row_sums`] of a sequential network: `(Θ_c1)_i = ⟨∇_θ f_c(x_i),
/// Σ_j ∇_θ f_c(x_j)⟩`, the sum of gradients over the tiles first (added in
/// tile order), then one product per tile, never forming per-sample
/// gradients.
fn sequential_row_sums(
    net: &Sequential,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    tiles: &[(usize, usize)],
) -> Result<Mat<f64>, NtkError> {
    let group = rayon::current_num_threads().max(1);
    let mut factors: Option<Mat<f64>> = None;
    for chunk in tiles.chunks(group) {
        let parts: Vec<Result<Mat<f64>, NtkError>> = chunk
            .par_iter()
            .map(|&(start, len)| {
                Ok(summed_parameter_gradients(
                    net,
                    params,
                    x.subrows(start, len),
                )?)
            })
            .collect();
        for part in parts {
            let part = part?;
            match &mut factors {
                None => factors = Some(part),
                Some(acc) => *acc += &part,
            }
        }
    }
    let factors = factors.expect("at least one tile");
    let mut sums = Mat::<f64>::zeros(x.nrows(), net.outputs());
    for chunk in tiles.chunks(group) {
        let parts: Vec<Result<Mat<f64>, NtkError>> = chunk
            .par_iter()
            .map(|&(start, len)| {
                Ok(parameter_gradient_dots(
                    net,
                    params,
                    x.subrows(start, len),
                    factors.as_ref(),
                )?)
            })
            .collect();
        for (&(start, len), part) in chunk.iter().zip(parts) {
            sums.subrows_mut(start, len).copy_from(part?.as_ref());
        }
    }
    Ok(sums)
}

/// Per-thread buffers of one tile pair: the kernel block of every output,
/// the activation and gradient Grams, and the product with the targets.
struct Scratch {
    kernels: Vec<Mat<f64>>,
    gram: Mat<f64>,
    delta_gram: Mat<f64>,
    product: Mat<f64>,
}

impl Scratch {
    fn new(outputs: usize) -> Self {
        Scratch {
            kernels: vec![Mat::zeros(0, 0); outputs],
            gram: Mat::zeros(0, 0),
            delta_gram: Mat::zeros(0, 0),
            product: Mat::zeros(0, 0),
        }
    }

    /// Resize every buffer for an `rows × cols` block and `targets` columns.
    fn fit(&mut self, rows: usize, cols: usize, targets: usize) {
        let fit = |m: &mut Mat<f64>, r, c| {
            if (m.nrows(), m.ncols()) != (r, c) {
                *m = Mat::zeros(r, c);
            }
        };
        for k in &mut self.kernels {
            fit(k, rows, cols);
        }
        fit(&mut self.gram, rows, cols);
        fit(&mut self.delta_gram, rows, cols);
        fit(&mut self.product, rows, targets);
    }
}

/// Where each sum lives in a tile pair's vector of sums.
#[derive(Clone, Copy)]
struct Layout {
    outputs: usize,
    /// Columns of `[Y, HY]`.
    targets: usize,
}

impl Layout {
    fn centered_norm(&self, c: usize) -> usize {
        c
    }
    fn inner(&self, c: usize, c2: usize) -> usize {
        self.outputs + c * self.outputs + c2
    }
    fn quadratic(&self, c: usize, t: usize) -> usize {
        self.outputs + self.outputs * self.outputs + c * self.targets + t
    }
    fn len(&self) -> usize {
        self.outputs + self.outputs * self.outputs + self.outputs * self.targets
    }
}

/// What every tile pair reads besides its tangents.
struct Shared<'a> {
    layout: Layout,
    /// `[Y, HY]` (n × 2m).
    targets: MatRef<'a, f64>,
    /// Row means `μ_c = Θ_c1/n` (n × C).
    means: MatRef<'a, f64>,
    /// `m_c = 1ᵀΘ_c1/n²`.
    grand: &'a [f64],
}

/// The sums of one tile pair (rows `a`, columns `b`), weighted by 2 when
/// the tiles differ (the mirrored block is not formed).
fn tile_pair_sums(s: &Shared<'_>, a: &Tangents, b: &Tangents, scratch: &mut Scratch) -> Vec<f64> {
    let outputs = s.layout.outputs;
    let (na, nb) = (a.len, b.len);
    scratch.fit(na, nb, s.layout.targets);
    let Scratch {
        kernels,
        gram,
        delta_gram,
        product,
    } = scratch;
    kernel_blocks(a, b, kernels, gram, delta_gram, Par::Seq);

    let layout = s.layout;
    let mut sums = vec![0.0; layout.len()];
    for (c, k) in kernels.iter().enumerate() {
        let mean = |t: &Tangents| {
            &s.means.col(c).try_as_col_major().expect("owned").as_slice()[t.start..t.start + t.len]
        };
        let (mu_a, mu_b) = (mean(a), mean(b));
        let mut centred = 0.0;
        for j in 0..nb {
            let shift = mu_b[j] - s.grand[c];
            let mut lanes = [0.0; 4];
            let col = k.col_as_slice(j);
            let (cc, cm) = (col.chunks_exact(4), mu_a.chunks_exact(4));
            let (rc, rm) = (cc.remainder(), cm.remainder());
            for (v, mu) in cc.zip(cm) {
                for q in 0..4 {
                    let e = v[q] - mu[q] - shift;
                    lanes[q] += e * e;
                }
            }
            let mut tail = 0.0;
            for (v, mu) in rc.iter().zip(rm) {
                let e = v - mu - shift;
                tail += e * e;
            }
            centred += lanes.iter().sum::<f64>() + tail;
        }
        sums[layout.centered_norm(c)] = centred;
        // ⟨Θ_c, Y[b]⟩ products, then y_t[a]ᵀ (Θ_c y_t[b]).
        matmul(
            product.as_mut(),
            Accum::Replace,
            k.as_ref(),
            s.targets.subrows(b.start, nb),
            1.0,
            Par::Seq,
        );
        for t in 0..layout.targets {
            let y = &s
                .targets
                .col(t)
                .try_as_col_major()
                .expect("owned")
                .as_slice()[a.start..a.start + na];
            sums[layout.quadratic(c, t)] = dot(y, product.col_as_slice(t));
        }
    }
    // ⟨Θ_c, Θ_c′⟩ for c ≤ c′, column by column so that the C columns stay
    // in L1 while every pair is formed.
    for j in 0..nb {
        for c in 0..outputs {
            let col = kernels[c].col_as_slice(j);
            for c2 in c..outputs {
                sums[layout.inner(c, c2)] += dot(col, kernels[c2].col_as_slice(j));
            }
        }
    }
    if a.start != b.start {
        for v in &mut sums {
            *v *= 2.0;
        }
    }
    sums
}

/// The per-output NTK statistics of the network on `x` (n × d_0) against
/// the targets `y` (n × m) (module docs), in tiles and panels of `blocking`.
/// `progress(done, total)` is called from the calling thread after each
/// batch of tile pairs. Never modifies `params`.
pub fn kernel_statistics(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    blocking: Blocking,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<KernelStatistics, NtkError> {
    kernel_statistics_of(Model::Mlp(arch), params, x, y, blocking, progress)
}

/// [`kernel_statistics`] of any [`Model`].
pub fn kernel_statistics_of(
    model: Model<'_>,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    blocking: Blocking,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<KernelStatistics, NtkError> {
    model.check(params)?;
    let n = x.nrows();
    if n == 0 {
        return Err(NetworkError::Data("no samples".into()).into());
    }
    if y.nrows() != n {
        return Err(MetricError::ShapeMismatch {
            what: "kernel statistics (samples vs target rows)",
            left: (n, x.ncols()),
            right: (y.nrows(), y.ncols()),
        }
        .into());
    }
    if y.has_nan() || !y.is_all_finite() {
        return Err(MetricError::NonFinite { what: "target" }.into());
    }
    let outputs = model.outputs();
    let m = y.ncols();
    // [Y, HY] and their squared norms.
    let mut targets = Mat::from_fn(n, 2 * m, |i, t| y[(i, t % m)]);
    for t in m..2 * m {
        let col = targets.col_as_slice_mut(t);
        let mean = col.iter().sum::<f64>() / n as f64;
        for v in col.iter_mut() {
            *v -= mean;
        }
    }
    let norm_sq = |t: usize| dot(targets.col_as_slice(t), targets.col_as_slice(t));
    let target_norm_sq = (0..m).map(norm_sq).collect();
    let centered_target_norm_sq = (m..2 * m).map(norm_sq).collect();

    let tile = blocking.tile.max(1);
    let all = tiles(n, tile);
    let row_sums = row_sums(model, params, x, &all)?;
    let mut means = row_sums.clone();
    means *= faer::Scale(1.0 / n as f64);
    let grand: Vec<f64> = (0..outputs)
        .map(|c| row_sums.col(c).iter().sum::<f64>() / (n as f64 * n as f64))
        .collect();

    let layout = Layout {
        outputs,
        targets: 2 * m,
    };
    let shared = Shared {
        layout,
        targets: targets.as_ref(),
        means: means.as_ref(),
        grand: &grand,
    };
    let panels: Vec<&[(usize, usize)]> = all.chunks(blocking.panel_tiles.max(1)).collect();
    let total = (all.len() * (all.len() + 1) / 2) as u64;
    let mut done = 0u64;
    progress(done, total);
    let mut totals = vec![0.0; layout.len()];
    // One set of buffers per thread for the whole pass (fresh multi-MB
    // buffers per tile pair cost page faults); their contents never reach
    // the results.
    let scratch: Vec<Mutex<Scratch>> = (0..rayon::current_num_threads().max(1))
        .map(|_| Mutex::new(Scratch::new(outputs)))
        .collect();
    for (pi, rows) in panels.iter().enumerate() {
        let row_tangents = panel_tangents(model, params, x, rows)?;
        let mut row_sums_acc = vec![vec![0.0; layout.len()]; rows.len()];
        for (pj, cols) in panels.iter().enumerate().skip(pi) {
            let owned;
            let col_tangents = if pj == pi {
                &row_tangents
            } else {
                owned = panel_tangents(model, params, x, cols)?;
                &owned
            };
            let pairs: Vec<(usize, usize)> = (0..rows.len())
                .flat_map(|ta| {
                    let first = if pj == pi { ta } else { 0 };
                    (first..cols.len()).map(move |tb| (ta, tb))
                })
                .collect();
            let results: Vec<Vec<f64>> = pairs
                .par_iter()
                .map(|&(ta, tb)| {
                    let slot = rayon::current_thread_index().unwrap_or(0) % scratch.len();
                    let mut scratch = scratch[slot].lock().unwrap_or_else(|e| e.into_inner());
                    tile_pair_sums(&shared, &row_tangents[ta], &col_tangents[tb], &mut scratch)
                })
                .collect();
            // For a fixed row tile, column tiles arrive in increasing order.
            for (&(ta, _), r) in pairs.iter().zip(&results) {
                for (acc, v) in row_sums_acc[ta].iter_mut().zip(r) {
                    *acc += v;
                }
            }
            done += pairs.len() as u64;
            progress(done, total);
        }
        for acc in &row_sums_acc {
            for (t, v) in totals.iter_mut().zip(acc) {
                *t += v;
            }
        }
    }

    let mut inner = Mat::zeros(outputs, outputs);
    for c in 0..outputs {
        for c2 in c..outputs {
            let v = totals[layout.inner(c, c2)];
            inner[(c, c2)] = v;
            inner[(c2, c)] = v;
        }
    }
    Ok(KernelStatistics {
        samples: n,
        inner,
        // One sample: H = 0, so HΘH is zero exactly, whatever round-off the
        // row sums (another summation order than the kernel block) leave.
        centered_norm_sq: (0..outputs)
            .map(|c| {
                if n == 1 {
                    0.0
                } else {
                    totals[layout.centered_norm(c)]
                }
            })
            .collect(),
        quadratic: Mat::from_fn(outputs, m, |c, t| totals[layout.quadratic(c, t)]),
        centered_quadratic: Mat::from_fn(outputs, m, |c, t| totals[layout.quadratic(c, m + t)]),
        target_norm_sq,
        centered_target_norm_sq,
        row_sums,
    })
}
