//! Integration tests of `optim`, one binary: each module below is a
//! test file of its own.

mod dynamics;
mod optimizers;

use faer::Mat;
use optim::Objective;

/// `ℒ(W) = ½ Σ_l ‖W_l − T_l‖_F²`: gradient `W_l − T_l` per matrix, so
/// gradient flow with weight decay λ solves `dW/dt = −(W − T) − λW`, i.e.
/// `W(t) = W* + (W_0 − W*)e^{−(1+λ)t}` with `W* = T/(1+λ)`.
pub struct Quadratic {
    pub target: Vec<Mat<f64>>,
}

impl Objective for Quadratic {
    fn loss_and_gradient(&mut self, params: &[Mat<f64>], grad: &mut [Mat<f64>]) -> f64 {
        let mut loss = 0.0;
        for ((p, t), g) in params.iter().zip(&self.target).zip(grad.iter_mut()) {
            let d = p - t;
            loss += 0.5 * d.squared_norm_l2();
            g.copy_from(&d);
        }
        loss
    }
}

/// Deterministic matrices of the given shapes with entries in [−5/3, 5/3]
/// that differ per matrix and per `seed`.
pub fn mats(shapes: &[(usize, usize)], seed: u64) -> Vec<Mat<f64>> {
    shapes
        .iter()
        .enumerate()
        .map(|(k, &(r, c))| {
            Mat::from_fn(r, c, |i, j| {
                (((seed + 7 * k as u64 + 3 * i as u64 + 5 * j as u64) % 11) as f64 - 5.0) / 3.0
            })
        })
        .collect()
}
