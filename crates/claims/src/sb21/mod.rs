//! Claims of SB21 (Shan, Bordelon, *A Theory of Neural Tangent Kernel
//! Alignment and Its Influence on Training*, arXiv 2105.14301), SPEC §6.
//!
//! Networks are bias-free MLPs trained by full-batch GD with step η on
//! `ℒ = 1/(2n)‖F − Y‖²`; time is `t = kη`. With `K_c` the empirical NTK of
//! output c on the training set (`Θ_c(x, x') = ∇_θf_c(x)·∇_θf_c(x')`), the
//! residual `r = f − y` of a one-output network obeys, to first order in η,
//! `r_{k+1} = (I − ηK_k/n) r_k`.
//!
//! * `phases`: loss `ℒ(t)`, local exponent `γ(t) = −d log ℒ / d log t`
//!   (central differences on log-spaced checkpoints) and uncentred
//!   kernel–target alignment `A(K_t, y)` over training, and kernel GD on the
//!   kernel frozen at `t_0`: `r̃_k = V (1 − ηΛ/n)^{k−k_0} Vᵀ r_{k_0}` with
//!   `K_{t_0} = VΛVᵀ` (the exact discrete counterpart of the network's GD
//!   for the linearised model). Two checks:
//!   - `t0 = init` (SB21's feature-learning phase): the real loss at the
//!     end is below the frozen-init-kernel loss, `ℒ̃(T)/ℒ(T) ≥ 1`. SB21
//!     claims the direction, no rate, so the margin is the claim itself.
//!   - `t0 = late` (the kernel phase): the derived bound below holds. From
//!     `e = r − r̃`, `e_{k+1} = (I − ηK_0/n)e_k − (η/n)(K_k − K_0) r_k`, and
//!     `‖I − ηK_0/n‖ ≤ 1` when `ηλ_max(K_0)/n ≤ 2`, so
//!     `‖r_T − r̃_T‖ ≤ Σ_k (η/n)‖K_k − K_{t_0}‖_op ‖r_k‖` — the real loss
//!     follows the frozen-kernel loss as closely as the kernel stops moving.
//!     The sum is bounded on the checkpoints by an upper Darboux sum (max
//!     of both ends per interval). The measured ratio and the relative loss
//!     gap are in the details for both t_0.
//! * `depth`: the same tasks (digits' parity and the synthetic target) and
//!   init convention for L = 2, 3 (4 and 5 in the full report): per L, the
//!   alignment at init and at the end, the time to reach half of the
//!   alignment gain, and the
//!   alignment when the loss has halved (`info`); and SB21's trend judged
//!   over paired seeds between consecutive depths (SPEC §8): the gain
//!   `gain(L) − gain(L−1)` (SB21's "larger") and the speed
//!   `ln t_½(L−1) − ln t_½(L)` ("faster"), both positive in SB21's
//!   direction, with the speed in steps `ln k_½(L−1) − ln k_½(L)` beside
//!   it as `info` (the other time normalisation).
//! * `specialisation`: `S_{cc'} = A(K_c, y_{c'})` for networks with C
//!   outputs — digits with one-hot − 1/C or ±1 one-vs-rest targets, and
//!   the synthetic task — after training and at init, in four conventions:
//!   uncentred and centred alignment, of the full kernels `K_c` and of
//!   their hidden-layer part `K_c − G` without the readout block
//!   `G = φ(H_{L−1})φ(H_{L−1})ᵀ` that every output's kernel contains. Two
//!   regimes, named by their measured kernel motion
//!   `mean_c (1 − A(K_c(0), K_c(T)))` (SPEC §8): `kernel_motion=small`,
//!   SB21's two-layer networks near their init (ReLU and linear), and
//!   `kernel_motion=large`, three-layer ReLU networks from a small init
//!   trained with a fixed step until the weights have moved by more than
//!   their initial norm.
//!   - ReLU (SB21's statement, SPEC §6, §8), judged over seeds with the
//!     diagonal contrast `D(S) = mean_c S_cc − mean_{c≠c'} S_cc'`, whose
//!     no-specialisation value is 0 (outputs sharing one kernel up to scale
//!     give `S_cc' = s_c'` in every row): `vs=init`, `D(S_T) − D(S_0)`
//!     paired over seeds, in each convention; `vs=linear`, `D(S_T)` minus
//!     that of the two-layer linear network of the same data and seed
//!     (which cannot specialise); `by=column`, the change from init of the
//!     fraction of targets whose own kernel aligns best with them. An
//!     extreme over rows (`min_c` of the row margins) is biased below zero
//!     and is not used as an effect; the mean row margin, the
//!     fraction of positive rows and the double-centred S's row margins are
//!     in the details. Each kernel part has a precondition row: its kernels
//!     move from init (the kernel motion's interval excludes 0); where it
//!     fails the rows of that part are `untestable`.
//!   - Linear (`f = A W x`): `K_c = ‖A_c‖² XXᵀ + XWᵀWXᵀ`, so with
//!     `β^1_{c'} = y_{c'}ᵀXXᵀy_{c'}/‖y_{c'}‖²`, `β^2` the same with `WᵀW`,
//!     `S_{cc'} = (u_c β^1_{c'} + β^2_{c'})/‖K_c‖_F` with `u_c = ‖A_c‖²`:
//!     the rows differ only through `u_c`. With `ū` the mean of `u`,
//!     `s̄ = ūβ^1 + β^2` and `m = argmax s̄`, every row `c ≠ m` has
//!     `S_cc − S_cm ≤ |u_c − ū| |β^1_c − β^1_m| / ‖K_c‖_F`, so the diagonal
//!     excess is at most the minimum of that over `c ≠ m` — near zero or
//!     below when the output norms are alike: no specialisation. By
//!     columns, with `a_c = u_c/‖K_c‖_F`, `b_c = 1/‖K_c‖_F`,
//!     `S_{c'c'} − S_{mc'} ≤ |a_{c'} − a_m|β^1_{c'} + |b_{c'} − b_m|β^2_{c'}`
//!     for any `m ≠ c'`. Both bounds checked to rounding.
//!
//! `depth` needs only kernel statistics (alignments, norms): they come
//! from [`ntk::kernel_statistics`] over tiles of samples, so its n is not
//! bounded by n × n kernels in memory; `phases` needs the dense kernels for
//! kernel gradient descent, and `specialisation` for the hidden-layer part
//! `K_c − G`, which the tiled statistics do not separate (C n × n kernels:
//! 7 MB at n = 300, C = 10).
//!
//! Each claim is a family of its own ([`PHASES`], [`DEPTH`],
//! [`SPECIALISATION`]; one fixture) over cells × seeds ([`Cells`](crate::study::Cells)). Units
//! of work: one run per cell and seed, named
//! `SB21.phases/data=digits,seed=1`, `SB21.depth/data=digits,L=3,seed=1`,
//! `SB21.specialisation/data=digits,target=one_hot,net=relu,kernel_motion=large,seed=1`;
//! each is an [`experiment`] (`digits` with `target = "parity"`,
//! `"one_hot"` or `"one_vs_rest"`, or
//! `synthetic`; a bias-free network; `gaussian` init; `gd` recorded at
//! `log_steps` or `steps`) whose learning rate is set from the NTK at init
//! before it runs (fixed in the large-motion specialisation regime). A unit measures its run (kernels, frozen-kernel GD,
//! specialisation matrices) into a per-seed record; the claims aggregate
//! the records over seeds.

mod depth;
mod figures;
mod phases;
mod specialisation;

use experiment::config::{
    CheckpointConfig, DataConfig, DigitsTarget, DynamicsConfig, InitConfig, NetworkConfig,
};
use experiment::{Experiment, ExperimentConfig, Prepared, Trajectory};
use faer::{Mat, Par};
use networks::Architecture;
use serde::{Deserialize, Serialize};

use crate::PerMode;
use crate::UnitError;
use crate::study::Runs;
use crate::{Family, Mode, RunOptions};

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../../fixtures/claims/sb21.toml");

/// SB21's kernel phases (one family per claim; the three share the fixture).
pub const PHASES: Family = Family::new(
    "SB21",
    &["phases"],
    "sb21.toml",
    FIXTURE,
    &phases::PhasesStudy,
);
/// SB21's depth claims.
pub const DEPTH: Family = Family::new("SB21", &["depth"], "sb21.toml", FIXTURE, &depth::DepthStudy);
/// SB21's kernel specialisation.
pub const SPECIALISATION: Family = Family::new(
    "SB21",
    &["specialisation"],
    "sb21.toml",
    FIXTURE,
    &specialisation::SpecialisationStudy,
);

/// `fixtures/claims/sb21.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[phases]`.
    pub phases: Phases,
    /// `[depth]`.
    pub depth: Depth,
    /// `[specialisation]`.
    pub specialisation: Specialisation,
}

/// `[phases]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phases {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Hidden widths.
    pub widths_hidden: Vec<usize>,
    /// Init σ (all layers).
    pub sigma: f64,
    /// `ηΣ_cλ_max(K_c)/n` at init.
    pub step_fraction: f64,
    /// GD steps (per mode).
    pub steps: PerMode<usize>,
    /// Log-spaced checkpoints (per mode).
    pub checkpoints: PerMode<usize>,
    /// n (per mode).
    pub samples: PerMode<usize>,
    /// Synthetic input dimension.
    pub synthetic_input_dim: usize,
    /// The late t_0 as a fraction of the steps.
    pub late_fraction: f64,
}

/// `[depth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Depth {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Depths L (per mode).
    pub depths: PerMode<Vec<usize>>,
    /// Hidden width.
    pub width: usize,
    /// Init σ (all layers).
    pub sigma: f64,
    /// `ηΣ_cλ_max(K_c)/n` at init.
    pub step_fraction: f64,
    /// GD steps (per mode).
    pub steps: PerMode<usize>,
    /// Log-spaced checkpoints (per mode).
    pub checkpoints: PerMode<usize>,
    /// n (per mode).
    pub samples: PerMode<usize>,
    /// Synthetic input dimension.
    pub synthetic_input_dim: usize,
}

/// `[specialisation]`: the data shared by both regimes and the regimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Specialisation {
    /// Seeds (per mode).
    pub seeds: PerMode<Vec<u64>>,
    /// Digits n (per mode).
    pub digits_samples: PerMode<usize>,
    /// Synthetic n (per mode).
    pub synthetic_samples: PerMode<usize>,
    /// Synthetic input dimension.
    pub synthetic_input_dim: usize,
    /// Synthetic outputs C.
    pub synthetic_outputs: usize,
    /// `[specialisation.small_motion]`: two-layer networks near their init.
    pub small_motion: Regime,
    /// `[specialisation.large_motion]`: three-layer networks from a small
    /// init, trained until their weights move by more than their norm.
    pub large_motion: Regime,
}

/// A training regime of the specialisation study: a bias-free network of
/// `depth` layers and hidden width `width`, Gaussian init with σ per layer
/// (one value: all layers), full-batch GD for `steps` steps with either a
/// fixed learning rate or one set from the NTK at init ([`Step`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    /// Layers L.
    pub depth: usize,
    /// Hidden width (per mode).
    pub width: PerMode<usize>,
    /// Init σ per layer (one value: all layers).
    pub sigma: Vec<f64>,
    /// The GD step.
    pub step: Step,
    /// GD steps (per mode).
    pub steps: PerMode<usize>,
}

/// How a run's GD step η is set: `{ fraction = f }` sets
/// `η = f · n / Σ_c λ_max(K_c)` from the NTK at init (every run takes the
/// same number of steps per unit of the kernel's fastest time scale);
/// `{ learning_rate = η }` fixes it (a small init's kernel grows by orders
/// of magnitude, so a step set at init would diverge later).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// `ηΣ_cλ_max(K_c)/n` at init.
    Fraction(f64),
    /// A fixed η.
    LearningRate(f64),
}

/// Parse the fixture.
pub fn config() -> Result<Config, experiment::ConfigError> {
    crate::parse_fixture(FIXTURE)
}

/// SB21's units of work ([`Point`]).
/// One run: a claim's data set (and depth or network) and a seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Phases {
        data: Data,
        seed: u64,
    },
    Depth {
        data: Data,
        depth: usize,
        seed: u64,
    },
    Specialisation {
        regime: RegimeKind,
        task: Task,
        net: Net,
        seed: u64,
    },
}

impl Point {
    /// The unit's experiment — a bias-free network on its data set,
    /// Gaussian init `N(0, σ_l²/d_{l−1})` (one σ for all layers, or one per
    /// layer), full-batch GD recorded at log-spaced steps (`specialisation`:
    /// at init and at the end) — and its GD [`Step`], which [`train`] sets
    /// into the config.
    fn experiment(&self, cfg: &Config, mode: Mode) -> (ExperimentConfig, Step) {
        let (p, d, s) = (&cfg.phases, &cfg.depth, &cfg.specialisation);
        let log_steps =
            |total: &PerMode<usize>, count: &PerMode<usize>| CheckpointConfig::LogSteps {
                total: total.get(mode),
                count: count.get(mode),
            };
        let (data, seed, hidden, activation, sigma, checkpoints, step) = match *self {
            Point::Phases { data, seed } => (
                data.config(p.samples.get(mode), p.synthetic_input_dim),
                seed,
                p.widths_hidden.clone(),
                "relu",
                vec![p.sigma],
                log_steps(&p.steps, &p.checkpoints),
                Step::Fraction(p.step_fraction),
            ),
            Point::Depth { data, depth, seed } => (
                data.config(d.samples.get(mode), d.synthetic_input_dim),
                seed,
                vec![d.width; depth - 1],
                "relu",
                vec![d.sigma],
                log_steps(&d.steps, &d.checkpoints),
                Step::Fraction(d.step_fraction),
            ),
            Point::Specialisation {
                regime,
                task,
                net,
                seed,
            } => {
                let r = s.regime(regime);
                (
                    task.config(s, mode),
                    seed,
                    vec![r.width.get(mode); r.depth - 1],
                    if net == Net::Linear {
                        "identity"
                    } else {
                        "relu"
                    },
                    r.sigma.clone(),
                    CheckpointConfig::Steps {
                        steps: vec![0, r.steps.get(mode)],
                    },
                    r.step,
                )
            }
        };
        let config = ExperimentConfig {
            name: None,
            seed,
            data,
            network: NetworkConfig {
                depth: Some(hidden.len() + 1),
                hidden: Some(hidden),
                activation: Some(activation.into()),
                ..NetworkConfig::default()
            },
            init: InitConfig::Gaussian {
                sigma: None,
                sigmas: Some(sigma),
            },
            // Replaced by the step of `step` before the run.
            dynamics: DynamicsConfig::Gd {
                learning_rate: 1.0,
                weight_decay: 0.0,
            },
            checkpoints,
        };
        (config, step)
    }
}

/// The specialisation study's settings, in report order: SB21's two-layer
/// networks near their init (the linear network's bounds and the column
/// check live there), and a three-layer network from a small init trained
/// until its per-output kernels move apart; the ReLU networks on every
/// task.
const SETTINGS: [(RegimeKind, Task, Net); 8] = [
    (RegimeKind::SmallMotion, Task::DigitsOneHot, Net::Relu),
    (RegimeKind::SmallMotion, Task::DigitsOneHot, Net::Linear),
    (RegimeKind::SmallMotion, Task::DigitsOneVsRest, Net::Relu),
    (RegimeKind::SmallMotion, Task::Synthetic, Net::Relu),
    (RegimeKind::SmallMotion, Task::Synthetic, Net::Linear),
    (RegimeKind::LargeMotion, Task::DigitsOneHot, Net::Relu),
    (RegimeKind::LargeMotion, Task::DigitsOneVsRest, Net::Relu),
    (RegimeKind::LargeMotion, Task::Synthetic, Net::Relu),
];

/// A unit's run, trained as `point` says.
fn trained(cfg: &Config, options: &RunOptions, point: Point) -> Result<Trained, UnitError> {
    let (config, step) = point.experiment(cfg, options.mode);
    train(config, step)
}

/// The cost of a cell's unit (the seed does not change it).
fn point_cost(cfg: &Config, options: &RunOptions, point: Point) -> f64 {
    cost(&point.experiment(cfg, options.mode).0)
}

/// The runs of every cell, each with its key and seed, in plan order.
fn records<C: Copy, R>(
    cells: Vec<Runs<C, Result<R, UnitError>>>,
) -> Vec<((C, u64), Result<R, UnitError>)> {
    cells
        .into_iter()
        .flat_map(|r| {
            let cell = r.cell;
            r.seeds
                .into_iter()
                .zip(r.measured)
                .map(move |(seed, m)| ((cell, seed), m))
        })
        .collect()
}

/// Estimated seconds of a unit: its experiment's
/// ([`Experiment::estimated_seconds`]; the kernels measured at the
/// checkpoints, a few dozen against thousands of steps, are within the
/// model's spread). A configuration that does not validate fails at once.
fn cost(config: &ExperimentConfig) -> f64 {
    config.validate().map_or(0.0, |exp| exp.estimated_seconds())
}

/// The two data sets of every claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Data {
    Digits,
    Synthetic,
}

impl Data {
    const ALL: [Data; 2] = [Data::Digits, Data::Synthetic];

    fn name(self) -> &'static str {
        match self {
            Data::Digits => "digits",
            Data::Synthetic => "synthetic",
        }
    }

    /// The one-output data of a `phases` or `depth` run: digits' parity
    /// (+1 even, −1 odd) or the synthetic target along the first input
    /// direction (module and fixture docs).
    fn config(self, samples: usize, input_dim: usize) -> DataConfig {
        match self {
            Data::Digits => DataConfig::Digits {
                samples: Some(samples),
                noise: 0.0,
                target: DigitsTarget::Parity,
                held_out: 0,
            },
            Data::Synthetic => DataConfig::Synthetic {
                samples,
                input_dim,
                outputs: 1,
                noise: 0.0,
            },
        }
    }
}

/// The two networks of the specialisation study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Net {
    /// φ = ReLU.
    Relu,
    /// φ = identity: a deep linear network.
    Linear,
}

impl Net {
    fn name(self) -> &'static str {
        match self {
            Net::Relu => "relu",
            Net::Linear => "linear",
        }
    }
}

impl Specialisation {
    /// The configuration of a regime.
    fn regime(&self, kind: RegimeKind) -> &Regime {
        match kind {
            RegimeKind::SmallMotion => &self.small_motion,
            RegimeKind::LargeMotion => &self.large_motion,
        }
    }

    /// The seeds of every setting: `seeds`, or the block of `--seed N`.
    fn seeds(&self, options: &RunOptions) -> Vec<u64> {
        crate::study_seeds(&self.seeds.get(options.mode), options.seed)
    }
}

/// The two regimes of the specialisation study (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RegimeKind {
    /// `[specialisation.small_motion]`.
    SmallMotion,
    /// `[specialisation.large_motion]`.
    LargeMotion,
}

impl RegimeKind {
    fn name(self) -> &'static str {
        match self {
            RegimeKind::SmallMotion => "small",
            RegimeKind::LargeMotion => "large",
        }
    }
}

/// The tasks of the specialisation study: digits with one-hot − 1/C or
/// ±1 one-vs-rest targets (C = 10), or C synthetic targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Task {
    DigitsOneHot,
    DigitsOneVsRest,
    Synthetic,
}

impl Task {
    /// The id parameters: `data=digits,target=one_hot`, `data=synthetic`.
    fn id(self) -> String {
        match self.target() {
            Some(t) => format!("data={},target={}", self.data().name(), t.name()),
            None => format!("data={}", self.data().name()),
        }
    }

    fn data(self) -> Data {
        match self {
            Task::DigitsOneHot | Task::DigitsOneVsRest => Data::Digits,
            Task::Synthetic => Data::Synthetic,
        }
    }

    /// The digits' target coding; `None` for the synthetic task.
    fn target(self) -> Option<DigitsTarget> {
        match self {
            Task::DigitsOneHot => Some(DigitsTarget::OneHot),
            Task::DigitsOneVsRest => Some(DigitsTarget::OneVsRest),
            Task::Synthetic => None,
        }
    }

    fn config(self, s: &Specialisation, mode: Mode) -> DataConfig {
        match self.target() {
            Some(target) => DataConfig::Digits {
                samples: Some(s.digits_samples.get(mode)),
                noise: 0.0,
                target,
                held_out: 0,
            },
            None => DataConfig::Synthetic {
                samples: s.synthetic_samples.get(mode),
                input_dim: s.synthetic_input_dim,
                outputs: s.synthetic_outputs,
                noise: 0.0,
            },
        }
    }
}

/// Per-output kernels, symmetrised (the closed form is symmetric up to
/// rounding).
fn kernels(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: &Mat<f64>,
) -> Result<Vec<Mat<f64>>, UnitError> {
    let ks = ntk::per_output_ntk(arch, params, x.as_ref(), Par::Seq)?;
    Ok(ks
        .into_iter()
        .map(|k| Mat::from_fn(k.nrows(), k.ncols(), |i, j| 0.5 * (k[(i, j)] + k[(j, i)])))
        .collect())
}

/// `AB`, sequential: a unit gives the same bits on any number of threads.
fn product(a: faer::MatRef<'_, f64>, b: faer::MatRef<'_, f64>) -> Mat<f64> {
    common::linalg::product(a, b, Par::Seq)
}

/// Largest absolute eigenvalue of a symmetric matrix.
fn op_norm(k: &Mat<f64>) -> Result<f64, UnitError> {
    let eigenvalues = common::linalg::eigvalsh(k.as_ref(), Par::Seq)
        .map_err(|e| UnitError::new(format!("eigenvalues: {e:?}")))?;
    Ok(eigenvalues.iter().fold(0.0, |m: f64, v| m.max(v.abs())))
}

/// A trained network: its experiment, data and init, trajectory and step.
struct Trained {
    exp: Experiment,
    prepared: Prepared,
    traj: Trajectory,
    eta: f64,
}

fn validated(config: &ExperimentConfig) -> Result<Experiment, UnitError> {
    config
        .validate()
        .map_err(|e| UnitError::new(format!("config: {e}")))
}

/// Run `config` with the GD step of `step`: fixed, or
/// `η = fraction · n / Σ_c λ_max(K_c)` of the NTK at init, set into the
/// config before the run.
fn train(mut config: ExperimentConfig, step: Step) -> Result<Trained, UnitError> {
    let exp = validated(&config)?;
    // A linear network trains through `deep_linear::LinearObjective`: the
    // same full-batch GD on the same loss, from the data's second moments
    // (its cost does not grow with n); a ReLU network by backpropagation.
    let prepared = experiment::prepare(&exp)?;
    let eta = match step {
        Step::LearningRate(eta) => eta,
        Step::Fraction(fraction) => {
            let x = &prepared.data.x;
            let mut scale = 0.0;
            for k in kernels(&exp.architecture(), &prepared.init.weights, x)? {
                scale += op_norm(&k)?;
            }
            if scale <= 0.0 {
                return Err(UnitError::new("the NTK at init is zero"));
            }
            fraction * x.nrows() as f64 / scale
        }
    };
    config.dynamics = DynamicsConfig::Gd {
        learning_rate: eta,
        weight_decay: 0.0,
    };
    let exp = validated(&config)?;
    let traj = experiment::run::run_prepared(&exp, &prepared)?;
    Ok(Trained {
        exp,
        prepared,
        traj,
        eta,
    })
}

impl Trained {
    fn times(&self) -> Vec<f64> {
        self.traj.snapshots.iter().map(|s| s.time).collect()
    }

    fn losses(&self) -> Vec<f64> {
        self.traj.snapshots.iter().map(|s| s.loss).collect()
    }
}

/// `Some(v)` for a finite `v` (measurements pass through JSON).
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The value stored by [`finite`], NaN for a non-finite one.
fn value(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// The records of a claim's units with their keys, in plan order.
type Records<K, R> = [(K, Result<R, UnitError>)];
