//! Running a validated experiment: data set, initial network, dynamics, and
//! the trajectory of parameter snapshots taken at the checkpoints.
//!
//! One run path serves every network. A deep linear network (identity, no
//! biases) is trained through [`deep_linear::LinearObjective`], which
//! evaluates the loss and gradient from the sufficient statistics
//! `XᵀX/n`, `YᵀX/n` (and forms minibatch statistics from the samples);
//! every other fully connected network through [`networks::MlpObjective`]
//! (backpropagation on the samples, SPEC §0), and a sequential
//! (convolutional) network through [`SequentialObjective`] (SPEC §9). Both go to the same dynamics:
//! [`optim::run_gradient_flow`] for gradient flow, [`optim::run_optimizer`]
//! for the discrete optimisers (minibatches drawn in the order seeded by
//! `common::seed::batch_seed` of the master seed).

use common::seed::{Stream, rng};
use datasets::{Dataset, DigitsSpec, TeacherSpec};
use deep_linear::{LinearObjective, RegressionStats};
use faer::Mat;
use init::Initialised;
use networks::MlpObjective;
use networks::sequential::objective::SequentialObjective;
use optim::{DynamicsError, GradientFlow, Objective, RunStats};

use crate::config::{
    Checkpoints, DataSpec, DigitsTarget, Dynamics, Experiment, TeacherTarget, UntilConverged,
};

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The data set could not be built.
    #[error("data: {0}")]
    Data(#[from] datasets::DataError),
    /// The initialisation failed.
    #[error("init: {0}")]
    Init(#[from] init::InitError),
    /// Shapes do not match (deep linear path).
    #[error("{0}")]
    Shape(#[from] deep_linear::ShapeError),
    /// Shapes do not match (MLP path).
    #[error("{0}")]
    Network(#[from] networks::NetworkError),
    /// The dynamics stopped (divergence, step-size underflow, step limit).
    #[error("{0}")]
    Dynamics(#[from] DynamicsError),
    /// A run `until_converged` did not reach its threshold.
    #[error(
        "not converged by t = {time:.3e}: loss {loss:.3e} > {tolerance:e} × initial loss {initial_loss:.3e} after {intervals} intervals"
    )]
    NotConverged {
        /// Time reached.
        time: f64,
        /// Loss at that time.
        loss: f64,
        /// ℒ(0).
        initial_loss: f64,
        /// The threshold on `ℒ(t)/ℒ(0)`.
        tolerance: f64,
        /// Intervals integrated.
        intervals: usize,
    },
}

/// Everything a run starts from.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The data set.
    pub data: Dataset,
    /// The linear teacher: B (C × d) of `teacher`, β (d × 1) of
    /// `whitened_teacher`; `None` for the other data sets.
    pub teacher: Option<Mat<f64>>,
    /// Full-batch sufficient statistics of the data, for a deep linear
    /// network ([`Experiment::is_deep_linear`]); `None` otherwise. A deep
    /// linear run takes the statistics path exactly when they are present.
    pub stats: Option<RegressionStats>,
    /// The initial weights `W_1..W_L` and their imbalance.
    pub init: Initialised,
    /// Held-out inputs and targets (`digit_pair`); `None` for the other
    /// data sets.
    pub held_out: Option<Dataset>,
}

/// Draw the data set and the initial network of `exp` from its seed: the
/// data from [`Stream::Data`], label noise from [`Stream::LabelNoise`], the
/// weights from [`Stream::Init`]. A target transform (arg-max one-hot,
/// parity) is applied to the noiseless targets and the noise added after it.
/// A data set with held-out rows (`digit_pair`) puts them in
/// [`Prepared::held_out`].
pub fn prepare(exp: &Experiment) -> Result<Prepared, RunError> {
    let (mut data_rng, mut noise_rng) = (
        rng(exp.seed, Stream::Data),
        rng(exp.seed, Stream::LabelNoise),
    );
    let mut held_out = None;
    let (data, teacher) = match &exp.data {
        DataSpec::Teacher {
            spec,
            target: TeacherTarget::Linear,
            keep_label_norm,
        } => {
            let (mut data, b) = datasets::teacher(spec, &mut data_rng, &mut noise_rng)?;
            if *keep_label_norm {
                // The clean targets are X Bᵀ.
                let clean = &data.x * b.transpose();
                let norm = data.y.norm_l2();
                if norm > 0.0 {
                    data.y *= faer::Scale(clean.norm_l2() / norm);
                }
            }
            (data, Some(b))
        }
        DataSpec::Teacher {
            spec,
            target: TeacherTarget::ArgmaxOneHot,
            ..
        } => {
            let clean = TeacherSpec {
                noise: 0.0,
                ..spec.clone()
            };
            let (mut data, b) = datasets::teacher(&clean, &mut data_rng, &mut noise_rng)?;
            data.y = datasets::argmax_one_hot(data.y.as_ref());
            datasets::add_label_noise(&mut data.y, spec.noise, &mut noise_rng);
            (data, Some(b))
        }
        DataSpec::Digits {
            spec,
            target: DigitsTarget::OneHot,
        } => (datasets::digits(spec, &mut data_rng, &mut noise_rng)?, None),
        DataSpec::Digits {
            spec,
            target: target @ (DigitsTarget::Parity | DigitsTarget::OneVsRest),
        } => {
            let clean = DigitsSpec {
                noise: 0.0,
                ..*spec
            };
            let mut data = datasets::digits(&clean, &mut data_rng, &mut noise_rng)?;
            data.y = if *target == DigitsTarget::Parity {
                datasets::parity_targets(data.y.as_ref())
            } else {
                datasets::one_vs_rest_targets(data.y.as_ref())
            };
            datasets::add_label_noise(&mut data.y, spec.noise, &mut noise_rng);
            (data, None)
        }
        DataSpec::Synthetic(spec) => (
            datasets::synthetic(spec, &mut data_rng, &mut noise_rng)?,
            None,
        ),
        DataSpec::ReluTeacher(spec) => {
            let (data, _) = datasets::relu_teacher(spec, &mut data_rng, &mut noise_rng)?;
            (data, None)
        }
        DataSpec::WhitenedTeacher(spec) => {
            let (data, beta) = datasets::whitened_teacher(spec, &mut data_rng, &mut noise_rng)?;
            (data, Some(beta))
        }
        DataSpec::Gaussian(spec) => (
            datasets::gaussian(spec, &mut data_rng, &mut noise_rng)?,
            None,
        ),
        DataSpec::DigitPair(spec) => {
            let split = datasets::digit_pair(spec, &mut data_rng, &mut noise_rng)?;
            held_out = Some(split.held_out);
            (split.train, None)
        }
    };
    let stats = if exp.is_deep_linear() {
        Some(RegressionStats::new(data.x.as_ref(), data.y.as_ref())?)
    } else {
        None
    };
    let mut init_rng = rng(exp.seed, Stream::Init);
    let init = match &exp.layers {
        None => init::initialise(&exp.widths, &exp.init, &mut init_rng)?,
        Some(network) => {
            let shapes: Vec<(usize, usize)> = network
                .parameter_layers()
                .iter()
                .map(|&(_, shape, _)| shape)
                .collect();
            Initialised {
                weights: init::initialise_shapes(&shapes, &exp.init, &mut init_rng)?,
                // The imbalance is of a chain of fully connected layers.
                imbalance: Vec::new(),
            }
        }
    };
    Ok(Prepared {
        data,
        teacher,
        stats,
        init,
        held_out,
    })
}

/// The parameters a run of `exp` starts from: the initial weights, followed
/// by zero biases `b_l ∈ R^{1×d_l}` when the network has biases (the
/// `[W_1..W_L, b_1..b_L]` layout of [`networks::Architecture`] and of
/// [`networks::Sequential`], where a convolution's bias has one entry per
/// output channel).
pub fn initial_params(exp: &Experiment, prepared: &Prepared) -> Vec<Mat<f64>> {
    let mut params = prepared.init.weights.clone();
    if exp.biases {
        params.extend(
            prepared
                .init
                .weights
                .iter()
                .map(|w| Mat::zeros(1, w.nrows())),
        );
    }
    params
}

/// The state at one checkpoint: an immutable copy of the parameters.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Time t (GD: kη).
    pub time: f64,
    /// Steps taken so far (integrator steps for gradient flow, summed over
    /// the intervals of `until_converged`; updates for an optimiser).
    pub step: usize,
    /// Data loss at this state.
    pub loss: f64,
    /// All parameters: `W_1, …, W_L`, then `b_1, …, b_L` when the network
    /// has biases.
    pub weights: Vec<Mat<f64>>,
}

impl Snapshot {
    /// `‖D_l‖_F` for l = 1..L−1 (SPEC §2), for a network without biases
    /// (the conservation law it measures holds for deep linear networks).
    ///
    /// # Panics
    /// When `weights` do not chain as `W_1, …, W_L`, as for a network with
    /// biases: pass its first L matrices to `metrics::imbalance_norms`.
    pub fn imbalance_norms(&self) -> Vec<f64> {
        metrics::imbalance_norms(&common::views(&self.weights)).expect("the layers of a run chain")
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// Snapshots at the checkpoints, in time order.
    pub snapshots: Vec<Snapshot>,
    /// Integrator or optimiser statistics (summed over the intervals of
    /// `until_converged`).
    pub stats: RunStats,
}

/// Run the dynamics of `exp` from `prepared` and record the snapshots.
pub fn run_prepared(exp: &Experiment, prepared: &Prepared) -> Result<Trajectory, RunError> {
    run_prepared_observed(exp, prepared, |_| {})
}

/// The number of checkpoints a run of `exp` records; for `until_converged`,
/// the most it can record (`max_intervals + 1`: t = 0 and one per interval).
pub fn checkpoint_count(exp: &Experiment) -> usize {
    match (&exp.dynamics, &exp.checkpoints) {
        (_, Checkpoints::Steps(steps)) => steps.len(),
        (_, Checkpoints::UntilConverged(u)) => u.max_intervals() + 1,
        (Dynamics::GradientFlow(_), Checkpoints::Times(s)) => s.times().len(),
        (Dynamics::Discrete(o), Checkpoints::Times(s)) => s.steps(o.params().learning_rate).len(),
    }
}

/// [`run_prepared`], calling `observe` with each snapshot as it is
/// recorded (e.g. to report progress).
pub fn run_prepared_observed(
    exp: &Experiment,
    prepared: &Prepared,
    mut observe: impl FnMut(&Snapshot),
) -> Result<Trajectory, RunError> {
    let (x, y) = (prepared.data.x.as_ref(), prepared.data.y.as_ref());
    let theta0 = initial_params(exp, prepared);
    match &prepared.stats {
        Some(stats) if exp.is_deep_linear() => {
            let mut objective = LinearObjective::new(stats, &exp.widths)?.with_samples(x, y)?;
            drive(exp, &mut objective, &theta0, &mut observe)
        }
        _ => match &exp.layers {
            None => {
                let mut objective = MlpObjective::new(exp.architecture(), x, y)?;
                drive(exp, &mut objective, &theta0, &mut observe)
            }
            Some(network) => {
                let mut objective = SequentialObjective::new(network.clone(), x, y)?;
                drive(exp, &mut objective, &theta0, &mut observe)
            }
        },
    }
}

/// Run the dynamics and checkpoints of `exp` on `objective`.
fn drive<O: Objective>(
    exp: &Experiment,
    objective: &mut O,
    theta0: &[Mat<f64>],
    observe: &mut impl FnMut(&Snapshot),
) -> Result<Trajectory, RunError> {
    let mut snapshots = Vec::new();
    let mut record = |time: f64, step: usize, loss: f64, params: &[Mat<f64>]| {
        let snapshot = Snapshot {
            time,
            step,
            loss,
            weights: params.to_vec(),
        };
        observe(&snapshot);
        snapshots.push(snapshot);
    };
    let mut checkpoint = |c: optim::Checkpoint<'_>| record(c.time, c.step, c.loss, c.params);
    let stats = match (&exp.dynamics, &exp.checkpoints) {
        (Dynamics::GradientFlow(g), Checkpoints::Times(schedule)) => {
            optim::run_gradient_flow(g, objective, theta0, &schedule.times(), &mut checkpoint)?.1
        }
        (Dynamics::GradientFlow(g), Checkpoints::UntilConverged(u)) => {
            until_converged(g, u, objective, theta0, &mut checkpoint)?
        }
        (Dynamics::Discrete(o), Checkpoints::Times(schedule)) => {
            let steps = schedule.steps(o.params().learning_rate);
            optim::run_optimizer(o, objective, theta0, &steps, &mut checkpoint)?.1
        }
        (Dynamics::Discrete(o), Checkpoints::Steps(steps)) => {
            optim::run_optimizer(o, objective, theta0, steps, &mut checkpoint)?.1
        }
        (Dynamics::GradientFlow(_), Checkpoints::Steps(_))
        | (Dynamics::Discrete(_), Checkpoints::UntilConverged(_)) => {
            return Err(RunError::Dynamics(DynamicsError::Invalid {
                field: "checkpoints.kind",
                message: "steps need a discrete optimiser and until_converged gradient flow".into(),
            }));
        }
    };
    Ok(Trajectory { snapshots, stats })
}

/// Gradient flow interval by interval until converged ([`UntilConverged`]):
/// the first interval `[0, t_first]` reports t = 0 and `t_first`, each later
/// one `[t_k, t_k·g]` (integrated from the state at `t_k` over its length
/// `t_k(g − 1)`) reports its end; times and step counts are shifted to the
/// whole run.
fn until_converged<O: Objective>(
    flow: &GradientFlow,
    until: &UntilConverged,
    objective: &mut O,
    theta0: &[Mat<f64>],
    observe: &mut impl FnMut(optim::Checkpoint<'_>),
) -> Result<RunStats, RunError> {
    let growth = until.growth();
    let mut theta = theta0.to_vec();
    let (mut t, mut loss0, mut loss) = (0.0, f64::NAN, f64::NAN);
    let mut total = RunStats {
        steps: 0,
        rejected: 0,
        evaluations: 0,
    };
    let mut index = 0;
    for _ in 0..until.max_intervals() {
        let length = if t == 0.0 {
            until.t_first
        } else {
            t * (growth - 1.0)
        };
        let times = if t == 0.0 {
            vec![0.0, length]
        } else {
            vec![length]
        };
        let (start, steps_before) = (t, total.steps);
        let (next, stats) = optim::run_gradient_flow(flow, objective, &theta, &times, |cp| {
            if start == 0.0 && cp.index == 0 {
                loss0 = cp.loss;
            }
            loss = cp.loss;
            observe(optim::Checkpoint {
                index,
                time: start + cp.time,
                step: steps_before + cp.step,
                loss: cp.loss,
                params: cp.params,
            });
            index += 1;
        })?;
        t += length;
        theta = next;
        total.steps += stats.steps;
        total.rejected += stats.rejected;
        total.evaluations += stats.evaluations;
        if loss <= until.tolerance * loss0 {
            return Ok(total);
        }
    }
    Err(RunError::NotConverged {
        time: t,
        loss,
        initial_loss: loss0,
        tolerance: until.tolerance,
        intervals: until.max_intervals(),
    })
}

/// [`prepare`] then [`run_prepared`].
pub fn run(exp: &Experiment) -> Result<(Prepared, Trajectory), RunError> {
    let prepared = prepare(exp)?;
    let trajectory = run_prepared(exp, &prepared)?;
    Ok((prepared, trajectory))
}
