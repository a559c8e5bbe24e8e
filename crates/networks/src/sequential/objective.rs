//! The MSE objective of a [`Sequential`] network, `ℒ = 1/(2n) ‖F − Y‖_F²`,
//! and its gradient by backpropagation: the backward pass of
//! [`tangents`](super::tangents) seeded with the residual `(F − Y)/n`
//! (one column per sample) instead of `e_c`, so that at parametrised layer
//! j `∇W_j = δ · inputᵀ` (for a convolution summed over positions through
//! the patches) and `∇b_j = δ1`. Trainable with every optimiser of `optim`.

use common::linalg::rows;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use super::Sequential;
use super::forward::forward_columns;
use super::tangents::{backward_from, panel_samples};
use crate::NetworkError;

/// The MSE objective of a sequential network on a data set, for `optim`'s
/// dynamics and optimisers (full batch or minibatches).
#[derive(Debug)]
pub struct SequentialObjective<'a> {
    net: Sequential,
    x: MatRef<'a, f64>,
    y: MatRef<'a, f64>,
}

impl<'a> SequentialObjective<'a> {
    /// The objective of `net` on inputs `x` (n × input size, NCHW rows)
    /// and targets `y` (n × C).
    pub fn new(
        net: Sequential,
        x: MatRef<'a, f64>,
        y: MatRef<'a, f64>,
    ) -> Result<Self, NetworkError> {
        net.check_data(x)?;
        if (y.nrows(), y.ncols()) != (x.nrows(), net.outputs()) {
            return Err(NetworkError::Data(format!(
                "Y is {}×{}, expected {}×{}",
                y.nrows(),
                y.ncols(),
                x.nrows(),
                net.outputs()
            )));
        }
        Ok(SequentialObjective { net, x, y })
    }

    /// Loss and gradient on the rows `x`, `y` (module docs), in panels of
    /// samples whose sums are added in order.
    fn evaluate(
        &self,
        params: &[Mat<f64>],
        x: MatRef<'_, f64>,
        y: MatRef<'_, f64>,
        grad: &mut [Mat<f64>],
    ) -> f64 {
        let net = &self.net;
        net.check(params)
            .expect("parameters of the network's shapes");
        let bias_slot = net.bias_indices();
        for g in grad.iter_mut() {
            g.fill(0.0);
        }
        let n = x.nrows() as f64;
        let mut loss = 0.0;
        let panel = panel_samples(net);
        for start in (0..x.nrows()).step_by(panel) {
            let rows = panel.min(x.nrows() - start);
            let columns = x.subrows(start, rows).transpose().to_owned();
            let fwd = forward_columns(net, params, columns.as_ref(), Par::Seq);
            let mut residual = fwd.output() - y.subrows(start, rows).transpose();
            loss += 0.5 * residual.squared_norm_l2() / n;
            residual *= faer::Scale(1.0 / n);
            backward_from(
                net,
                params,
                columns.as_ref(),
                &fwd,
                residual,
                &mut |j, at| {
                    matmul(
                        grad[j].as_mut(),
                        Accum::Add,
                        at.delta,
                        at.input.transpose(),
                        1.0,
                        Par::Seq,
                    );
                    if let Some(slot) = bias_slot[j] {
                        for o in 0..at.delta.nrows() {
                            grad[slot][(0, o)] += at.delta.row(o).sum();
                        }
                    }
                },
            );
        }
        loss
    }
}

impl optim::Objective for SequentialObjective<'_> {
    fn loss_and_gradient(&mut self, params: &[Mat<f64>], grad: &mut [Mat<f64>]) -> f64 {
        self.evaluate(params, self.x, self.y, grad)
    }

    fn samples(&self) -> usize {
        self.x.nrows()
    }

    fn batch_loss_and_gradient(
        &mut self,
        params: &[Mat<f64>],
        batch: &[usize],
        grad: &mut [Mat<f64>],
    ) -> f64 {
        let (xb, yb) = (rows(self.x, batch), rows(self.y, batch));
        self.evaluate(params, xb.as_ref(), yb.as_ref(), grad)
    }
}
