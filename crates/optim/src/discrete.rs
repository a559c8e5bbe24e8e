//! Gradient descent with coupled L2 weight decay:
//! `θ_{k+1} = θ_k − η(∇ℒ(θ_k) + λθ_k) = (1 − ηλ)θ_k − η∇ℒ(θ_k)`.
//!
//! GD is the forward-Euler discretisation of gradient flow with step η, so
//! time is `t = kη`. Unlike the flow it does not conserve the imbalances: one
//! step changes `D_l` by `η²(∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ)` when λ = 0
//! (TMC25; checked in the claims).

use faer::Mat;

use crate::params::{all_finite, axpy, scale, zeros_like};
use crate::{Checkpoint, DynamicsError, Objective, RunStats};

/// Settings of gradient descent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientDescent {
    /// Step size η > 0.
    pub learning_rate: f64,
    /// Weight decay λ ≥ 0 (coupled L2).
    pub weight_decay: f64,
}

impl GradientDescent {
    /// Check the settings; the error names the field.
    pub fn validate(&self) -> Result<(), DynamicsError> {
        let bad = |field, message: String| Err(DynamicsError::Invalid { field, message });
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                "dynamics.learning_rate",
                format!("must be finite and > 0, got {}", self.learning_rate),
            );
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(
                "dynamics.weight_decay",
                format!("must be finite and ≥ 0, got {}", self.weight_decay),
            );
        }
        Ok(())
    }

    /// Step indices nearest to the checkpoint `times` (`k = round(t/η)`),
    /// with duplicates removed.
    pub fn checkpoint_steps(&self, times: &[f64]) -> Vec<usize> {
        let mut steps: Vec<usize> = times
            .iter()
            .map(|t| (t / self.learning_rate).round() as usize)
            .collect();
        steps.dedup();
        steps
    }

    /// One update `θ ← (1 − ηλ)θ − η·grad` in place.
    pub fn update(&self, theta: &mut [Mat<f64>], grad: &[Mat<f64>]) {
        if self.weight_decay != 0.0 {
            scale(theta, 1.0 - self.learning_rate * self.weight_decay);
        }
        axpy(theta, -self.learning_rate, grad);
    }
}

/// Run GD from `theta0` through the increasing checkpoint `steps` (the first
/// may be 0), calling `observe` at each with `t = kη`.
pub fn run_gradient_descent<O: Objective>(
    settings: &GradientDescent,
    objective: &mut O,
    theta0: &[Mat<f64>],
    steps: &[usize],
    mut observe: impl FnMut(Checkpoint<'_>),
) -> Result<(Vec<Mat<f64>>, RunStats), DynamicsError> {
    settings.validate()?;
    if steps.windows(2).any(|w| w[1] <= w[0]) {
        return Err(DynamicsError::Invalid {
            field: "checkpoints",
            message: "steps must be strictly increasing".into(),
        });
    }
    let mut theta = theta0.to_vec();
    let mut grad = zeros_like(theta0);
    let mut stats = RunStats {
        steps: 0,
        rejected: 0,
        evaluations: 0,
    };
    let last = steps.last().copied().unwrap_or(0);
    let mut next = 0;
    for k in 0..=last {
        let loss = objective.loss_and_gradient(&theta, &mut grad);
        stats.evaluations += 1;
        if !loss.is_finite() || !all_finite(&theta) || !all_finite(&grad) {
            return Err(DynamicsError::Diverged {
                step: k,
                time: k as f64 * settings.learning_rate,
            });
        }
        if steps.get(next) == Some(&k) {
            observe(Checkpoint {
                index: next,
                time: k as f64 * settings.learning_rate,
                step: k,
                loss,
                params: &theta,
            });
            next += 1;
        }
        if k < last {
            settings.update(&mut theta, &grad);
            stats.steps += 1;
        }
    }
    Ok((theta, stats))
}
