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
//! [`SPECIALISATION`]; one fixture) over cells × seeds ([`Cells`]). Units
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

mod figures;

use experiment::config::{
    CheckpointConfig, Checkpoints, DataConfig, DigitsTarget, DynamicsConfig, InitConfig,
    NetworkConfig,
};
use experiment::{Experiment, ExperimentConfig, Prepared, Trajectory};
use faer::{Mat, Par};
use mlp::Architecture;
use serde::{Deserialize, Serialize};

use crate::PerMode;
use crate::UnitError;
use crate::claim::{Claim, Comparison, Direction, Precondition, Statement, Test};
use crate::details::{Details, Matrix, Series, Summary, interval_text};
use crate::study::{Cells, Runs};
use crate::{ClaimResult, Family, Mode, RunOptions};

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../fixtures/claims/sb21.toml");

/// SB21's kernel phases (one family per claim; the three share the fixture).
pub const PHASES: Family = Family::new("SB21", &["phases"], "sb21.toml", FIXTURE, &PhasesStudy);
/// SB21's depth claims.
pub const DEPTH: Family = Family::new("SB21", &["depth"], "sb21.toml", FIXTURE, &DepthStudy);
/// SB21's kernel specialisation.
pub const SPECIALISATION: Family = Family::new(
    "SB21",
    &["specialisation"],
    "sb21.toml",
    FIXTURE,
    &SpecialisationStudy,
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
                depth: hidden.len() + 1,
                width: None,
                hidden: Some(hidden),
                activation: Some(activation.into()),
                biases: false,
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

/// The phases claims' units: a data set × seeds.
struct PhasesStudy;
/// The depth claims' units: a data set and a depth × seeds.
struct DepthStudy;
/// The specialisation claims' units: a setting × seeds.
struct SpecialisationStudy;

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

impl Cells for PhasesStudy {
    type Config = Config;
    type Cell = Data;
    type Measurement = Result<PhaseRun, UnitError>;

    fn cells(&self, cfg: &Config, _: &RunOptions) -> Vec<(Data, Vec<u64>)> {
        Data::ALL.map(|d| (d, cfg.phases.seeds.clone())).to_vec()
    }

    fn name(&self, data: &Data) -> String {
        format!("data={}", data.name())
    }

    fn cost(&self, cfg: &Config, options: &RunOptions, &data: &Data) -> f64 {
        point_cost(cfg, options, Point::Phases { data, seed: 0 })
    }

    fn measure(
        &self,
        cfg: &Config,
        options: &RunOptions,
        &data: &Data,
        seed: u64,
    ) -> Self::Measurement {
        trained(cfg, options, Point::Phases { data, seed })
            .and_then(|r| phase_run(&cfg.phases, options.mode, &r))
    }

    fn conclude_cells(
        &self,
        cfg: &Config,
        options: &RunOptions,
        cells: Vec<Runs<Data, Self::Measurement>>,
    ) -> Vec<ClaimResult> {
        phases_claims(&cfg.phases, options, &records(cells))
    }
}

impl Cells for DepthStudy {
    type Config = Config;
    type Cell = (Data, usize);
    type Measurement = Result<DepthRun, UnitError>;

    fn cells(&self, cfg: &Config, options: &RunOptions) -> Vec<((Data, usize), Vec<u64>)> {
        let depths = cfg.depth.depths.get(options.mode);
        Data::ALL
            .iter()
            .flat_map(|&d| depths.iter().map(move |&l| (d, l)))
            .map(|cell| (cell, cfg.depth.seeds.clone()))
            .collect()
    }

    fn name(&self, (data, depth): &(Data, usize)) -> String {
        format!("data={},L={depth}", data.name())
    }

    fn cost(&self, cfg: &Config, options: &RunOptions, &(data, depth): &(Data, usize)) -> f64 {
        point_cost(
            cfg,
            options,
            Point::Depth {
                data,
                depth,
                seed: 0,
            },
        )
    }

    fn measure(
        &self,
        cfg: &Config,
        options: &RunOptions,
        &(data, depth): &(Data, usize),
        seed: u64,
    ) -> Self::Measurement {
        trained(cfg, options, Point::Depth { data, depth, seed }).and_then(|r| depth_run(&r))
    }

    fn conclude_cells(
        &self,
        cfg: &Config,
        options: &RunOptions,
        cells: Vec<Runs<(Data, usize), Self::Measurement>>,
    ) -> Vec<ClaimResult> {
        let runs: Vec<_> = records(cells)
            .into_iter()
            .map(|(((data, depth), seed), r)| ((data, depth, seed), r))
            .collect();
        depth_claims(&cfg.depth, options, &runs)
    }
}

/// A specialisation setting: regime, task and network.
type Setting = (RegimeKind, Task, Net);

impl Cells for SpecialisationStudy {
    type Config = Config;
    type Cell = Setting;
    type Measurement = Result<SpecRun, UnitError>;

    fn cells(&self, cfg: &Config, options: &RunOptions) -> Vec<(Setting, Vec<u64>)> {
        let seeds = cfg.specialisation.seeds.get(options.mode);
        SETTINGS.map(|s| (s, seeds.clone())).to_vec()
    }

    fn name(&self, (regime, task, net): &Setting) -> String {
        format!(
            "{},net={},kernel_motion={}",
            task.id(),
            net.name(),
            regime.name()
        )
    }

    fn cost(&self, cfg: &Config, options: &RunOptions, &(regime, task, net): &Setting) -> f64 {
        let seed = 0;
        point_cost(
            cfg,
            options,
            Point::Specialisation {
                regime,
                task,
                net,
                seed,
            },
        )
    }

    fn measure(
        &self,
        cfg: &Config,
        options: &RunOptions,
        &(regime, task, net): &Setting,
        seed: u64,
    ) -> Self::Measurement {
        let point = Point::Specialisation {
            regime,
            task,
            net,
            seed,
        };
        trained(cfg, options, point).and_then(|r| spec_run(&r, net))
    }

    fn conclude_cells(
        &self,
        cfg: &Config,
        options: &RunOptions,
        cells: Vec<Runs<Setting, Self::Measurement>>,
    ) -> Vec<ClaimResult> {
        let runs: Vec<_> = records(cells)
            .into_iter()
            .map(|((s, _), r)| (s, r))
            .collect();
        specialisation_claims(&cfg.specialisation, options, &runs)
    }

    fn declare_figures(
        &self,
        _: &Config,
        _: &RunOptions,
        claims: &[ClaimResult],
    ) -> Vec<figure::Declared> {
        figures::declared(claims)
    }
}

/// Estimated seconds of a unit: [`COST_PER_SAMPLE_STEP`] × steps × n ×
/// (weights + 10 × units), units = `d_1 + … + d_L`: full-batch GD's
/// forward and backward pass per sample and step, its products and the
/// elementwise work on every unit. The kernels at the checkpoints (a few
/// dozen against thousands of steps) are within the fit's spread. A
/// configuration that does not validate fails at once.
fn cost(config: &ExperimentConfig) -> f64 {
    config.validate().map_or(COST_PER_SAMPLE_STEP, |exp| {
        let steps = match &exp.checkpoints {
            Checkpoints::Steps(steps) => steps.last().copied().unwrap_or(0),
            Checkpoints::Times(_) | Checkpoints::UntilConverged(_) => 0,
        };
        let weights = exp.weight_count();
        let units: usize = exp.widths[1..].iter().sum();
        let work = steps * exp.data.samples() * (weights + 10 * units);
        COST_PER_SAMPLE_STEP * work.max(1) as f64
    })
}

/// Seconds per sample, step and weight, fitted (with the factor 10 on the
/// units) to the units' single-core times of `report --only SB21`, quick
/// and full (release build, 2-core reference machine): within a factor 1.3
/// for every unit.
const COST_PER_SAMPLE_STEP: f64 = 1.2e-10;

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

/// `γ_k = −Δ log ℒ / Δ log t` by central differences (one-sided at the
/// ends) over the checkpoints with t > 0; `None` at t = 0.
fn local_exponent(times: &[f64], losses: &[f64]) -> Vec<Option<f64>> {
    let pos: Vec<usize> = (0..times.len()).filter(|&k| times[k] > 0.0).collect();
    let mut out = vec![None; times.len()];
    if pos.len() < 2 {
        return out;
    }
    for (j, &k) in pos.iter().enumerate() {
        let (a, b) = (pos[j.saturating_sub(1)], pos[(j + 1).min(pos.len() - 1)]);
        let dlt = times[b].ln() - times[a].ln();
        if dlt > 0.0 {
            out[k] = Some(-(losses[b].ln() - losses[a].ln()) / dlt);
        }
    }
    out
}

/// Kernel GD on the kernel frozen at checkpoint `k0`, against the real run;
/// `None` where not finite (kernel GD diverges when ηλ_max(K_{t0})/n > 2).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Frozen {
    /// Frozen-kernel loss at checkpoints `k0..`.
    losses: Vec<Option<f64>>,
    /// `‖r_T − r̃_T‖`.
    deviation: Option<f64>,
    /// The Darboux bound on it.
    bound: Option<f64>,
    /// `ηλ_max(K_{t0})/n` (the bound needs ≤ 2).
    stability: f64,
}

/// `Some(v)` for a finite `v` (measurements pass through JSON).
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The value stored by [`finite`], NaN for a non-finite one.
fn value(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

fn frozen(
    steps: &[usize],
    eta: f64,
    kernels: &[Mat<f64>],
    residuals: &[Mat<f64>],
    k0: usize,
) -> Result<Frozen, UnitError> {
    let n = residuals[k0].nrows() as f64;
    let k = &kernels[k0];
    let (lambda, v) = common::linalg::eigh(k.as_ref(), Par::Seq)
        .map_err(|e| UnitError::new(format!("eigendecomposition: {e:?}")))?;
    let stability = eta * lambda.iter().fold(0.0, |m: f64, l| m.max(l.abs())) / n;
    let proj = product(v.transpose(), residuals[k0].as_ref());
    let mut losses = Vec::new();
    let mut last = Mat::zeros(0, 0);
    for &s in &steps[k0..] {
        let p = (s - steps[k0]) as i32;
        let decayed = Mat::from_fn(proj.nrows(), proj.ncols(), |i, j| {
            (1.0 - eta * lambda[i] / n).powi(p) * proj[(i, j)]
        });
        let r = product(v.as_ref(), decayed.as_ref());
        losses.push(finite(0.5 * r.squared_norm_l2() / n));
        last = r;
    }
    let end = residuals.len() - 1;
    let deviation = (&residuals[end] - &last).norm_l2();
    let moves: Vec<f64> = (k0..=end)
        .map(|j| op_norm(&(&kernels[j] - k)))
        .collect::<Result<_, _>>()?;
    let mut bound = 0.0;
    for j in k0..end {
        let (a, b) = (j - k0, j + 1 - k0);
        let dt = (steps[j + 1] - steps[j]) as f64 * eta;
        let r = residuals[j].norm_l2().max(residuals[j + 1].norm_l2());
        bound += dt / n * moves[a].max(moves[b]) * r;
    }
    Ok(Frozen {
        losses,
        deviation: finite(deviation),
        bound: finite(bound),
        stability,
    })
}

/// One phases run: series and the frozen-kernel comparisons at init and late.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PhaseRun {
    times: Vec<f64>,
    losses: Vec<f64>,
    alignment: Vec<f64>,
    exponent: Vec<Option<f64>>,
    eta: f64,
    late: usize,
    frozen: [Frozen; 2],
}

fn phase_run(p: &Phases, mode: Mode, run: &Trained) -> Result<PhaseRun, UnitError> {
    let (x, y) = (&run.prepared.data.x, &run.prepared.data.y);
    let arch = run.exp.architecture();
    let mut ks = Vec::new();
    let mut residuals = Vec::new();
    let mut alignment = Vec::new();
    for s in &run.traj.snapshots {
        let k = kernels(&arch, &s.weights, x)?.remove(0);
        alignment.push(ntk::kernel_target_alignment(k.as_ref(), y.as_ref())?);
        let f = mlp::forward(&arch, &s.weights, x.as_ref(), Par::Seq)?;
        residuals.push(f.output() - y);
        ks.push(k);
    }
    let steps: Vec<usize> = run.traj.snapshots.iter().map(|s| s.step).collect();
    let target = p.late_fraction * p.steps.get(mode) as f64;
    let late = (0..steps.len())
        .find(|&k| steps[k] as f64 >= target)
        .unwrap_or(steps.len() - 1);
    let frozen = [
        frozen(&steps, run.eta, &ks, &residuals, 0)?,
        frozen(&steps, run.eta, &ks, &residuals, late)?,
    ];
    let (times, losses) = (run.times(), run.losses());
    Ok(PhaseRun {
        exponent: local_exponent(&times, &losses),
        times,
        losses,
        alignment,
        eta: run.eta,
        late,
        frozen,
    })
}

/// The Darboux sum samples the kernel motion and the residual on the
/// checkpoints only, and the network's GD has an O(η²) Taylor remainder per
/// step that the first-order recursion omits; 10% of the bound absorbs
/// both at these step counts (the bound itself is loose, measured/bound is
/// in the details).
const FROZEN_BOUND_SLACK: f64 = 0.1;

/// The records of a claim's units with their keys, in plan order.
type Records<K, R> = [(K, Result<R, UnitError>)];

fn phases_claims(
    p: &Phases,
    options: &RunOptions,
    runs: &Records<(Data, u64), PhaseRun>,
) -> Vec<ClaimResult> {
    let seeds = crate::study_seeds(&p.seeds, options.seed);
    let mut out = Vec::new();
    for data in Data::ALL {
        let mine: Vec<&Result<PhaseRun, UnitError>> = runs
            .iter()
            .filter(|((d, _), _)| *d == data)
            .map(|(_, r)| r)
            .collect();
        let base = |t0: &str, statement: &str, convention: &str| {
            Claim::new("SB21", "phases", statement, convention)
                .id_param("data", data.name())
                .id_param("t0", t0)
                .param("seeds", seeds.clone())
                .param("widths_hidden", p.widths_hidden.clone())
                .param("sigma", p.sigma)
                .param("step_fraction", p.step_fraction)
                .param("n", p.samples.get(options.mode))
                .param("steps", p.steps.get(options.mode))
        };
        let early = base(
            "init",
            "SB21: in the feature-learning phase the loss falls faster than kernel gradient descent on the initial NTK predicts",
            "ReLU MLP, one output, full-batch GD; measured = min over seeds of ℒ_frozen(T)/ℒ(T) with the kernel frozen at init",
        );
        let late = base(
            "late",
            "SB21: in the kernel phase the network follows kernel gradient descent on its current NTK; derived: ‖r_T − r̃_T‖ ≤ Σ_k (η/n)‖K_k − K_{t0}‖_op‖r_k‖",
            "measured = max over seeds of ‖r_T − r̃_T‖ / bound (upper Darboux sum on the checkpoints), kernel frozen at the late t_0",
        );
        if let Some(e) = mine.iter().find_map(|r| r.as_ref().err()) {
            out.push(early.failed(None, e.clone()));
            out.push(late.failed(None, e.clone()));
            continue;
        }
        let ok: Vec<&PhaseRun> = mine.iter().filter_map(|r| r.as_ref().ok()).collect();
        // Per seed: the training curves and the frozen-kernel run from t_0
        // (`which`: 0 at init, 1 late) with its end-point comparisons.
        let phase_details = |which: usize| -> Details {
            let k0 = |r: &PhaseRun| if which == 0 { 0 } else { r.late };
            let mut d = Details::new();
            for (r, s) in ok.iter().zip(&seeds) {
                let seed = format!("seed {s}");
                let over_t = |name: &str, y: &[f64]| {
                    Series::new(name, "t", r.times.clone(), y.iter().copied()).in_group(&seed)
                };
                d = d
                    .with_series(over_t("loss", &r.losses))
                    .with_series(over_t("alignment", &r.alignment))
                    .with_series(
                        Series::new("exponent", "t", r.times.clone(), r.exponent.iter().copied())
                            .in_group(&seed),
                    )
                    .with_series(
                        Series::new(
                            "frozen_loss",
                            "t",
                            r.times[k0(r)..].to_vec(),
                            r.frozen[which].losses.iter().copied(),
                        )
                        .in_group(&seed),
                    );
            }
            let per_seed = |f: &dyn Fn(&PhaseRun, &Frozen) -> f64| -> Vec<f64> {
                ok.iter().map(|r| f(r, &r.frozen[which])).collect()
            };
            // The final losses of the real and the frozen-kernel run.
            let ends = |r: &PhaseRun, f: &Frozen| {
                (
                    r.losses[r.losses.len() - 1],
                    value(f.losses[f.losses.len() - 1]),
                )
            };
            d.with_list("eta_per_seed", per_seed(&|r, _| r.eta))
                .with_list("t0_per_seed", per_seed(&|r, _| r.times[k0(r)]))
                .with_list(
                    "frozen_over_real_final_per_seed",
                    per_seed(&|r, f| {
                        let (real, frozen) = ends(r, f);
                        frozen / real
                    }),
                )
                .with_list(
                    "relative_loss_gap_final_per_seed",
                    per_seed(&|r, f| {
                        let (real, frozen) = ends(r, f);
                        (real - frozen).abs() / real
                    }),
                )
                .with_list("deviation_per_seed", per_seed(&|_, f| value(f.deviation)))
                .with_list("bound_per_seed", per_seed(&|_, f| value(f.bound)))
                .with_list(
                    "deviation_over_bound_per_seed",
                    per_seed(&|_, f| value(f.deviation) / value(f.bound)),
                )
                .with_list(
                    "eta_lambda_max_over_n_per_seed",
                    per_seed(&|_, f| f.stability),
                )
        };
        let ratio = ok
            .iter()
            .map(|r| {
                let f = &r.frozen[0];
                value(f.losses[f.losses.len() - 1]) / r.losses[r.losses.len() - 1]
            })
            .fold(f64::INFINITY, f64::min);
        out.push(
            early
                .details(phase_details(0))
                .check(
                    1.0,
                    ratio,
                    0.0,
                    Comparison::AtLeast,
                    "SB21 claims the direction only (faster than the frozen kernel), no rate: the margin is the claim itself",
                ),
        );
        let late = late.details(phase_details(1));
        if let Some(r) = ok.iter().find(|r| r.frozen[1].stability > 2.0) {
            out.push(late.undefined(
                Some(1.0),
                format!(
                    "ηλ_max(K_t0)/n = {:.3} > 2: kernel GD on the frozen kernel is not a contraction, the bound does not apply",
                    r.frozen[1].stability
                ),
            ));
            continue;
        }
        let worst = ok
            .iter()
            .map(|r| value(r.frozen[1].deviation) / value(r.frozen[1].bound))
            .fold(0.0, f64::max);
        out.push(late.check(
            1.0,
            worst,
            FROZEN_BOUND_SLACK,
            Comparison::AtMost,
            "checkpoint quadrature of the bound and the O(η²) per-step Taylor remainder of GD (module docs)",
        ));
    }
    out
}

/// Alignment measurements of one depth run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DepthRun {
    initial: f64,
    last: f64,
    t_half: Option<f64>,
    /// The step η (time per step), for the time to half the gain in steps.
    step: f64,
    at_half_loss: Option<f64>,
    final_loss_ratio: f64,
    times: Vec<f64>,
    alignment: Vec<f64>,
    losses: Vec<f64>,
}

/// First time a series reaches `level`, interpolated linearly in log t.
fn first_crossing(times: &[f64], values: &[f64], level: f64, rising: bool) -> Option<f64> {
    let hit = |v: f64| if rising { v >= level } else { v <= level };
    let k = (0..values.len()).find(|&k| hit(values[k]))?;
    if k == 0 || times[k - 1] <= 0.0 {
        return Some(times[k]);
    }
    let (a, b) = (values[k - 1], values[k]);
    let w = if b != a { (level - a) / (b - a) } else { 1.0 };
    Some((times[k - 1].ln() + w * (times[k].ln() - times[k - 1].ln())).exp())
}

fn depth_run(run: &Trained) -> Result<DepthRun, UnitError> {
    let (x, y) = (run.prepared.data.x.as_ref(), run.prepared.data.y.as_ref());
    let arch = run.exp.architecture();
    let alignment: Vec<f64> = (run.traj.snapshots.iter())
        .map(|s| {
            ntk::KernelStatistics::compute(&arch, &s.weights, x, y)
                .and_then(|s| Ok(s.alignment(0, 0)?))
        })
        .collect::<Result<_, _>>()?;
    let (times, losses) = (run.times(), run.losses());
    let (initial, last) = (alignment[0], alignment[alignment.len() - 1]);
    let l0 = losses[0];
    let at_half_loss = (0..losses.len())
        .find(|&k| losses[k] <= 0.5 * l0)
        .map(|k| alignment[k]);
    let step = run
        .traj
        .snapshots
        .last()
        .map_or(f64::NAN, |s| s.time / s.step as f64);
    Ok(DepthRun {
        initial,
        last,
        step,
        t_half: first_crossing(
            &times,
            &alignment,
            initial + 0.5 * (last - initial),
            last >= initial,
        ),
        at_half_loss,
        final_loss_ratio: losses[losses.len() - 1] / l0,
        times,
        alignment,
        losses,
    })
}

fn depth_claims(
    d: &Depth,
    options: &RunOptions,
    runs: &Records<(Data, usize, u64), DepthRun>,
) -> Vec<ClaimResult> {
    let seeds = crate::study_seeds(&d.seeds, options.seed);
    let depths = d.depths.get(options.mode);
    let runs_of = |data: Data, l: usize| -> Vec<&Result<DepthRun, UnitError>> {
        runs.iter()
            .filter(|((dt, j, _), _)| *dt == data && *j == l)
            .map(|(_, r)| r)
            .collect()
    };
    // Statistics over seeds at one depth, for every claim's details (the
    // trend across depths).
    let statistics = |data: Data, l: usize| -> Option<Vec<Summary>> {
        let ok: Vec<&DepthRun> = runs_of(data, l)
            .into_iter()
            .map(|r| r.as_ref().ok())
            .collect::<Option<Vec<_>>>()?;
        let col = |name: &str, f: &dyn Fn(&DepthRun) -> Option<f64>| {
            Summary::over_seeds(name, &ok.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
        };
        let positive = |name: &str, f: &dyn Fn(&DepthRun) -> Option<f64>| {
            Summary::positive(name, &ok.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
        };
        Some(vec![
            col("initial_alignment", &|r| Some(r.initial)),
            col("final_alignment", &|r| Some(r.last)),
            col("alignment_gain", &|r| Some(r.last - r.initial)),
            positive("t_half_gain", &|r| r.t_half),
            col("alignment_at_half_loss", &|r| r.at_half_loss),
            positive("final_loss_ratio", &|r| Some(r.final_loss_ratio)),
        ])
    };
    let mut out = Vec::new();
    for data in Data::ALL {
        // Each statistic over L (the depths whose runs all succeeded), mean ± spread.
        let by_depth: Vec<(f64, Vec<Summary>)> = depths
            .iter()
            .filter_map(|&l| Some((l as f64, statistics(data, l)?)))
            .collect();
        let trend: Vec<Series> = by_depth.first().map_or_else(Vec::new, |(_, first)| {
            (0..first.len())
                .map(|k| {
                    Series::new(
                        &first[k].name,
                        "L",
                        by_depth.iter().map(|(l, _)| *l).collect(),
                        by_depth.iter().map(|(_, s)| s[k].mean),
                    )
                    .with_spread(by_depth.iter().map(|(_, s)| s[k].spread))
                })
                .collect()
        });
        for &l in &depths {
            let claim = d.claim(
                options,
                data,
                l,
                "ReLU MLP of depth L, one output (digits: parity ±1), same σ and step convention; measured = mean alignment gain (final − init) of the uncentred kernel–target alignment; t_½ = time to half the gain",
            );
            let mine = runs_of(data, l);
            if let Some(e) = mine.iter().find_map(|r| r.as_ref().err()) {
                out.push(claim.failed(None, e.clone()));
                continue;
            }
            let ok: Vec<&DepthRun> = mine.iter().filter_map(|r| r.as_ref().ok()).collect();
            let mut details = statistics(data, l)
                .into_iter()
                .flatten()
                .fold(Details::new(), Details::with_statistic);
            details = trend.iter().cloned().fold(details, Details::with_series);
            for (r, s) in ok.iter().zip(&seeds) {
                let seed = format!("seed {s}");
                details = details
                    .with_series(
                        Series::new(
                            "alignment",
                            "t",
                            r.times.clone(),
                            r.alignment.iter().copied(),
                        )
                        .in_group(&seed),
                    )
                    .with_series(
                        Series::new("loss", "t", r.times.clone(), r.losses.iter().copied())
                            .in_group(&seed),
                    );
            }
            let gain = ok.iter().map(|r| r.last - r.initial).sum::<f64>() / ok.len() as f64;
            out.push(claim.details(details).info(
                Some(gain),
                "no theorem: the data of the comparisons between depths (rows with `vs`); the trend over L is in the details",
            ));
        }
        for pair in depths.windows(2) {
            out.extend(depth_comparisons(
                d, options, data, pair[0], pair[1], &runs_of,
            ));
        }
    }
    out
}

impl Depth {
    /// A `depth` claim at depth `l` on `data`, with the study's parameters.
    fn claim(&self, options: &RunOptions, data: Data, l: usize, convention: &str) -> Claim {
        Claim::new(
            "SB21",
            "depth",
            "SB21: feature evolution (NTK alignment with the target) is faster and larger in deeper networks",
            convention,
        )
        .id_param("data", data.name())
        .id_param("L", l)
        .param("seeds", crate::study_seeds(&self.seeds, options.seed))
        .param("width", self.width)
        .param("sigma", self.sigma)
        .param("step_fraction", self.step_fraction)
        .param("n", self.samples.get(options.mode))
        .param("steps", self.steps.get(options.mode))
    }
}

/// SB21's depth trend between depths `shallow` and `deep`, judged over
/// paired seeds (SPEC §8): `quantity=gain`, effect per seed
/// `gain(deep) − gain(shallow)` of the alignment gain (final − init);
/// `quantity=speed`, effect `ln t_½(shallow) − ln t_½(deep)` of the time to
/// half the gain (time `t = kη` with η set from each network's NTK at init,
/// so both depths run on their kernel's fastest time scale). SB21: both
/// positive.
fn depth_comparisons<'a>(
    d: &Depth,
    options: &RunOptions,
    data: Data,
    shallow: usize,
    deep: usize,
    runs_of: &dyn Fn(Data, usize) -> Vec<&'a Result<DepthRun, UnitError>>,
) -> Vec<ClaimResult> {
    let claim = |quantity: &str, convention: &str| {
        d.claim(options, data, deep, convention)
            .id_param("vs", shallow)
            .id_param("quantity", quantity)
    };
    let gain = claim(
        "gain",
        "uncentred kernel–target alignment; effect per seed = gain(L) − gain(vs), gain = final − init alignment, paired over seeds",
    );
    let speed = claim(
        "speed",
        "effect per seed = ln t_½(vs) − ln t_½(L), t_½ = time to half the alignment gain (t = kη, η from each network's NTK at init), paired over seeds",
    );
    let speed_in_steps = claim(
        "speed_steps",
        "effect per seed = ln k_½(vs) − ln k_½(L), k_½ = t_½/η the steps to half the alignment gain, paired over seeds",
    );
    let (a, b) = (runs_of(data, shallow), runs_of(data, deep));
    if let Some(e) = a.iter().chain(&b).find_map(|r| r.as_ref().err()) {
        return [gain, speed, speed_in_steps]
            .map(|c| c.failed(None, e.clone()))
            .into();
    }
    let pairs: Vec<(&DepthRun, &DepthRun)> = a
        .iter()
        .zip(&b)
        .filter_map(|(x, y)| Some((x.as_ref().ok()?, y.as_ref().ok()?)))
        .collect();
    let gains: Vec<f64> = pairs
        .iter()
        .map(|(x, y)| (y.last - y.initial) - (x.last - x.initial))
        .collect();
    let speeds: Vec<f64> = pairs
        .iter()
        .filter_map(|(x, y)| Some(x.t_half?.ln() - y.t_half?.ln()))
        .collect();
    // The same in steps (the other time normalisation): ln(t/η).
    let steps: Vec<f64> = pairs
        .iter()
        .filter_map(|(x, y)| Some((x.t_half? / x.step).ln() - (y.t_half? / y.step).ln()))
        .collect();
    let undefined_speed = pairs.len() - speeds.len();
    let test = |statement: &'static Statement, delta: f64, delta_reason: &'static str| Test {
        statement,
        direction: Direction::Positive,
        delta,
        delta_reason,
        method: "paired Student t",
        resolution: 0.0,
    };
    let speed_delta = "0.1 in ln t: a 10 % shorter time to half the gain, finer than the checkpoints' log-spacing resolves";
    vec![
        gain.judge_per_seed(
            "gain_difference",
            &gains,
            &test(&DEEPER_LARGER, 0.02, "0.02 in kernel–target alignment: a gain difference below it is within one seed's spread of the alignment at init"),
            &format!(
                "the deeper network's alignment gain is not larger at these sizes (L = {deep} vs {shallow})"
            ),
        ),
        speed
            .details(
                Details::new()
                    .with_statistic(Summary::with_per_seed("log_t_half_difference", &speeds))
                    .with_value("seeds_without_t_half", undefined_speed as f64),
            )
            .judge(
                &speeds,
                &test(&DEEPER_FASTER, 0.1, speed_delta),
                &format!("the deeper network does not reach half its alignment gain sooner at these sizes (L = {deep} vs {shallow})"),
            ),
        speed_in_steps
            .details(
                Details::new()
                    .with_statistic(Summary::with_per_seed("log_steps_half_difference", &steps)),
            )
            .info(
                Summary::over_seeds("", &steps).mean,
                format!(
                    "the other time normalisation, as a sensitivity check of the `speed` row (no verdict): ln k_½(vs) − ln k_½(L) = {} (95 % interval) in steps, where the two networks' steps η differ",
                    interval_text(&steps)
                ),
            ),
    ]
}

/// SB21's depth statement (SPEC §6), its "larger" half.
const DEEPER_LARGER: Statement = Statement {
    family: "SB21.depth.larger",
    quote: "feature evolution is faster and larger in deeper networks",
    source: "SB21, as SPEC §6 states it (not verbatim)",
    differs: "'larger' as the alignment gain (final − init) of the deeper of two consecutive depths",
};

/// SB21's depth statement (SPEC §6), its "faster" half.
const DEEPER_FASTER: Statement = Statement {
    family: "SB21.depth.faster",
    quote: "feature evolution is faster and larger in deeper networks",
    source: "SB21, as SPEC §6 states it (not verbatim)",
    differs: "'faster' as the time to half the alignment gain, in time t = kη with η from each network's NTK at init (in steps as an info row beside it)",
};

/// Which per-output kernel S is computed from (SPEC §8): the full
/// `K_c`, or its hidden-layer part `K_c − G` without the readout block
/// `G = φ(H_{L−1})φ(H_{L−1})ᵀ` that every output's kernel contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Full,
    Hidden,
}

/// The alignment S is computed with: uncentred `A(K, y)` (SB21) or
/// centred `A(HKH, Hy)` (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alignment {
    Uncentred,
    Centred,
}

/// The four conventions of S, in the order of [`SpecRun::matrices`].
const CONVENTIONS: [(Part, Alignment); 4] = [
    (Part::Full, Alignment::Uncentred),
    (Part::Full, Alignment::Centred),
    (Part::Hidden, Alignment::Uncentred),
    (Part::Hidden, Alignment::Centred),
];

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Full => "full",
            Part::Hidden => "hidden",
        }
    }
}

impl Alignment {
    fn name(self) -> &'static str {
        match self {
            Alignment::Uncentred => "uncentred",
            Alignment::Centred => "centred",
        }
    }
}

/// One specialisation run: S after training and at init in every
/// convention, the per-output kernels' mutual alignment and their motion,
/// and for the linear network the bounds of the module docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SpecRun {
    /// `S_{cc'}` after training in each of [`CONVENTIONS`], by rows.
    matrices: Vec<Vec<Vec<f64>>>,
    /// The same at init.
    matrices_init: Vec<Vec<Vec<f64>>>,
    /// `mean_{c≠c'} A(K_c, K_c')` after training: full and hidden kernels.
    kernel_alignment_mean: [f64; 2],
    /// The same at init.
    kernel_alignment_mean_init: [f64; 2],
    /// `min_{c≠c'} A(K_c, K_c')` after training: full and hidden kernels.
    kernel_alignment_min: [f64; 2],
    /// The same at init.
    kernel_alignment_min_init: [f64; 2],
    /// Kernel motion `mean_c (1 − A(K_c(0), K_c(T)))`: full and hidden.
    kernel_motion: [f64; 2],
    linear_bounds: Option<[f64; 2]>,
    final_loss_ratio: f64,
    /// `max_l ‖W_l − W_l(0)‖_F / ‖W_l(0)‖_F` after training.
    weight_change: f64,
}

/// A statistic of S (after training or at init).
type OfS = fn(&Mat<f64>) -> f64;

/// The diagonal contrast `mean_c S_cc − mean_{c≠c'} S_cc'` (0 without
/// specialisation; [`ntk::diagonal_contrast`]).
fn contrast(s: &Mat<f64>) -> f64 {
    ntk::diagonal_contrast(s.as_ref()).unwrap_or(f64::NAN)
}

/// The mean row margin `mean_c (S_cc − max_{c'≠c} S_cc')`.
fn mean_row_margin(s: &Mat<f64>) -> f64 {
    let m = ntk::diagonal_margins(s.as_ref()).unwrap_or_default();
    m.iter().sum::<f64>() / m.len().max(1) as f64
}

/// The fraction of rows with a positive margin.
fn positive_rows(s: &Mat<f64>) -> f64 {
    let m = ntk::diagonal_margins(s.as_ref()).unwrap_or_default();
    m.iter().filter(|&&v| v > 0.0).count() as f64 / m.len().max(1) as f64
}

/// The mean column margin `mean_c (S_cc − max_{c'≠c} S_c'c)` (details only:
/// the maximum over rows biases it below 0 where the kernels differ).
fn mean_column_margin(s: &Mat<f64>) -> f64 {
    column_mean_margin(s).unwrap_or(f64::NAN)
}

/// The fraction of targets c whose own kernel aligns best with them,
/// `S_cc > max_{c'≠c} S_c'c`.
fn own_kernel_wins(s: &Mat<f64>) -> f64 {
    positive_rows(&s.transpose().to_owned())
}

fn to_mat(m: &[Vec<f64>]) -> Mat<f64> {
    Mat::from_fn(m.len(), m.len(), |i, j| m[i][j])
}

impl SpecRun {
    fn index(part: Part, alignment: Alignment) -> usize {
        CONVENTIONS
            .iter()
            .position(|&c| c == (part, alignment))
            .expect("every convention is computed")
    }

    /// S after training in a convention.
    fn matrix(&self, part: Part, alignment: Alignment) -> Mat<f64> {
        to_mat(&self.matrices[Self::index(part, alignment)])
    }

    /// S at init in a convention.
    fn matrix_init(&self, part: Part, alignment: Alignment) -> Mat<f64> {
        to_mat(&self.matrices_init[Self::index(part, alignment)])
    }

    /// A statistic of S after training minus the same at init.
    fn change(&self, part: Part, alignment: Alignment, f: OfS) -> f64 {
        f(&self.matrix(part, alignment)) - f(&self.matrix_init(part, alignment))
    }

    /// The row-wise diagonal excess `min_c (S_cc − max_{c'≠c} S_cc')`
    /// (the linear network's bound is on it).
    fn row_excess(&self, part: Part, alignment: Alignment) -> f64 {
        ntk::diagonal_excess(self.matrix(part, alignment).as_ref()).unwrap_or(f64::NAN)
    }
}

/// The two bounds of the module docs for a two-layer linear network:
/// rows, `min_{c≠m} |u_c − ū| |β^1_c − β^1_m| / ‖K_c‖_F`; columns,
/// `min_{c'} min_{m≠c'} (|a_{c'} − a_m| β^1_{c'} + |b_{c'} − b_m| β^2_{c'})`
/// with `a_c = u_c/‖K_c‖_F`, `b_c = 1/‖K_c‖_F`.
fn linear_bounds(params: &[Mat<f64>], x: &Mat<f64>, y: &Mat<f64>, norm: &[f64]) -> [f64; 2] {
    let (w, a) = (&params[0], &params[1]);
    let c = y.ncols();
    let u: Vec<f64> = (0..c).map(|i| a.row(i).squared_norm_l2()).collect();
    let ubar = u.iter().sum::<f64>() / c as f64;
    let xw = product(x.as_ref(), w.transpose());
    let beta = |m: &Mat<f64>, j: usize| m.col(j).squared_norm_l2() / y.col(j).squared_norm_l2();
    let xty = product(x.transpose(), y.as_ref());
    let wxy = product(xw.transpose(), y.as_ref());
    let b1: Vec<f64> = (0..c).map(|j| beta(&xty, j)).collect();
    let b2: Vec<f64> = (0..c).map(|j| beta(&wxy, j)).collect();
    let sbar: Vec<f64> = (0..c).map(|j| ubar * b1[j] + b2[j]).collect();
    let m = (0..c)
        .max_by(|&i, &j| sbar[i].total_cmp(&sbar[j]))
        .unwrap_or(0);
    let rows = (0..c)
        .filter(|&i| i != m)
        .map(|i| (u[i] - ubar).abs() * (b1[i] - b1[m]).abs() / norm[i])
        .fold(f64::INFINITY, f64::min);
    let mut cols = f64::INFINITY;
    for j in 0..c {
        for i in (0..c).filter(|&i| i != j) {
            let da = (u[j] / norm[j] - u[i] / norm[i]).abs();
            let db = (1.0 / norm[j] - 1.0 / norm[i]).abs();
            cols = cols.min(da * b1[j] + db * b2[j]);
        }
    }
    [rows, cols]
}

/// `mean_c (S_cc − max_{c'≠c} S_c'c)`: the mean of the column margins.
fn column_mean_margin(s: &Mat<f64>) -> Result<f64, metrics::MetricError> {
    let margins = ntk::diagonal_margins(s.transpose())?;
    Ok(margins.iter().sum::<f64>() / margins.len() as f64)
}

/// The per-output kernels of a network on `x`, full and without the
/// readout block, dense (`n × n` each; the tiled statistics do not separate
/// the readout block, and the study's n is a few hundred).
fn kernel_parts(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: &Mat<f64>,
) -> Result<[Vec<Mat<f64>>; 2], UnitError> {
    let full = kernels(arch, params, x)?;
    let fwd = mlp::forward(arch, params, x.as_ref(), Par::Seq)?;
    let a = fwd.post.last().ok_or_else(|| {
        UnitError::new("a network without a hidden layer has only the readout block")
    })?;
    let g = product(a.as_ref(), a.transpose());
    let hidden = full
        .iter()
        .map(|k| {
            Mat::from_fn(k.nrows(), k.ncols(), |i, j| {
                k[(i, j)] - 0.5 * (g[(i, j)] + g[(j, i)])
            })
        })
        .collect();
    Ok([full, hidden])
}

/// `S_{cc'} = A(K_c, y_{c'})` with `alignment`.
fn specialisation(
    ks: &[Mat<f64>],
    y: &Mat<f64>,
    alignment: Alignment,
) -> Result<Mat<f64>, metrics::MetricError> {
    match alignment {
        Alignment::Uncentred => ntk::specialisation_matrix(ks, y.as_ref()),
        Alignment::Centred => ntk::centered_specialisation_matrix(ks, y.as_ref()),
    }
}

/// `min_{c≠c'} A(K_c, K_c')`.
fn min_kernel_alignment(ks: &[Mat<f64>]) -> Result<f64, metrics::MetricError> {
    let mut min = f64::INFINITY;
    for i in 0..ks.len() {
        for j in 0..i {
            min = min.min(ntk::kernel_alignment(ks[i].as_ref(), ks[j].as_ref())?);
        }
    }
    Ok(min)
}

/// A statistic of a set of per-output kernels.
type KernelStatistic = dyn Fn(&[Mat<f64>]) -> Result<f64, metrics::MetricError>;

/// `mean_{c≠c'} A(K_c, K_c')`.
fn mean_kernel_alignment(ks: &[Mat<f64>]) -> Result<f64, metrics::MetricError> {
    let (mut sum, mut pairs) = (0.0, 0usize);
    for i in 0..ks.len() {
        for j in 0..i {
            sum += ntk::kernel_alignment(ks[i].as_ref(), ks[j].as_ref())?;
            pairs += 1;
        }
    }
    Ok(sum / pairs.max(1) as f64)
}

/// `mean_c (1 − A(K_c(0), K_c(T)))`.
fn kernel_motion(init: &[Mat<f64>], end: &[Mat<f64>]) -> Result<f64, metrics::MetricError> {
    let mut sum = 0.0;
    for (k0, k) in init.iter().zip(end) {
        sum += 1.0 - ntk::kernel_alignment(k0.as_ref(), k.as_ref())?;
    }
    Ok(sum / init.len().max(1) as f64)
}

fn spec_run(run: &Trained, net: Net) -> Result<SpecRun, UnitError> {
    let (x, y) = (&run.prepared.data.x, &run.prepared.data.y);
    let (init, end) = (&run.traj.snapshots[0], &run.traj.snapshots[1]);
    let arch = run.exp.architecture();
    let parts0 = kernel_parts(&arch, &init.weights, x)?;
    let parts = kernel_parts(&arch, &end.weights, x)?;
    let matrices = |parts: &[Vec<Mat<f64>>; 2]| -> Result<Vec<Vec<Vec<f64>>>, UnitError> {
        CONVENTIONS
            .iter()
            .map(|&(part, alignment)| {
                let ks = &parts[usize::from(part == Part::Hidden)];
                let m = specialisation(ks, y, alignment)?;
                Ok((0..m.nrows())
                    .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
                    .collect())
            })
            .collect()
    };
    let both = |f: &KernelStatistic, parts: &[Vec<Mat<f64>>; 2]| -> Result<[f64; 2], UnitError> {
        Ok([f(&parts[0])?, f(&parts[1])?])
    };
    Ok(SpecRun {
        matrices: matrices(&parts)?,
        matrices_init: matrices(&parts0)?,
        kernel_alignment_mean: both(&mean_kernel_alignment, &parts)?,
        kernel_alignment_mean_init: both(&mean_kernel_alignment, &parts0)?,
        kernel_alignment_min: both(&min_kernel_alignment, &parts)?,
        kernel_alignment_min_init: both(&min_kernel_alignment, &parts0)?,
        kernel_motion: [
            kernel_motion(&parts0[0], &parts[0])?,
            kernel_motion(&parts0[1], &parts[1])?,
        ],
        linear_bounds: (net == Net::Linear).then(|| {
            let norms: Vec<f64> = parts[0].iter().map(|k| k.norm_l2()).collect();
            linear_bounds(&end.weights, x, y, &norms)
        }),
        final_loss_ratio: end.loss / init.loss,
        weight_change: (init.weights.iter().zip(&end.weights))
            .map(|(w0, w)| (w - w0).norm_l2() / w0.norm_l2())
            .fold(0.0, f64::max),
    })
}

/// The bound of the linear network is an identity plus the dropped
/// non-positive term: it holds up to the rounding of n²-term sums of O(1)
/// alignments.
const LINEAR_ROUNDING: f64 = 1e-10;

fn specialisation_claims(
    s: &Specialisation,
    options: &RunOptions,
    runs: &Records<(RegimeKind, Task, Net), SpecRun>,
) -> Vec<ClaimResult> {
    let mode = options.mode;
    let mut out = Vec::new();
    // Every setting runs the same seeds; its runs with their seeds, in plan
    // order.
    let seeds = s.seeds(options);
    let of =
        |regime: RegimeKind, task: Task, net: Net| -> Vec<(u64, &Result<SpecRun, UnitError>)> {
            seeds
                .iter()
                .copied()
                .zip(
                    runs.iter()
                        .filter(|(key, _)| *key == (regime, task, net))
                        .map(|(_, r)| r),
                )
                .collect()
        };
    for (regime, task, net) in SETTINGS {
        let r = s.regime(regime);
        let claim = |statement: &str, convention: &str| {
            let mut claim = Claim::new("SB21", "specialisation", statement, convention)
                .id_param("data", task.data().name());
            if let Some(t) = task.target() {
                claim = claim.id_param("target", t.name());
            }
            let n = match task.data() {
                Data::Digits => s.digits_samples.get(mode),
                Data::Synthetic => s.synthetic_samples.get(mode),
            };
            claim
                .id_param("net", net.name())
                .id_param("kernel_motion", regime.name())
                .param("seeds", seeds.clone())
                .param("depth", r.depth)
                .param("width", r.width.get(mode))
                .param("sigma", r.sigma.clone())
                .param(
                    "step",
                    match r.step {
                        Step::Fraction(f) => format!("ηΣ_cλ_max(K_c)/n = {f} at init"),
                        Step::LearningRate(eta) => format!("η = {eta}"),
                    },
                )
                .param("n", n)
                .param("steps", r.steps.get(mode))
        };
        let mine = of(regime, task, net);
        let ok: Vec<&SpecRun> = mine.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
        let error = mine.iter().find_map(|(_, r)| r.as_ref().err());
        if net == Net::Linear {
            let claim = claim(
                "SB21: linear networks do not specialise; derived: K_c = ‖A_c‖²XXᵀ + XWᵀWXᵀ bounds the diagonal excess of S by min_{c≠m}|u_c − ū||β¹_c − β¹_m|/‖K_c‖_F",
                "two-layer linear network f = AWx; measured = max over seeds of (diagonal excess − bound), by rows and by columns",
            );
            if let Some(e) = error {
                out.push(claim.failed(None, e.clone()));
                continue;
            }
            let worst = ok
                .iter()
                .map(|r| {
                    let [row, col] = r.linear_bounds.unwrap_or([f64::NAN; 2]);
                    let s = r.matrix(Part::Full, Alignment::Uncentred);
                    let column_excess = ntk::diagonal_excess(s.transpose()).unwrap_or(f64::NAN);
                    (r.row_excess(Part::Full, Alignment::Uncentred) - row).max(column_excess - col)
                })
                .fold(f64::NEG_INFINITY, f64::max);
            out.push(
                claim
                    .details(spec_details(&ok, Part::Full, Alignment::Uncentred))
                    .check(
                        0.0,
                        worst,
                        LINEAR_ROUNDING,
                        Comparison::AtMost,
                        "exact bounds from the two-layer linear NTK; rounding of O(1) alignments",
                    ),
            );
            continue;
        }
        if let Some(e) = error {
            out.push(
                claim(
                    "SB21: the per-output NTKs of a nonlinear network specialise",
                    "",
                )
                .failed(None, e.clone()),
            );
            continue;
        }
        // The precondition of each kernel part: the per-output kernels
        // move from init (SB21's statement is about kernels that evolve; a
        // frozen kernel's S is its init value).
        let mut holds = [Precondition::Open; 2];
        for part in [Part::Full, Part::Hidden] {
            let k = usize::from(part == Part::Hidden);
            let motion = per_seed(&ok, |r| r.kernel_motion[k]);
            let (row, moved) = claim(
                "precondition of SB21's specialisation rows: the per-output kernels move from init",
                &format!(
                    "{} per-output kernels; effect per seed = mean_c (1 − A(K_c(0), K_c(T))), the kernel motion",
                    part.name()
                ),
            )
            .id_param("by", "precondition")
            .id_param("kernel", part.name())
            .details(
                Details::new()
                    .with_statistic(Summary::with_per_seed("kernel_motion", &motion))
                    .with_statistic(Summary::with_per_seed(
                        "kernels_apart",
                        &per_seed(&ok, |r| {
                            r.kernel_alignment_mean_init[k] - r.kernel_alignment_mean[k]
                        }),
                    ))
                    .with_statistic(Summary::over_seeds(
                        "mean_pairwise_kernel_alignment_init",
                        &per_seed(&ok, |r| r.kernel_alignment_mean_init[k]),
                    ))
                    .with_statistic(Summary::over_seeds(
                        "mean_pairwise_kernel_alignment",
                        &per_seed(&ok, |r| r.kernel_alignment_mean[k]),
                    ))
                    .with_statistic(Summary::over_seeds(
                        "min_pairwise_kernel_alignment",
                        &per_seed(&ok, |r| r.kernel_alignment_min[k]),
                    ))
                    .with_statistic(Summary::over_seeds(
                        "weight_change",
                        &per_seed(&ok, |r| r.weight_change),
                    )),
            )
            .precondition(&motion, Direction::Positive, MOTION_DELTA, "Student t");
            holds[k] = moved;
            out.push(row);
        }
        let untestable = |part: Part| {
            format!(
                "untestable here: the {} per-output kernels do not move from init (see the `by=precondition` row), so S keeps its init value",
                part.name()
            )
        };
        // The linear network of the same data and seeds, where there is one.
        let with_linear = SETTINGS.contains(&(regime, task, Net::Linear));
        let linear: Vec<(u64, &SpecRun)> = if with_linear {
            of(regime, task, Net::Linear)
        } else {
            Vec::new()
        }
        .into_iter()
        .filter_map(|(seed, r)| Some((seed, r.as_ref().ok()?)))
        .collect();
        let relu_by_seed: Vec<(u64, &SpecRun)> = mine
            .iter()
            .filter_map(|(seed, r)| Some((*seed, r.as_ref().ok()?)))
            .collect();
        for (part, alignment) in CONVENTIONS {
            let k = usize::from(part == Part::Hidden);
            let convention = format!(
                "{} alignment of the {} per-output kernels ({})",
                alignment.name(),
                part.name(),
                match part {
                    Part::Full => "K_c",
                    Part::Hidden => "K_c − G without the shared readout block",
                }
            );
            // A row on S's diagonal contrast against the baseline `vs`.
            let contrast_claim = |vs: &str, statement: &str, effect: &str| {
                claim(statement, &format!("{convention}; {effect}"))
                    .id_param("by", "contrast")
                    .id_param("vs", vs)
                    .id_param("kernel", part.name())
                    .id_param("alignment", alignment.name())
            };
            let effect = per_seed(&ok, |r| r.change(part, alignment, contrast));
            let row = contrast_claim(
                "init",
                "kernel specialisation: S's diagonal contrast rises from init",
                "effect per seed = D(S_T) − D(S_0), D(S) = mean_c S_cc − mean_{c≠c'} S_cc' (0 without specialisation), paired",
            )
            .details(contrast_details(&ok, part, alignment))
            .judge(
                &effect,
                &contrast_test("paired Student t"),
                &disagreement(&ok, part, alignment),
            )
            .given(holds[k], &untestable(part));
            out.push(row);
            if !linear.is_empty() {
                let pairs: Vec<(&SpecRun, &SpecRun)> = relu_by_seed
                    .iter()
                    .filter_map(|(seed, a)| {
                        linear
                            .iter()
                            .find(|(s, _)| s == seed)
                            .map(|(_, b)| (*a, *b))
                    })
                    .collect();
                let effect: Vec<f64> = pairs
                    .iter()
                    .map(|(a, b)| {
                        contrast(&a.matrix(part, alignment)) - contrast(&b.matrix(part, alignment))
                    })
                    .collect();
                out.push(
                    contrast_claim(
                        "linear",
                        "kernel specialisation: S's diagonal contrast is above that of a linear network (which cannot specialise) of the same data",
                        "effect per seed = D(S_T) of the ReLU network − D(S_T) of the two-layer linear network, same data and seed, paired",
                    )
                    .judge_per_seed(
                        "contrast_minus_linear",
                        &effect,
                        &contrast_test("paired Student t"),
                        "the ReLU network's diagonal contrast is not above the linear network's on the same data",
                    ),
                );
            }
        }
        let wins = per_seed(&ok, |r| {
            r.change(Part::Full, Alignment::Uncentred, own_kernel_wins)
        });
        out.push(
            claim(
                "kernel specialisation by columns: more targets align best with their own output's kernel than at init",
                "uncentred alignment of the full kernels; effect per seed = W(S_T) − W(S_0), W(S) = the fraction of targets c with S_cc > max_{c'≠c} S_c'c (each column holds one target, so this is free of the targets' difficulty; its change is 0 in expectation for kernels that do not specialise), paired",
            )
            .id_param("by", "column")
            .judge_per_seed(
                "own_kernel_wins_change",
                &wins,
                &Test {
                    delta: 0.1,
                    delta_reason: "one target in ten won by its own kernel",
                    ..contrast_test("paired Student t")
                },
                "no more targets align best with their own output's kernel than at init",
            )
            .given(holds[0], &untestable(Part::Full)),
        );
    }
    out
}

/// SB21's specialisation statement (SPEC §6, §8).
const SPECIALISES: Statement = Statement {
    family: "SB21.specialisation",
    quote: "In nonlinear networks with multiple outputs, we identify the phenomenon of kernel specialization, where the kernel function for each output head preferentially aligns to its own target function.",
    source: "SB21 (v2), abstract",
    differs: "'preferentially aligns to its own target' is measured as the diagonal contrast of S = A(K_c, y_c') (mean diagonal − mean off-diagonal, 0 when the outputs share one kernel) rising from init and exceeding a linear network's, and as the fraction of targets won by their own kernel rising from init; not as 'above every other target in every row', which SB21 does not say",
};

/// The test of every specialisation row: SB21's direction and δ.
fn contrast_test(method: &'static str) -> Test<'static> {
    Test {
        statement: &SPECIALISES,
        direction: Direction::Positive,
        delta: CONTRAST_DELTA,
        delta_reason: "0.01 in kernel–target alignment (which lies in [0, 1]): a diagonal advantage below 1 % of the alignment's range would not show in SB21's specialisation figures",
        method,
        resolution: 0.0,
    }
}

/// δ of the kernel-motion precondition: a motion `1 − A(K_c(0), K_c(T))`
/// below 0.001 leaves S at its init value to within the rounding of the
/// figures.
const MOTION_DELTA: f64 = 1e-3;

/// δ of the specialisation rows, in alignment.
const CONTRAST_DELTA: f64 = 0.01;

/// The likely cause of a disagreement: the rows whose mean margin over
/// seeds is negative (with how hard their own target is) and whether the
/// per-row means support the paper.
fn disagreement(ok: &[&SpecRun], part: Part, alignment: Alignment) -> String {
    let margins = mean_over_seeds(ok, &|r| {
        ntk::diagonal_margins(r.matrix(part, alignment).as_ref()).unwrap_or_default()
    });
    let outputs = margins.len();
    let positive = margins.iter().filter(|&&m| m > 0.0).count();
    format!(
        "the diagonal contrast does not rise from init; {positive} of {outputs} rows have a positive mean margin S_cc − max_{{c'≠c}} S_cc' after training"
    )
}

/// The mean over seeds of a per-output vector.
fn mean_over_seeds(ok: &[&SpecRun], f: &dyn Fn(&SpecRun) -> Vec<f64>) -> Vec<f64> {
    let outputs = ok.first().map_or(0, |r| r.matrices[0].len());
    let mut mean = vec![0.0; outputs];
    for r in ok {
        for (m, v) in mean.iter_mut().zip(f(r)) {
            *m += v / ok.len() as f64;
        }
    }
    mean
}

/// The double-centred `S̃ = S − row means − column means + grand mean`.
fn double_centred(s: &Mat<f64>) -> Mat<f64> {
    let c = s.nrows();
    let grand = s.sum() / (c * c) as f64;
    let row: Vec<f64> = (0..c).map(|i| s.row(i).sum() / c as f64).collect();
    let col: Vec<f64> = (0..c).map(|j| s.col(j).sum() / c as f64).collect();
    Mat::from_fn(c, c, |i, j| s[(i, j)] - row[i] - col[j] + grand)
}

/// The details of a contrast row: the statistic after training and at
/// init per seed, the mean and fraction-positive row margins, the
/// double-centred S's row margins, and the mean S (for the heat map).
fn contrast_details(ok: &[&SpecRun], part: Part, alignment: Alignment) -> Details {
    let final_and_init = |name: &str, f: OfS| {
        [
            Summary::with_per_seed(name, &per_seed(ok, |r| f(&r.matrix(part, alignment)))),
            Summary::with_per_seed(
                &format!("{name}_init"),
                &per_seed(ok, |r| f(&r.matrix_init(part, alignment))),
            ),
        ]
    };
    let mut details = spec_details(ok, part, alignment);
    for name_f in [
        ("diagonal_contrast", contrast as OfS),
        ("mean_row_margin", mean_row_margin as OfS),
        ("fraction_positive_rows", positive_rows as OfS),
        ("mean_column_margin", mean_column_margin as OfS),
    ] {
        for summary in final_and_init(name_f.0, name_f.1) {
            details = details.with_statistic(summary);
        }
    }
    let margins = |f: &dyn Fn(&SpecRun) -> Mat<f64>| {
        mean_over_seeds(ok, &|r| {
            ntk::diagonal_margins(f(r).as_ref()).unwrap_or_default()
        })
    };
    details
        .with_list(
            "mean_row_margin_per_output",
            margins(&|r| r.matrix(part, alignment)),
        )
        .with_list(
            "double_centred_row_margin_per_output",
            margins(&|r| double_centred(&r.matrix(part, alignment))),
        )
        .with_list(
            "mean_diagonal_per_output",
            mean_over_seeds(ok, &|r| {
                let m = r.matrix(part, alignment);
                (0..m.nrows()).map(|c| m[(c, c)]).collect()
            }),
        )
}

/// One value of every seed's run.
fn per_seed(runs: &[&SpecRun], f: impl Fn(&SpecRun) -> f64) -> Vec<f64> {
    runs.iter().map(|r| f(r)).collect()
}

/// The mean over seeds of S in a convention, for the heat map.
fn mean_matrix(ok: &[&SpecRun], part: Part, alignment: Alignment) -> Matrix {
    let outputs = ok.first().map_or(0, |r| r.matrices[0].len());
    let mut mean = vec![vec![0.0; outputs]; outputs];
    for r in ok {
        let m = r.matrix(part, alignment);
        for (i, row) in mean.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v += m[(i, j)] / ok.len() as f64;
            }
        }
    }
    let labels = |prefix: &str| (0..outputs).map(|i| format!("{prefix}_{i}")).collect();
    Matrix::new(
        &format!(
            "mean over seeds of S_{{cc'}} = A(K_c, y_{{c'}}) after training ({} alignment, {} kernels)",
            alignment.name(),
            part.name()
        ),
        labels("K"),
        labels("y"),
        &mean,
    )
}

/// The details every specialisation row shares: the mean S over seeds (for
/// the heat map), the kernels' mutual alignment and motion, the loss and
/// the weights' change, and the linear network's bounds per seed.
fn spec_details(ok: &[&SpecRun], part: Part, alignment: Alignment) -> Details {
    let k = usize::from(part == Part::Hidden);
    let over_seeds =
        |name: &str, f: &dyn Fn(&SpecRun) -> f64| Summary::over_seeds(name, &per_seed(ok, f));
    let details = Details::new()
        .with_matrix(mean_matrix(ok, part, alignment))
        .with_statistic(over_seeds("mean_pairwise_kernel_alignment", &|r| {
            r.kernel_alignment_mean[k]
        }))
        .with_statistic(over_seeds("mean_pairwise_kernel_alignment_init", &|r| {
            r.kernel_alignment_mean_init[k]
        }))
        .with_statistic(over_seeds("min_pairwise_kernel_alignment", &|r| {
            r.kernel_alignment_min[k]
        }))
        .with_statistic(over_seeds("min_pairwise_kernel_alignment_init", &|r| {
            r.kernel_alignment_min_init[k]
        }))
        .with_statistic(over_seeds("kernel_motion", &|r| r.kernel_motion[k]))
        .with_statistic(Summary::positive(
            "final_loss_ratio",
            &per_seed(ok, |r| r.final_loss_ratio),
        ))
        .with_statistic(over_seeds("weight_change", &|r| r.weight_change));
    // The linear network's bounds of the module docs (rows, columns), per seed.
    match ok
        .iter()
        .map(|r| r.linear_bounds)
        .collect::<Option<Vec<_>>>()
    {
        Some(bounds) => details
            .with_list("linear_bound_row_per_seed", bounds.iter().map(|b| b[0]))
            .with_list("linear_bound_column_per_seed", bounds.iter().map(|b| b[1])),
        None => details,
    }
}
