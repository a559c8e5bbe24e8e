//! Discrete optimisers sharing one interface (SPEC §2.4): gradient descent,
//! minibatch SGD (seeded batch order), SGD with heavy-ball or Nesterov
//! momentum, Adam with L2-coupled decay, and AdamW (decoupled decay).
//!
//! Hyperparameters are written as [`OptimizerParams`] and checked by
//! [`OptimizerParams::validate`] into an [`Optimizer`], the only type the
//! runner accepts, so invalid settings cannot reach the numerics.
//!
//! Updates, with data gradient `g = ∇ℒ_B(θ)` on the batch B, step size η and
//! weight decay λ (PyTorch's conventions):
//!
//! * GD / SGD: `θ ← θ − η(g + λθ)`.
//! * Heavy ball: `v ← μv + (g + λθ)`, `θ ← θ − ηv`.
//! * Nesterov: `v ← μv + (g + λθ)`, `θ ← θ − η((g + λθ) + μv)`.
//! * Adam (L2-coupled): `g ← g + λθ`, `m ← β₁m + (1−β₁)g`,
//!   `v ← β₂v + (1−β₂)g²`, `θ ← θ − η m̂/(√v̂ + ε)` with bias corrections
//!   `m̂ = m/(1−β₁^k)`, `v̂ = v/(1−β₂^k)`.
//! * AdamW: `θ ← (1 − ηλ)θ`, then the Adam step on the undecayed g.
//! * Speed-limited GD (a reconstruction of BMA24's speed-limited
//!   optimisation, SPEC §4): with `d = g + λθ`, the chosen layer steps by
//!   `W_l ← W_l − s·d_l/‖d_l‖_F` (a step of fixed length s, whatever the
//!   gradient's scale), every other layer by `W_k ← W_k − η d_k`.
//!
//! Only GD has a theorem about the imbalances (TMC25, via the exact one-step
//! identity `D' = (1−ηλ)²D + η²(∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ)`); the others are
//! measured, not predicted.

use faer::Mat;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::params::{all_finite, axpy, scale, zeros_like};
use crate::{Checkpoint, DynamicsError, Objective, RunStats};

/// The update rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Plain (stochastic) gradient descent.
    Gd,
    /// Heavy-ball momentum μ ∈ [0, 1).
    HeavyBall {
        /// μ.
        momentum: f64,
    },
    /// Nesterov momentum μ ∈ [0, 1).
    Nesterov {
        /// μ.
        momentum: f64,
    },
    /// Adam.
    Adam {
        /// β₁ ∈ [0, 1).
        beta1: f64,
        /// β₂ ∈ [0, 1).
        beta2: f64,
        /// ε > 0.
        epsilon: f64,
    },
    /// GD (or SGD) whose layer `layer` (0-based, in the order of the
    /// parameters) takes steps of length `speed` along its gradient.
    SpeedLimited {
        /// The speed-limited parameter matrix (0-based).
        layer: usize,
        /// Step length s > 0 of that layer, in the Frobenius norm.
        speed: f64,
    },
}

/// How weight decay enters the update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decay {
    /// Added to the gradient, `g + λθ` (the penalty `(λ/2)‖θ‖²`).
    L2,
    /// Applied to the weights apart from the adaptive step (AdamW).
    Decoupled,
}

/// Unchecked hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerParams {
    /// Update rule.
    pub method: Method,
    /// η > 0.
    pub learning_rate: f64,
    /// λ ≥ 0.
    pub weight_decay: f64,
    /// Coupling of the decay (`Decoupled` only with Adam).
    pub decay: Decay,
    /// Minibatch size; `None` = full batch.
    pub batch_size: Option<usize>,
    /// Seed of the batch order (reshuffled every epoch).
    pub batch_seed: u64,
}

/// Validated hyperparameters: constructed only by
/// [`OptimizerParams::validate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optimizer(OptimizerParams);

fn invalid(field: &'static str, message: String) -> DynamicsError {
    DynamicsError::Invalid { field, message }
}

fn unit_interval(field: &'static str, v: f64) -> Result<(), DynamicsError> {
    if v.is_finite() && (0.0..1.0).contains(&v) {
        Ok(())
    } else {
        Err(invalid(field, format!("must be in [0, 1), got {v}")))
    }
}

impl OptimizerParams {
    /// Full-batch gradient descent with L2 decay.
    pub fn gd(learning_rate: f64, weight_decay: f64) -> Self {
        OptimizerParams {
            method: Method::Gd,
            learning_rate,
            weight_decay,
            decay: Decay::L2,
            batch_size: None,
            batch_seed: 0,
        }
    }

    /// Check every hyperparameter; the error names the field.
    pub fn validate(self) -> Result<Optimizer, DynamicsError> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(invalid(
                "dynamics.learning_rate",
                format!("must be finite and > 0, got {}", self.learning_rate),
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(invalid(
                "dynamics.weight_decay",
                format!("must be finite and ≥ 0, got {}", self.weight_decay),
            ));
        }
        if self.batch_size == Some(0) {
            return Err(invalid("dynamics.batch_size", "must be at least 1".into()));
        }
        match self.method {
            Method::Gd => {}
            Method::SpeedLimited { speed, .. } => {
                if !(speed.is_finite() && speed > 0.0) {
                    return Err(invalid(
                        "dynamics.speed",
                        format!("must be finite and > 0, got {speed}"),
                    ));
                }
            }
            Method::HeavyBall { momentum } | Method::Nesterov { momentum } => {
                unit_interval("dynamics.momentum", momentum)?
            }
            Method::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                unit_interval("dynamics.beta1", beta1)?;
                unit_interval("dynamics.beta2", beta2)?;
                if !(epsilon.is_finite() && epsilon > 0.0) {
                    return Err(invalid(
                        "dynamics.epsilon",
                        format!("must be finite and > 0, got {epsilon}"),
                    ));
                }
            }
        }
        if self.decay == Decay::Decoupled && !matches!(self.method, Method::Adam { .. }) {
            return Err(invalid(
                "dynamics.decay",
                "decoupled decay is defined for Adam (AdamW) only".into(),
            ));
        }
        Ok(Optimizer(self))
    }
}

/// Optimiser state carried between steps.
#[derive(Debug, Clone)]
struct State {
    /// Momentum buffer, or Adam's first moment.
    first: Vec<Mat<f64>>,
    /// Adam's second moment.
    second: Vec<Mat<f64>>,
    /// Steps taken.
    step: usize,
}

impl Optimizer {
    /// The validated hyperparameters.
    pub fn params(&self) -> &OptimizerParams {
        &self.0
    }

    /// Short name: `gd`, `sgd`, `momentum`, `nesterov`, `adam_l2`, `adamw`,
    /// `speed_limited`.
    pub fn name(&self) -> &'static str {
        match (self.0.method, self.0.decay, self.0.batch_size) {
            (Method::Gd, _, None) => "gd",
            (Method::Gd, _, Some(_)) => "sgd",
            (Method::SpeedLimited { .. }, _, _) => "speed_limited",
            (Method::HeavyBall { .. }, _, _) => "momentum",
            (Method::Nesterov { .. }, _, _) => "nesterov",
            (Method::Adam { .. }, Decay::L2, _) => "adam_l2",
            (Method::Adam { .. }, Decay::Decoupled, _) => "adamw",
        }
    }

    fn state(&self, like: &[Mat<f64>]) -> State {
        State {
            first: zeros_like(like),
            second: match self.0.method {
                Method::Adam { .. } => zeros_like(like),
                _ => Vec::new(),
            },
            step: 0,
        }
    }

    /// One update of `theta` from the data gradient `grad` (which it may
    /// overwrite with the decayed gradient).
    fn step(&self, state: &mut State, theta: &mut [Mat<f64>], grad: &mut [Mat<f64>]) {
        let p = &self.0;
        let (eta, lambda) = (p.learning_rate, p.weight_decay);
        state.step += 1;
        if lambda != 0.0 {
            match p.decay {
                Decay::L2 => axpy(grad, lambda, theta),
                Decay::Decoupled => scale(theta, 1.0 - eta * lambda),
            }
        }
        match p.method {
            Method::Gd => axpy(theta, -eta, grad),
            Method::SpeedLimited { layer, speed } => {
                for (l, (w, d)) in theta.iter_mut().zip(grad.iter()).enumerate() {
                    let step = if l == layer {
                        // A zero gradient takes no step (0/tiny = 0).
                        speed / d.norm_l2().max(f64::MIN_POSITIVE)
                    } else {
                        eta
                    };
                    axpy(std::slice::from_mut(w), -step, std::slice::from_ref(d));
                }
            }
            Method::HeavyBall { momentum } => {
                scale(&mut state.first, momentum);
                axpy(&mut state.first, 1.0, grad);
                axpy(theta, -eta, &state.first);
            }
            Method::Nesterov { momentum } => {
                scale(&mut state.first, momentum);
                axpy(&mut state.first, 1.0, grad);
                axpy(theta, -eta, grad);
                axpy(theta, -eta * momentum, &state.first);
            }
            Method::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                let k = state.step as i32;
                let (c1, c2) = (1.0 - beta1.powi(k), 1.0 - beta2.powi(k));
                // Element-wise (no reduction): the same bits at any vector
                // width (`params` module docs).
                pulp::Arch::new().dispatch(
                    #[inline(always)]
                    || {
                        for l in 0..theta.len() {
                            let (m, v, g, w) = (
                                &mut state.first[l],
                                &mut state.second[l],
                                &grad[l],
                                &mut theta[l],
                            );
                            for j in 0..w.ncols() {
                                let (mc, vc, gc) = (
                                    m.col_as_slice_mut(j),
                                    v.col_as_slice_mut(j),
                                    g.col_as_slice(j),
                                );
                                let wc = w.col_as_slice_mut(j);
                                for i in 0..wc.len() {
                                    mc[i] = beta1 * mc[i] + (1.0 - beta1) * gc[i];
                                    vc[i] = beta2 * vc[i] + (1.0 - beta2) * gc[i] * gc[i];
                                    wc[i] -= eta * (mc[i] / c1) / ((vc[i] / c2).sqrt() + epsilon);
                                }
                            }
                        }
                    },
                );
            }
        }
    }
}

/// Seeded batch order: a fresh permutation of the samples every epoch.
struct Batches {
    order: Vec<usize>,
    next: usize,
    size: usize,
    rng: ChaCha8Rng,
}

impl Batches {
    fn new(samples: usize, size: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut order: Vec<usize> = (0..samples).collect();
        order.shuffle(&mut rng);
        Batches {
            order,
            next: 0,
            size: size.min(samples),
            rng,
        }
    }

    fn next_batch(&mut self) -> &[usize] {
        if self.next + self.size > self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.next = 0;
        }
        let batch = &self.order[self.next..self.next + self.size];
        self.next += self.size;
        batch
    }
}

/// Run `optimizer` from `theta0` through the increasing checkpoint `steps`
/// (the first may be 0), calling `observe` at each with `t = kη` and the
/// full-batch loss. Stops with [`DynamicsError::Diverged`] naming the step
/// at which the loss, a gradient or a weight became non-finite.
pub fn run_optimizer<O: Objective>(
    optimizer: &Optimizer,
    objective: &mut O,
    theta0: &[Mat<f64>],
    steps: &[usize],
    mut observe: impl FnMut(Checkpoint<'_>),
) -> Result<(Vec<Mat<f64>>, RunStats), DynamicsError> {
    if steps.windows(2).any(|w| w[1] <= w[0]) {
        return Err(invalid(
            "checkpoints",
            "steps must be strictly increasing".into(),
        ));
    }
    let p = optimizer.params();
    if let Method::SpeedLimited { layer, .. } = p.method
        && layer >= theta0.len()
    {
        return Err(invalid(
            "dynamics.layer",
            format!(
                "the speed-limited layer must be one of the {} parameter matrices, got index {layer}",
                theta0.len()
            ),
        ));
    }
    let mut batches = match p.batch_size {
        None => None,
        Some(size) => {
            let n = objective.samples();
            if n == 0 {
                return Err(invalid(
                    "dynamics.batch_size",
                    "this objective has no samples to batch".into(),
                ));
            }
            Some(Batches::new(n, size, p.batch_seed))
        }
    };
    let mut theta = theta0.to_vec();
    let mut grad = zeros_like(theta0);
    let mut state = optimizer.state(theta0);
    let mut stats = RunStats {
        steps: 0,
        rejected: 0,
        evaluations: 0,
    };
    let last = steps.last().copied().unwrap_or(0);
    let mut next = 0;
    let diverged = |k: usize| DynamicsError::Diverged {
        step: k,
        time: k as f64 * p.learning_rate,
    };
    for k in 0..=last {
        let at_checkpoint = steps.get(next) == Some(&k);
        // The full-batch loss is needed at checkpoints, and its gradient is
        // the update direction of full-batch methods.
        let full_loss = if at_checkpoint || batches.is_none() {
            stats.evaluations += 1;
            Some(objective.loss_and_gradient(&theta, &mut grad))
        } else {
            None
        };
        if full_loss.is_some_and(|l| !l.is_finite()) || !all_finite(&theta) {
            return Err(diverged(k));
        }
        if let (true, Some(loss)) = (at_checkpoint, full_loss) {
            observe(Checkpoint {
                index: next,
                time: k as f64 * p.learning_rate,
                step: k,
                loss,
                params: &theta,
            });
            next += 1;
        }
        if k == last {
            break;
        }
        if let Some(b) = batches.as_mut() {
            stats.evaluations += 1;
            let loss = objective.batch_loss_and_gradient(&theta, b.next_batch(), &mut grad);
            if !loss.is_finite() {
                return Err(diverged(k));
            }
        }
        if !all_finite(&grad) {
            return Err(diverged(k));
        }
        optimizer.step(&mut state, &mut theta, &mut grad);
        stats.steps += 1;
    }
    Ok((theta, stats))
}
