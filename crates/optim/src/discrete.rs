//! Gradient descent with coupled L2 weight decay:
//! `θ_{k+1} = θ_k − η(∇ℒ(θ_k) + λθ_k) = (1 − ηλ)θ_k − η∇ℒ(θ_k)`.
//!
//! GD is the forward-Euler discretisation of gradient flow with step η, so
//! time is `t = kη`. Unlike the flow it does not conserve the imbalances: one
//! step changes `D_l` by `η²(∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ)` when λ = 0
//! (TMC25; checked in the claims).

use faer::Mat;

use crate::optimizers::{OptimizerParams, run_optimizer};
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
}

/// Run GD from `theta0` through the increasing checkpoint `steps` (the first
/// may be 0), calling `observe` at each with `t = kη`.
pub fn run_gradient_descent<O: Objective>(
    settings: &GradientDescent,
    objective: &mut O,
    theta0: &[Mat<f64>],
    steps: &[usize],
    observe: impl FnMut(Checkpoint<'_>),
) -> Result<(Vec<Mat<f64>>, RunStats), DynamicsError> {
    settings.validate()?;
    let optimizer =
        OptimizerParams::gd(settings.learning_rate, settings.weight_decay).validate()?;
    run_optimizer(&optimizer, objective, theta0, steps, observe)
}
