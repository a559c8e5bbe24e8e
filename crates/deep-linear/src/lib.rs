//! Deep linear networks `f(x) = W_L ⋯ W_1 x = P x` (SPEC §0, §2).
//!
//! * [`forward`], [`end_to_end`]: the outputs `F(X) = X Pᵀ` and `P`.
//! * [`RegressionStats`] and [`LinearObjective`]: the MSE loss
//!   `ℒ = 1/(2n) ‖X Pᵀ − Y‖_F²` and its exact gradients. Full-batch MSE of a
//!   linear network depends on the data only through `Σ_xx = XᵀX/n`,
//!   `Σ_yx = YᵀX/n` and `‖Y‖_F²/(2n)`:
//!   `ℒ = ½⟨PΣ_xx, P⟩ − ⟨Σ_yx, P⟩ + ‖Y‖²/(2n)`, `∇_P ℒ = PΣ_xx − Σ_yx`,
//!   and by the chain rule
//!   `∇_{W_l} ℒ = (W_L⋯W_{l+1})ᵀ ∇_P ℒ (W_{l−1}⋯W_1)ᵀ`.
//!   A gradient evaluation therefore never touches the n samples.
//! * [`nfm`], [`agop`]: the feature matrices of layer l; every sample has
//!   the same input gradient, so `G_l = P_lᵀP_l` with `P_l = W_L⋯W_l`.
#![warn(missing_docs)]

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use metrics::MetricError;

/// Shapes of consecutive layers do not chain, or the data do not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// No layers.
    #[error("a network needs at least one layer")]
    Empty,
    /// `W_{l+1}` does not take the output of `W_l`.
    #[error("layer {next} has {cols} columns but layer {layer} has {rows} rows")]
    Chain {
        /// 1-based index l.
        layer: usize,
        /// Rows of W_l.
        rows: usize,
        /// 1-based index l + 1.
        next: usize,
        /// Columns of W_{l+1}.
        cols: usize,
    },
    /// The data do not match the network.
    #[error("data: {0}")]
    Data(String),
}

/// Check that `layers = [W_1, …, W_L]` chain and return the widths
/// `[d_0, …, d_L]`.
pub fn widths(layers: &[Mat<f64>]) -> Result<Vec<usize>, ShapeError> {
    let first = layers.first().ok_or(ShapeError::Empty)?;
    let mut out = vec![first.ncols()];
    for (l, w) in layers.iter().enumerate() {
        if l > 0 && w.ncols() != layers[l - 1].nrows() {
            return Err(ShapeError::Chain {
                layer: l,
                rows: layers[l - 1].nrows(),
                next: l + 1,
                cols: w.ncols(),
            });
        }
        out.push(w.nrows());
    }
    Ok(out)
}

/// End-to-end matrix `P = W_L ⋯ W_1`.
pub fn end_to_end(layers: &[Mat<f64>]) -> Result<Mat<f64>, MetricError> {
    metrics::features::end_to_end(&common::views(layers))
}

/// Outputs `F(X) = X Pᵀ` (n × C) for inputs `x` (n × d).
pub fn forward(layers: &[Mat<f64>], x: MatRef<'_, f64>) -> Result<Mat<f64>, MetricError> {
    let p = end_to_end(layers)?;
    if x.ncols() != p.ncols() {
        return Err(MetricError::ShapeMismatch {
            what: "forward (X cols vs W_1 cols)",
            left: (x.nrows(), x.ncols()),
            right: (p.nrows(), p.ncols()),
        });
    }
    let mut out = Mat::zeros(x.nrows(), p.nrows());
    matmul(
        out.as_mut(),
        Accum::Replace,
        x,
        p.transpose(),
        1.0,
        Par::Seq,
    );
    Ok(out)
}

/// NFM `F_l = W_lᵀW_l` of layer `l` (1-based).
pub fn nfm(layers: &[Mat<f64>], l: usize) -> Mat<f64> {
    metrics::nfm(layers[l - 1].as_ref())
}

/// AGOP `G_l = (W_L⋯W_l)ᵀ(W_L⋯W_l)` of layer `l` (1-based): mean over samples
/// of `Σ_c ∇_{a_{l−1}} f_c ∇_{a_{l−1}} f_cᵀ`, identical for every data set.
pub fn agop(layers: &[Mat<f64>], l: usize) -> Result<Mat<f64>, MetricError> {
    metrics::agop_linear(&common::views(&layers[l - 1..]))
}

/// Sufficient statistics of full-batch MSE regression.
#[derive(Debug, Clone)]
pub struct RegressionStats {
    /// `Σ_xx = XᵀX/n` (d × d).
    pub xx: Mat<f64>,
    /// `Σ_yx = YᵀX/n` (C × d).
    pub yx: Mat<f64>,
    /// `‖Y‖_F²/(2n)`: the loss of the zero predictor.
    pub half_yy: f64,
    /// Number of samples n.
    pub samples: usize,
}

impl RegressionStats {
    /// Statistics of inputs `x` (n × d) and targets `y` (n × C).
    pub fn new(x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<Self, ShapeError> {
        let n = x.nrows();
        if n == 0 || y.nrows() != n {
            return Err(ShapeError::Data(format!(
                "X has {} rows and Y has {}; need the same n ≥ 1",
                n,
                y.nrows()
            )));
        }
        let inv_n = 1.0 / n as f64;
        let mut xx = Mat::zeros(x.ncols(), x.ncols());
        matmul(
            xx.as_mut(),
            Accum::Replace,
            x.transpose(),
            x,
            inv_n,
            Par::Seq,
        );
        let mut yx = Mat::zeros(y.ncols(), x.ncols());
        matmul(
            yx.as_mut(),
            Accum::Replace,
            y.transpose(),
            x,
            inv_n,
            Par::Seq,
        );
        Ok(RegressionStats {
            xx,
            yx,
            half_yy: 0.5 * y.squared_norm_l2() * inv_n,
            samples: n,
        })
    }

    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        self.xx.nrows()
    }

    /// Output dimension C.
    pub fn output_dim(&self) -> usize {
        self.yx.nrows()
    }
}

/// The MSE objective of a deep linear network, evaluated from
/// [`RegressionStats`] with preallocated scratch (no allocation per call).
///
/// With [`LinearObjective::with_samples`] it also evaluates minibatches: the
/// statistics of the batch rows are formed into preallocated buffers
/// (`O(b·d²)`), then the same closed-form gradient applies.
#[derive(Debug)]
pub struct LinearObjective<'a> {
    stats: &'a RegressionStats,
    /// The samples, for minibatches.
    samples: Option<(MatRef<'a, f64>, MatRef<'a, f64>)>,
    /// Statistics and gathered rows of the current minibatch.
    batch: BatchScratch,
    scratch: Scratch,
}

/// Buffers for minibatch statistics.
#[derive(Debug)]
struct BatchScratch {
    stats: RegressionStats,
    x: Mat<f64>,
    y: Mat<f64>,
}

/// Buffers of one loss-and-gradient evaluation.
#[derive(Debug)]
struct Scratch {
    /// `prefix[l] = W_l ⋯ W_1` (d_l × d), l = 1..L (index l − 1).
    prefix: Vec<Mat<f64>>,
    /// `suffix[l] = W_L ⋯ W_{l+1}` (C × d_l), l = 1..L−1 (index l − 1).
    suffix: Vec<Mat<f64>>,
    /// `P Σ_xx − Σ_yx` (C × d).
    grad_p: Mat<f64>,
    /// `∇_P (W_{l−1}⋯W_1)ᵀ` (C × d_{l−1}) per layer.
    left: Vec<Mat<f64>>,
}

impl<'a> LinearObjective<'a> {
    /// An objective for networks with the given `widths = [d_0, …, d_L]`.
    pub fn new(stats: &'a RegressionStats, widths: &[usize]) -> Result<Self, ShapeError> {
        let depth = widths
            .len()
            .checked_sub(1)
            .filter(|&l| l > 0)
            .ok_or(ShapeError::Empty)?;
        let (d, c) = (widths[0], widths[depth]);
        if d != stats.input_dim() || c != stats.output_dim() {
            return Err(ShapeError::Data(format!(
                "network maps {d} → {c} but the data have input dimension {} and {} outputs",
                stats.input_dim(),
                stats.output_dim()
            )));
        }
        Ok(LinearObjective {
            stats,
            samples: None,
            batch: BatchScratch {
                stats: RegressionStats {
                    xx: Mat::zeros(d, d),
                    yx: Mat::zeros(c, d),
                    half_yy: 0.0,
                    samples: 0,
                },
                x: Mat::zeros(0, d),
                y: Mat::zeros(0, c),
            },
            scratch: Scratch {
                prefix: (1..=depth).map(|l| Mat::zeros(widths[l], d)).collect(),
                suffix: (1..depth).map(|l| Mat::zeros(c, widths[l])).collect(),
                grad_p: Mat::zeros(c, d),
                left: (1..=depth).map(|l| Mat::zeros(c, widths[l - 1])).collect(),
            },
        })
    }

    /// Give access to the samples `x` (n × d), `y` (n × C) the statistics
    /// were formed from, enabling minibatches.
    pub fn with_samples(
        mut self,
        x: MatRef<'a, f64>,
        y: MatRef<'a, f64>,
    ) -> Result<Self, ShapeError> {
        if x.nrows() != self.stats.samples
            || y.nrows() != x.nrows()
            || x.ncols() != self.stats.input_dim()
            || y.ncols() != self.stats.output_dim()
        {
            return Err(ShapeError::Data(format!(
                "samples are {}×{} and {}×{}, statistics are of {} samples {} → {}",
                x.nrows(),
                x.ncols(),
                y.nrows(),
                y.ncols(),
                self.stats.samples,
                self.stats.input_dim(),
                self.stats.output_dim()
            )));
        }
        self.samples = Some((x, y));
        Ok(self)
    }
}

impl Scratch {
    /// Loss and gradient from statistics `stats` (see the crate docs).
    fn evaluate(
        &mut self,
        stats: &RegressionStats,
        params: &[Mat<f64>],
        grad: &mut [Mat<f64>],
    ) -> f64 {
        let depth = params.len();
        // Prefix products W_l⋯W_1.
        self.prefix[0].copy_from(&params[0]);
        for l in 1..depth {
            let (done, rest) = self.prefix.split_at_mut(l);
            matmul(
                rest[0].as_mut(),
                Accum::Replace,
                params[l].as_ref(),
                done[l - 1].as_ref(),
                1.0,
                Par::Seq,
            );
        }
        // Suffix products W_L⋯W_{l+1}.
        if depth > 1 {
            self.suffix[depth - 2].copy_from(&params[depth - 1]);
            for l in (1..depth - 1).rev() {
                let (head, tail) = self.suffix.split_at_mut(l);
                matmul(
                    head[l - 1].as_mut(),
                    Accum::Replace,
                    tail[0].as_ref(),
                    params[l].as_ref(),
                    1.0,
                    Par::Seq,
                );
            }
        }
        let p = self.prefix[depth - 1].as_ref();
        // ∇_P = P Σ_xx − Σ_yx; loss = ½⟨∇_P − Σ_yx, P⟩ + ‖Y‖²/(2n).
        matmul(
            self.grad_p.as_mut(),
            Accum::Replace,
            p,
            stats.xx.as_ref(),
            1.0,
            Par::Seq,
        );
        let mut loss = stats.half_yy;
        for j in 0..p.ncols() {
            for i in 0..p.nrows() {
                let g = self.grad_p[(i, j)] - stats.yx[(i, j)];
                loss += 0.5 * (g - stats.yx[(i, j)]) * p[(i, j)];
                self.grad_p[(i, j)] = g;
            }
        }
        // ∇_{W_l} = suffixᵀ (∇_P prefix_{l−1}ᵀ).
        for l in 0..depth {
            let left = &mut self.left[l];
            if l == 0 {
                left.copy_from(&self.grad_p);
            } else {
                matmul(
                    left.as_mut(),
                    Accum::Replace,
                    self.grad_p.as_ref(),
                    self.prefix[l - 1].transpose(),
                    1.0,
                    Par::Seq,
                );
            }
            if l == depth - 1 {
                grad[l].copy_from(&*left);
            } else {
                matmul(
                    grad[l].as_mut(),
                    Accum::Replace,
                    self.suffix[l].transpose(),
                    left.as_ref(),
                    1.0,
                    Par::Seq,
                );
            }
        }
        loss
    }
}

impl optim::Objective for LinearObjective<'_> {
    fn loss_and_gradient(&mut self, params: &[Mat<f64>], grad: &mut [Mat<f64>]) -> f64 {
        self.scratch.evaluate(self.stats, params, grad)
    }

    fn samples(&self) -> usize {
        self.samples.map_or(0, |(x, _)| x.nrows())
    }

    fn batch_loss_and_gradient(
        &mut self,
        params: &[Mat<f64>],
        batch: &[usize],
        grad: &mut [Mat<f64>],
    ) -> f64 {
        let Some((x, y)) = self.samples else {
            return self.loss_and_gradient(params, grad);
        };
        let b = &mut self.batch;
        if b.x.nrows() != batch.len() {
            b.x = Mat::zeros(batch.len(), x.ncols());
            b.y = Mat::zeros(batch.len(), y.ncols());
        }
        for (r, &i) in batch.iter().enumerate() {
            for j in 0..x.ncols() {
                b.x[(r, j)] = x[(i, j)];
            }
            for j in 0..y.ncols() {
                b.y[(r, j)] = y[(i, j)];
            }
        }
        let inv = 1.0 / batch.len() as f64;
        matmul(
            b.stats.xx.as_mut(),
            Accum::Replace,
            b.x.transpose(),
            b.x.as_ref(),
            inv,
            Par::Seq,
        );
        matmul(
            b.stats.yx.as_mut(),
            Accum::Replace,
            b.y.transpose(),
            b.x.as_ref(),
            inv,
            Par::Seq,
        );
        b.stats.half_yy = 0.5 * b.y.squared_norm_l2() * inv;
        b.stats.samples = batch.len();
        self.scratch.evaluate(&b.stats, params, grad)
    }
}
