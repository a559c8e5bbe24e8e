//! Training dynamics for any model whose parameters are a list of matrices
//! (SPEC §2.4).
//!
//! * [`gradient_flow`]: `dθ/dt = −∇ℒ(θ) − λθ`, integrated by the embedded
//!   Dormand–Prince 5(4) Runge–Kutta pair with error control (never plain
//!   small-step GD called "gradient flow").
//! * [`optimizers`]: gradient descent `θ ← (1 − ηλ)θ − η∇ℒ(θ)` (the
//!   forward-Euler discretisation of the flow, time `t = kη`), minibatch
//!   SGD, heavy-ball and Nesterov momentum, Adam (L2-coupled decay) and
//!   AdamW (decoupled decay), one interface.
//! * [`schedule`]: checkpoint times, log-spaced or linear.
//!
//! The model is seen only through [`Objective`]: a data loss and its
//! gradient. Weight decay λ is applied by the dynamics (coupled L2: the
//! penalised loss is `ℒ + (λ/2) Σ_l ‖W_l‖_F²`). At each checkpoint the
//! observer receives an immutable view of the parameters, so measurements
//! cannot change the run.
#![warn(missing_docs)]

pub mod gradient_flow;
pub mod optimizers;
pub mod params;
pub mod schedule;

use faer::Mat;

pub use gradient_flow::{GradientFlow, run_gradient_flow};
pub use optimizers::{Decay, Method, Optimizer, OptimizerParams, run_optimizer};
pub use schedule::Schedule;

/// A differentiable training loss of a list of matrices.
pub trait Objective {
    /// Data loss `ℒ(θ)` (without weight decay) and its gradient, written into
    /// `grad` (same shapes as `params`). Implementations may keep scratch
    /// space in `self`; they must not retain `params`.
    fn loss_and_gradient(&mut self, params: &[Mat<f64>], grad: &mut [Mat<f64>]) -> f64;

    /// Number of samples that minibatches index (0: full batch only, and a
    /// minibatch optimiser refuses to run).
    fn samples(&self) -> usize {
        0
    }

    /// Loss and gradient on the samples `batch` (indices below
    /// [`Objective::samples`]). Only called when `samples() > 0`; the
    /// default is the full-batch value.
    fn batch_loss_and_gradient(
        &mut self,
        params: &[Mat<f64>],
        batch: &[usize],
        grad: &mut [Mat<f64>],
    ) -> f64 {
        let _ = batch;
        self.loss_and_gradient(params, grad)
    }
}

/// What the observer sees at a checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint<'a> {
    /// Index in the schedule.
    pub index: usize,
    /// Time t (for GD, `t = step·η`).
    pub time: f64,
    /// Accepted integrator steps (gradient flow) or updates (GD) so far.
    pub step: usize,
    /// Data loss `ℒ(θ(t))` (without the weight-decay penalty).
    pub loss: f64,
    /// The parameters, read-only.
    pub params: &'a [Mat<f64>],
}

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DynamicsError {
    /// The loss or a parameter became NaN or infinite.
    #[error("diverged at step {step} (t = {time:.6e}): non-finite loss or weights")]
    Diverged {
        /// Step at which the non-finite value appeared.
        step: usize,
        /// Time reached.
        time: f64,
    },
    /// The adaptive step size fell below its floor: the problem is too stiff
    /// for the requested tolerances.
    #[error("gradient flow step size underflow at t = {time:.6e} (h = {step_size:.3e})")]
    StepSizeUnderflow {
        /// Time reached.
        time: f64,
        /// Last step size tried.
        step_size: f64,
    },
    /// The step budget was exhausted before the last checkpoint.
    #[error("step limit {limit} reached at t = {time:.6e}")]
    StepLimit {
        /// The limit.
        limit: usize,
        /// Time reached.
        time: f64,
    },
    /// A hyperparameter is invalid; the message names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending hyperparameter.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Summary of a finished run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunStats {
    /// Accepted steps.
    pub steps: usize,
    /// Rejected steps (gradient flow only).
    pub rejected: usize,
    /// Gradient evaluations.
    pub evaluations: usize,
}
