//! Running a validated experiment: data set, initial network, dynamics, and
//! the trajectory of parameter snapshots taken at the checkpoints.

use common::seed::{Stream, rng};
use datasets::Dataset;
use deep_linear::{LinearObjective, RegressionStats};
use faer::Mat;
use init::Initialised;
use optim::{DynamicsError, RunStats};

use crate::config::{DataSpec, Dynamics, Experiment};

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The data set could not be built.
    #[error("data: {0}")]
    Data(#[from] datasets::DataError),
    /// The initialisation failed.
    #[error("init: {0}")]
    Init(#[from] init::InitError),
    /// Shapes do not match.
    #[error("{0}")]
    Shape(#[from] deep_linear::ShapeError),
    /// The dynamics stopped (divergence, step-size underflow, step limit).
    #[error("{0}")]
    Dynamics(#[from] DynamicsError),
}

/// Everything a run starts from.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The data set.
    pub data: Dataset,
    /// The teacher matrix B (synthetic tasks only).
    pub teacher: Option<Mat<f64>>,
    /// Full-batch sufficient statistics of the data.
    pub stats: RegressionStats,
    /// The initial network and its imbalance.
    pub init: Initialised,
}

/// Draw the data set and the initial network of `exp` from its seed.
pub fn prepare(exp: &Experiment) -> Result<Prepared, RunError> {
    let (mut data_rng, mut noise_rng) = (
        rng(exp.seed, Stream::Data),
        rng(exp.seed, Stream::LabelNoise),
    );
    let (data, teacher) = match &exp.data {
        DataSpec::Teacher(spec) => {
            let (data, b) = datasets::teacher(spec, &mut data_rng, &mut noise_rng)?;
            (data, Some(b))
        }
        DataSpec::Digits(spec) => (datasets::digits(spec, &mut data_rng, &mut noise_rng)?, None),
    };
    let stats = RegressionStats::new(data.x.as_ref(), data.y.as_ref())?;
    let init = init::initialise(&exp.widths, &exp.init, &mut rng(exp.seed, Stream::Init))?;
    Ok(Prepared {
        data,
        teacher,
        stats,
        init,
    })
}

/// The state at one checkpoint: an immutable copy of the parameters.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Time t (GD: kη).
    pub time: f64,
    /// Steps taken so far.
    pub step: usize,
    /// Data loss at this state.
    pub loss: f64,
    /// `W_1, …, W_L`.
    pub weights: Vec<Mat<f64>>,
}

impl Snapshot {
    /// `‖D_l‖_F` for l = 1..L−1 (SPEC §2).
    pub fn imbalance_norms(&self) -> Vec<f64> {
        metrics::imbalance_norms(&common::views(&self.weights)).expect("the layers of a run chain")
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// Snapshots at the checkpoints, in time order (the first at t = 0).
    pub snapshots: Vec<Snapshot>,
    /// Integrator statistics.
    pub stats: RunStats,
}

/// Run the dynamics of `exp` from `prepared` and record the snapshots.
pub fn run_prepared(exp: &Experiment, prepared: &Prepared) -> Result<Trajectory, RunError> {
    run_prepared_observed(exp, prepared, |_| {})
}

/// The number of checkpoints a run of `exp` records (t = 0 included).
pub fn checkpoint_count(exp: &Experiment) -> usize {
    match &exp.dynamics {
        Dynamics::GradientFlow(_) => exp.schedule.times().len(),
        Dynamics::Discrete(o) => exp.schedule.steps(o.params().learning_rate).len(),
    }
}

/// [`run_prepared`], calling `observe` with each snapshot as it is
/// recorded (e.g. to report progress).
pub fn run_prepared_observed(
    exp: &Experiment,
    prepared: &Prepared,
    mut observe: impl FnMut(&Snapshot),
) -> Result<Trajectory, RunError> {
    let mut objective = LinearObjective::new(&prepared.stats, &exp.widths)?
        .with_samples(prepared.data.x.as_ref(), prepared.data.y.as_ref())?;
    let mut snapshots = Vec::new();
    let mut record = |c: optim::Checkpoint<'_>| {
        let snapshot = Snapshot {
            time: c.time,
            step: c.step,
            loss: c.loss,
            weights: c.params.to_vec(),
        };
        observe(&snapshot);
        snapshots.push(snapshot);
    };
    let times = exp.schedule.times();
    let theta0 = &prepared.init.weights;
    let (_, stats) = match &exp.dynamics {
        Dynamics::GradientFlow(g) => {
            optim::run_gradient_flow(g, &mut objective, theta0, &times, &mut record)?
        }
        Dynamics::Discrete(o) => {
            let steps = exp.schedule.steps(o.params().learning_rate);
            optim::run_optimizer(o, &mut objective, theta0, &steps, &mut record)?
        }
    };
    Ok(Trajectory { snapshots, stats })
}

/// [`prepare`] then [`run_prepared`].
pub fn run(exp: &Experiment) -> Result<(Prepared, Trajectory), RunError> {
    let prepared = prepare(exp)?;
    let trajectory = run_prepared(exp, &prepared)?;
    Ok((prepared, trajectory))
}
