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
//!   init convention for L = 2, 3, 4 (5): the
//!   alignment at init and at the end, the time to reach half of the
//!   alignment gain, and the alignment when the loss has halved; `info`.
//! * `specialisation`: `S_{cc'} = A(K_c, y_{c'})` for two-layer ReLU and
//!   linear networks with C outputs on digits and a synthetic task, and its
//!   diagonal excess by rows `min_c (S_cc − max_{c'≠c} S_cc')` and by
//!   columns `min_c (S_cc − max_{c'≠c} S_c'c)` (target c aligns best with its
//!   own output's kernel; the row version also compares targets of unequal
//!   difficulty under a common kernel, a column profile shared by all rows).
//!   - ReLU, by columns (checked): after training, the mean over c of the
//!     column margins `S_cc − max_{c'≠c} S_c'c` is positive on every seed
//!     (it is negative at init; its init value, mean ± spread and the
//!     per-seed smallest column margin are in the details). Each column holds one target, so this compares the
//!     kernels' preference for that target, free of its difficulty.
//!   - ReLU, by rows (SPEC §6 as written, checked, fails at these sizes):
//!     `min_c (S_cc − max_{c'≠c} S_cc') > 0` on every seed. Every `K_c`
//!     contains the same readout block `φ(XW₁ᵀ)φ(XW₁ᵀ)ᵀ` and, with a readout
//!     near its init, nearly the same first-layer block, so the per-output
//!     kernels stay close (`min A(K_c, K_c')` ≈ 0.93, in the details) and a
//!     row mostly ranks the targets by difficulty under one kernel: an easy
//!     target (digit 0) tops other rows. The failure reason says so.
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
//! `depth` and `specialisation` need only kernel statistics (alignments,
//! norms, kernel–kernel alignments): they come from
//! [`ntk::kernel_statistics`] over tiles of samples, so their n is not
//! bounded by n × n kernels in memory; `phases` needs the dense kernels for
//! kernel gradient descent.
//!
//! Units of work: one run per claim, data set and seed, named
//! `phases[data=digits,seed=1]`, `depth[data=digits,L=3,seed=1]`,
//! `specialisation[data=digits,net=relu,seed=1]`; each is an
//! [`experiment`] (`digits` with `target = "parity"` or `"one_hot"`, or
//! `synthetic`; a bias-free network; `gaussian` init; `gd` recorded at
//! `log_steps` or `steps`) whose learning rate is set from the NTK at init
//! before it runs. A unit measures its run (kernels, frozen-kernel GD,
//! specialisation matrices) into a per-seed record; the claims aggregate
//! the records over seeds.

use common::stats::t_interval;
use experiment::config::{
    CheckpointConfig, Checkpoints, DataConfig, DigitsTarget, DynamicsConfig, InitConfig,
    NetworkConfig,
};
use experiment::{Experiment, ExperimentConfig, Prepared, Trajectory};
use faer::{Mat, Par};
use mlp::Architecture;
use serde::{Deserialize, Serialize};

use crate::PerMode;
use crate::claim::{Claim, Comparison, Direction};
use crate::details::{Details, Matrix, Series, Summary};
use crate::study::{Planned, Study};
use crate::{ClaimResult, Family, Mode, RunOptions};

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../fixtures/claims/sb21.toml");

const KEYS: &[&str] = &["phases", "depth", "specialisation"];

/// The SB21 family.
pub const FAMILY: Family = Family::new("SB21", KEYS, "sb21.toml", FIXTURE, &Sb21);

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

/// `[specialisation]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Specialisation {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Hidden width.
    pub width: usize,
    /// Init σ per layer (one value: all layers).
    pub sigma: Vec<f64>,
    /// `ηΣ_cλ_max(K_c)/n` at init.
    pub step_fraction: f64,
    /// GD steps (per mode).
    pub steps: PerMode<usize>,
    /// Digits n (per mode).
    pub digits_samples: PerMode<usize>,
    /// Synthetic n (per mode).
    pub synthetic_samples: PerMode<usize>,
    /// Synthetic input dimension.
    pub synthetic_input_dim: usize,
    /// Synthetic outputs C.
    pub synthetic_outputs: usize,
}

/// Parse the fixture.
pub fn config() -> Result<Config, experiment::ConfigError> {
    crate::parse_fixture(FIXTURE)
}

/// SB21's units of work ([`Point`]).
struct Sb21;

/// One run: a claim's data set (and depth or network) and a seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "claim", rename_all = "snake_case")]
enum Point {
    Phases { data: Data, seed: u64 },
    Depth { data: Data, depth: usize, seed: u64 },
    Specialisation { data: Data, net: Net, seed: u64 },
}

impl Point {
    /// The unit's name: the claim key, its id parameters and the seed
    /// (`depth[data=digits,L=3,seed=1]`).
    fn name(&self) -> String {
        match *self {
            Point::Phases { data, seed } => format!("phases[data={},seed={seed}]", data.name()),
            Point::Depth { data, depth, seed } => {
                format!("depth[data={},L={depth},seed={seed}]", data.name())
            }
            Point::Specialisation { data, net, seed } => format!(
                "specialisation[data={},net={},seed={seed}]",
                data.name(),
                net.name()
            ),
        }
    }

    /// The unit's experiment — a bias-free network on its data set,
    /// Gaussian init `N(0, σ_l²/d_{l−1})` (one σ for all layers, or one per
    /// layer), full-batch GD recorded at log-spaced steps (`specialisation`:
    /// at init and at the end) — and the fraction `ηΣ_cλ_max(K_c)/n` of
    /// the NTK at init from which [`train`] sets its learning rate.
    fn experiment(&self, cfg: &Config, mode: Mode) -> (ExperimentConfig, f64) {
        let (p, d, s) = (&cfg.phases, &cfg.depth, &cfg.specialisation);
        let log_steps =
            |total: &PerMode<usize>, count: &PerMode<usize>| CheckpointConfig::LogSteps {
                total: total.get(mode),
                count: count.get(mode),
            };
        let (data, seed, hidden, activation, sigma, checkpoints, fraction) = match *self {
            Point::Phases { data, seed } => (
                data.config(p.samples.get(mode), p.synthetic_input_dim, None),
                seed,
                p.widths_hidden.clone(),
                "relu",
                vec![p.sigma],
                log_steps(&p.steps, &p.checkpoints),
                p.step_fraction,
            ),
            Point::Depth { data, depth, seed } => (
                data.config(d.samples.get(mode), d.synthetic_input_dim, None),
                seed,
                vec![d.width; depth - 1],
                "relu",
                vec![d.sigma],
                log_steps(&d.steps, &d.checkpoints),
                d.step_fraction,
            ),
            Point::Specialisation { data, net, seed } => (
                data.config(
                    s.samples(data).get(mode),
                    s.synthetic_input_dim,
                    Some(s.synthetic_outputs),
                ),
                seed,
                vec![s.width],
                if net == Net::Linear {
                    "identity"
                } else {
                    "relu"
                },
                s.sigma.clone(),
                CheckpointConfig::Steps {
                    steps: vec![0, s.steps.get(mode)],
                },
                s.step_fraction,
            ),
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
            // Replaced by the step from the NTK at init before the run.
            dynamics: DynamicsConfig::Gd {
                learning_rate: 1.0,
                weight_decay: 0.0,
            },
            checkpoints,
        };
        (config, fraction)
    }
}

/// A unit's per-seed record (or why its run failed).
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Measurement {
    Phases(Result<PhaseRun, String>),
    Depth(Result<DepthRun, String>),
    Specialisation(Result<SpecRun, String>),
}

/// A record of the wrong kind for its unit (plan and conclusion disagree).
const MISMATCH: &str = "a unit's measurement is not of its claim";

/// The specialisation study's networks, in report order.
const SPECIALISATION: [(Data, Net); 4] = [
    (Data::Digits, Net::Relu),
    (Data::Digits, Net::Linear),
    (Data::Synthetic, Net::Relu),
    (Data::Synthetic, Net::Linear),
];

impl Study for Sb21 {
    type Config = Config;
    type Point = Point;
    type Measurement = Measurement;

    fn plan(&self, cfg: &Config, options: &RunOptions) -> Vec<Planned<Point>> {
        let seeds = |fixture: &[u64]| crate::study_seeds(fixture, options.seed);
        let mut points = Vec::new();
        for data in Data::ALL {
            for seed in seeds(&cfg.phases.seeds) {
                points.push(Point::Phases { data, seed });
            }
        }
        for data in Data::ALL {
            for depth in cfg.depth.depths.get(options.mode) {
                for seed in seeds(&cfg.depth.seeds) {
                    points.push(Point::Depth { data, depth, seed });
                }
            }
        }
        for (data, net) in SPECIALISATION {
            for seed in seeds(&cfg.specialisation.seeds) {
                points.push(Point::Specialisation { data, net, seed });
            }
        }
        points
            .into_iter()
            .map(|point| Planned {
                name: point.name(),
                cost: cost(&point.experiment(cfg, options.mode).0),
                point,
            })
            .collect()
    }

    fn run(&self, cfg: &Config, options: &RunOptions, point: &Point) -> Measurement {
        let (config, fraction) = point.experiment(cfg, options.mode);
        let run = train(config, fraction);
        match *point {
            Point::Phases { .. } => {
                Measurement::Phases(run.and_then(|r| phase_run(&cfg.phases, options.mode, &r)))
            }
            Point::Depth { .. } => Measurement::Depth(run.and_then(|r| depth_run(&r))),
            Point::Specialisation { net, .. } => {
                Measurement::Specialisation(run.and_then(|r| spec_run(&r, net)))
            }
        }
    }

    fn conclude(
        &self,
        cfg: &Config,
        options: &RunOptions,
        measured: Vec<(Point, Measurement)>,
    ) -> Vec<ClaimResult> {
        let (mut phases, mut depths, mut specs) = (Vec::new(), Vec::new(), Vec::new());
        for (point, m) in measured {
            match (point, m) {
                (Point::Phases { data, seed }, Measurement::Phases(r)) => {
                    phases.push(((data, seed), r))
                }
                (Point::Depth { data, depth, seed }, Measurement::Depth(r)) => {
                    depths.push(((data, depth, seed), r))
                }
                (Point::Specialisation { data, net, .. }, Measurement::Specialisation(r)) => {
                    specs.push(((data, net), r))
                }
                (Point::Phases { data, seed }, _) => {
                    phases.push(((data, seed), Err(MISMATCH.into())))
                }
                (Point::Depth { data, depth, seed }, _) => {
                    depths.push(((data, depth, seed), Err(MISMATCH.into())))
                }
                (Point::Specialisation { data, net, .. }, _) => {
                    specs.push(((data, net), Err(MISMATCH.into())))
                }
            }
        }
        let mut out = phases_claims(&cfg.phases, options, &phases);
        out.extend(depth_claims(&cfg.depth, options, &depths));
        out.extend(specialisation_claims(&cfg.specialisation, options, &specs));
        out
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
        let weights: usize = exp.widths.windows(2).map(|w| w[0] * w[1]).sum();
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

    /// The data of a run. `outputs = None` asks for one output: digits'
    /// parity (+1 even, −1 odd) or the synthetic target along the first
    /// input direction; `Some(C)` asks for digits' one-hot − 1/C (C = 10)
    /// or C synthetic targets (module and fixture docs).
    fn config(self, samples: usize, input_dim: usize, outputs: Option<usize>) -> DataConfig {
        match self {
            Data::Digits => DataConfig::Digits {
                samples: Some(samples),
                noise: 0.0,
                target: match outputs {
                    Some(_) => DigitsTarget::OneHot,
                    None => DigitsTarget::Parity,
                },
            },
            Data::Synthetic => DataConfig::Synthetic {
                samples,
                input_dim,
                outputs: outputs.unwrap_or(1),
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
    /// n of a data set.
    fn samples(&self, data: Data) -> &PerMode<usize> {
        match data {
            Data::Digits => &self.digits_samples,
            Data::Synthetic => &self.synthetic_samples,
        }
    }
}

/// Per-output kernels, symmetrised (the closed form is symmetric up to
/// rounding).
fn kernels(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: &Mat<f64>,
) -> Result<Vec<Mat<f64>>, String> {
    let ks = ntk::per_output_ntk(arch, params, x.as_ref(), Par::Seq).map_err(|e| e.to_string())?;
    Ok(ks
        .into_iter()
        .map(|k| Mat::from_fn(k.nrows(), k.ncols(), |i, j| 0.5 * (k[(i, j)] + k[(j, i)])))
        .collect())
}

/// Largest absolute eigenvalue of a symmetric matrix.
fn op_norm(k: &Mat<f64>) -> Result<f64, String> {
    let eigenvalues = common::linalg::eigvalsh(k.as_ref(), Par::Seq)
        .map_err(|e| format!("eigenvalues: {e:?}"))?;
    Ok(eigenvalues.iter().fold(0.0, |m: f64, v| m.max(v.abs())))
}

/// A trained network: its experiment, data and init, trajectory and step.
struct Trained {
    exp: Experiment,
    prepared: Prepared,
    traj: Trajectory,
    eta: f64,
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn validated(config: &ExperimentConfig) -> Result<Experiment, String> {
    config.validate().map_err(|e| format!("config: {e}"))
}

/// Run `config` with the step `η = fraction · n / Σ_c λ_max(K_c)` of the
/// NTK at init, set into the config before the run (every run takes the
/// same number of steps per unit of the kernel's fastest time scale).
fn train(mut config: ExperimentConfig, fraction: f64) -> Result<Trained, String> {
    let exp = validated(&config)?;
    let mut prepared = experiment::prepare(&exp).map_err(text)?;
    // Every network, the linear one too, trains by backpropagation through
    // the samples (`mlp::MlpObjective`): the linear and ReLU networks of a
    // comparison differ only in φ.
    prepared.stats = None;
    let x = &prepared.data.x;
    let mut scale = 0.0;
    for k in kernels(&exp.architecture(), &prepared.init.weights, x)? {
        scale += op_norm(&k)?;
    }
    if scale <= 0.0 {
        return Err("the NTK at init is zero".into());
    }
    let eta = fraction * x.nrows() as f64 / scale;
    config.dynamics = DynamicsConfig::Gd {
        learning_rate: eta,
        weight_decay: 0.0,
    };
    let exp = validated(&config)?;
    let traj = experiment::run::run_prepared(&exp, &prepared).map_err(text)?;
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
) -> Result<Frozen, String> {
    let n = residuals[k0].nrows() as f64;
    let k = &kernels[k0];
    let (lambda, v) = common::linalg::eigh(k.as_ref(), Par::Seq)
        .map_err(|e| format!("eigendecomposition: {e:?}"))?;
    let stability = eta * lambda.iter().fold(0.0, |m: f64, l| m.max(l.abs())) / n;
    let proj = v.transpose() * &residuals[k0];
    let mut losses = Vec::new();
    let mut last = Mat::zeros(0, 0);
    for &s in &steps[k0..] {
        let p = (s - steps[k0]) as i32;
        let decayed = Mat::from_fn(proj.nrows(), proj.ncols(), |i, j| {
            (1.0 - eta * lambda[i] / n).powi(p) * proj[(i, j)]
        });
        let r = &v * decayed;
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

fn phase_run(p: &Phases, mode: Mode, run: &Trained) -> Result<PhaseRun, String> {
    let (x, y) = (&run.prepared.data.x, &run.prepared.data.y);
    let arch = run.exp.architecture();
    let mut ks = Vec::new();
    let mut residuals = Vec::new();
    let mut alignment = Vec::new();
    for s in &run.traj.snapshots {
        let k = kernels(&arch, &s.weights, x)?.remove(0);
        alignment.push(ntk::kernel_target_alignment(k.as_ref(), y.as_ref()).map_err(text)?);
        let f = mlp::forward(&arch, &s.weights, x.as_ref(), Par::Seq).map_err(text)?;
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
type Records<K, R> = [(K, Result<R, String>)];

fn phases_claims(
    p: &Phases,
    options: &RunOptions,
    runs: &Records<(Data, u64), PhaseRun>,
) -> Vec<ClaimResult> {
    let seeds = crate::study_seeds(&p.seeds, options.seed);
    let mut out = Vec::new();
    for data in Data::ALL {
        let mine: Vec<&Result<PhaseRun, String>> = runs
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

fn depth_run(run: &Trained) -> Result<DepthRun, String> {
    let (x, y) = (run.prepared.data.x.as_ref(), run.prepared.data.y.as_ref());
    let arch = run.exp.architecture();
    let alignment: Vec<f64> = (run.traj.snapshots.iter())
        .map(|s| {
            ntk::KernelStatistics::compute(&arch, &s.weights, x, y)
                .and_then(|s| Ok(s.alignment(0, 0)?))
                .map_err(text)
        })
        .collect::<Result<_, _>>()?;
    let (times, losses) = (run.times(), run.losses());
    let (initial, last) = (alignment[0], alignment[alignment.len() - 1]);
    let l0 = losses[0];
    let at_half_loss = (0..losses.len())
        .find(|&k| losses[k] <= 0.5 * l0)
        .map(|k| alignment[k]);
    Ok(DepthRun {
        initial,
        last,
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
    let runs_of = |data: Data, l: usize| -> Vec<&Result<DepthRun, String>> {
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
        Some(vec![
            col("initial_alignment", &|r| Some(r.initial)),
            col("final_alignment", &|r| Some(r.last)),
            col("alignment_gain", &|r| Some(r.last - r.initial)),
            col("t_half_gain", &|r| r.t_half),
            col("alignment_at_half_loss", &|r| r.at_half_loss),
            col("final_loss_ratio", &|r| Some(r.final_loss_ratio)),
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
            let claim = Claim::new(
                "SB21",
                "depth",
                "SB21: feature evolution (NTK alignment with the target) is faster and larger in deeper networks",
                "ReLU MLP of depth L, one output (digits: parity ±1), same σ and step convention; measured = mean alignment gain (final − init) of the uncentred kernel–target alignment; t_½ = time to half the gain",
            )
            .id_param("data", data.name())
            .id_param("L", l)
            .param("seeds", seeds.clone())
            .param("width", d.width)
            .param("sigma", d.sigma)
            .param("step_fraction", d.step_fraction)
            .param("n", d.samples.get(options.mode))
            .param("steps", d.steps.get(options.mode));
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
                "no theorem: SB21's depth trend is qualitative; the trend over L is in the details",
            ));
        }
    }
    out
}

/// One specialisation run: S at the end and at init, and for the linear
/// network the bound of the module docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SpecRun {
    /// `S_{cc'}` after training, by rows.
    matrix: Vec<Vec<f64>>,
    /// Row-wise diagonal excess (`K_c` aligns best with its own `y_c`).
    excess: f64,
    excess_init: f64,
    /// Column-wise diagonal excess (`y_c` aligns best with its own `K_c`).
    column_excess: f64,
    column_excess_init: f64,
    /// Mean over c of the column margins `S_cc − max_{c'≠c} S_c'c`, final and init.
    column_mean_margin: [f64; 2],
    kernel_alignment_min: f64,
    linear_bounds: Option<[f64; 2]>,
    final_loss_ratio: f64,
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
    let xw = x * w.transpose();
    let beta = |m: &Mat<f64>, j: usize| m.col(j).squared_norm_l2() / y.col(j).squared_norm_l2();
    let xty = x.transpose() * y;
    let wxy = xw.transpose() * y;
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

fn spec_run(run: &Trained, net: Net) -> Result<SpecRun, String> {
    let (x, y) = (&run.prepared.data.x, &run.prepared.data.y);
    let (init, end) = (&run.traj.snapshots[0], &run.traj.snapshots[1]);
    let metric = |e: metrics::MetricError| e.to_string();
    // Kernel statistics over tiles of samples: no n × n kernel is formed,
    // so a fixture may grow n beyond what dense kernels fit.
    let arch = run.exp.architecture();
    let statistics = |params: &[Mat<f64>]| {
        ntk::KernelStatistics::compute(&arch, params, x.as_ref(), y.as_ref()).map_err(text)
    };
    let s0 = statistics(&init.weights)?
        .specialisation_matrix()
        .map_err(metric)?;
    let stats = statistics(&end.weights)?;
    let matrix = stats.specialisation_matrix().map_err(metric)?;
    let outputs = stats.outputs();
    let mut kernel_alignment_min = f64::INFINITY;
    for i in 0..outputs {
        for j in 0..i {
            kernel_alignment_min =
                kernel_alignment_min.min(stats.kernel_alignment(i, j).map_err(metric)?);
        }
    }
    let norms: Vec<f64> = (0..outputs).map(|c| stats.norm(c)).collect();
    Ok(SpecRun {
        excess: ntk::diagonal_excess(matrix.as_ref()).map_err(metric)?,
        excess_init: ntk::diagonal_excess(s0.as_ref()).map_err(metric)?,
        column_excess: ntk::diagonal_excess(matrix.transpose()).map_err(metric)?,
        column_excess_init: ntk::diagonal_excess(s0.transpose()).map_err(metric)?,
        column_mean_margin: [
            column_mean_margin(&matrix).map_err(metric)?,
            column_mean_margin(&s0).map_err(metric)?,
        ],
        matrix: (0..outputs)
            .map(|i| (0..outputs).map(|j| matrix[(i, j)]).collect())
            .collect(),
        kernel_alignment_min,
        linear_bounds: (net == Net::Linear).then(|| linear_bounds(&end.weights, x, y, &norms)),
        final_loss_ratio: end.loss / init.loss,
    })
}

/// The bound of the linear network is an identity plus the dropped
/// non-positive term: it holds up to the rounding of n²-term sums of O(1)
/// alignments.
const LINEAR_ROUNDING: f64 = 1e-10;

fn specialisation_claims(
    s: &Specialisation,
    options: &RunOptions,
    runs: &Records<(Data, Net), SpecRun>,
) -> Vec<ClaimResult> {
    let seeds = crate::study_seeds(&s.seeds, options.seed);
    let mut out = Vec::new();
    for (data, net) in SPECIALISATION {
        let linear = net == Net::Linear;
        let claim = |statement: &str, convention: &str| {
            Claim::new("SB21", "specialisation", statement, convention)
                .id_param("data", data.name())
                .id_param("net", net.name())
                .param("seeds", seeds.clone())
                .param("width", s.width)
                .param("sigma", s.sigma.clone())
                .param("step_fraction", s.step_fraction)
                .param("n", s.samples(data).get(options.mode))
                .param("steps", s.steps.get(options.mode))
        };
        let mine: Vec<&Result<SpecRun, String>> = runs
            .iter()
            .filter(|(key, _)| *key == (data, net))
            .map(|(_, r)| r)
            .collect();
        let ok: Vec<&SpecRun> = mine.iter().filter_map(|r| r.as_ref().ok()).collect();
        let error = mine.iter().find_map(|r| r.as_ref().err());
        if linear {
            let claim = claim(
                "SB21: linear networks do not specialise; derived: K_c = ‖A_c‖²XXᵀ + XWᵀWXᵀ bounds the diagonal excess of S by min_{c≠m}|u_c − ū||β¹_c − β¹_m|/‖K_c‖_F",
                "two-layer linear network f = AWx; measured = max over seeds of (diagonal excess − bound)",
            );
            if let Some(e) = error {
                out.push(claim.failed(None, e.clone()));
                continue;
            }
            let worst = ok
                .iter()
                .map(|r| {
                    let [row, col] = r.linear_bounds.unwrap_or([f64::NAN; 2]);
                    (r.excess - row).max(r.column_excess - col)
                })
                .fold(f64::NEG_INFINITY, f64::max);
            out.push(claim.details(spec_details(&ok)).check(
                0.0,
                worst,
                LINEAR_ROUNDING,
                Comparison::AtMost,
                "exact bounds from the two-layer linear NTK; rounding of O(1) alignments",
            ));
            continue;
        }
        let by_column = claim(
            "SB21: the per-output NTKs of a nonlinear network specialise — each target y_c aligns best with its own output's kernel K_c, on average over c, after training",
            "two-layer ReLU network, uncentred alignment S_{cc'} = A(K_c, y_{c'}); measured = min over seeds of the mean over c of the column margin S_cc − max_{c'≠c} S_c'c after training",
        )
        .id_param("by", "column");
        let by_row = claim(
            "SB21: the kernel of each output head aligns preferentially with its own target, S_cc > max_{c'≠c} S_cc' for every row c (an observation, judged over seeds)",
            "two-layer ReLU network, uncentred alignment; effect per seed = min over c of S_cc − max_{c'≠c} S_cc' after training",
        )
        .id_param("by", "row");
        if let Some(e) = error {
            out.push(by_column.failed(None, e.clone()));
            out.push(by_row.failed(None, e.clone()));
            continue;
        }
        let worst_column = per_seed(&ok, |r| r.column_mean_margin[0])
            .into_iter()
            .fold(f64::INFINITY, f64::min);
        out.push(by_column.details(spec_details(&ok)).check(
            0.0,
            worst_column,
            0.0,
            Comparison::AtLeast,
            "on every seed (finite-width fluctuation, SPEC §7: mean ± spread, per-seed values and the value at init are in the details), no tolerance",
        ));
        let rows = per_seed(&ok, |r| r.excess);
        let common = Summary::over_seeds(
            "min_pairwise_kernel_alignment",
            &per_seed(&ok, |r| r.kernel_alignment_min),
        );
        let common_mean = common.mean.unwrap_or(f64::NAN);
        out.push(
            by_row
                .details(
                    Details::new()
                        .with_statistic(Summary::with_per_seed("row_excess", &rows))
                        .with_statistic(Summary::over_seeds(
                            "row_excess_init",
                            &per_seed(&ok, |r| r.excess_init),
                        ))
                        .with_statistic(common),
                )
                .judge(
                    t_interval(&rows, 0.95),
                    "Student t",
                    Direction::Positive,
                    0.0,
                    &format!(
                        "the per-output kernels stay close to one another (min_{{c≠c'}} A(K_c, K_c') = {common_mean:.2}; every K_c contains the same readout block φ(XW₁ᵀ)φ(XW₁ᵀ)ᵀ), so a row compares targets of unequal difficulty under nearly one kernel and an easy target's column tops other rows; the column comparison (row by=column) removes target difficulty"
                    ),
                )
                .undecided_unless(
                    common_mean < UNDECIDED_KERNEL_ALIGNMENT,
                    &format!(
                        "the per-output kernels stay {common_mean:.2} ≥ {UNDECIDED_KERNEL_ALIGNMENT} aligned with one another: this regime has not learned features and cannot decide the question (SPEC §8)"
                    ),
                ),
        );
    }
    out
}

/// SPEC §8: a regime whose per-output kernels stay at least this aligned
/// with one another (mean over seeds of min_{c≠c'} A(K_c, K_c')) has not
/// learned features and cannot decide SB21's row-wise question.
const UNDECIDED_KERNEL_ALIGNMENT: f64 = 0.94;

/// One value of every seed's run.
fn per_seed(runs: &[&SpecRun], f: fn(&SpecRun) -> f64) -> Vec<f64> {
    runs.iter().map(|r| f(r)).collect()
}

/// The details of a specialisation claim: the mean matrix over seeds (for
/// the heat map) and the row and column excess with their init values.
fn spec_details(ok: &[&SpecRun]) -> Details {
    let outputs = ok.first().map_or(0, |r| r.matrix.len());
    let mean: Vec<Vec<f64>> = (0..outputs)
        .map(|i| {
            (0..outputs)
                .map(|j| ok.iter().map(|r| r.matrix[i][j]).sum::<f64>() / ok.len() as f64)
                .collect()
        })
        .collect();
    let labels = |prefix: &str| (0..outputs).map(|i| format!("{prefix}_{i}")).collect();
    let over_seeds =
        |name: &str, f: fn(&SpecRun) -> f64| Summary::over_seeds(name, &per_seed(ok, f));
    let details = Details::new()
        .with_matrix(Matrix::new(
            "mean over seeds of S_{cc'} = A(K_c, y_{c'}) after training",
            labels("K"),
            labels("y"),
            &mean,
        ))
        .with_statistic(Summary::with_per_seed(
            "row_excess",
            &per_seed(ok, |r| r.excess),
        ))
        .with_statistic(over_seeds("row_excess_init", |r| r.excess_init))
        .with_statistic(Summary::with_per_seed(
            "column_excess",
            &per_seed(ok, |r| r.column_excess),
        ))
        .with_statistic(over_seeds("column_excess_init", |r| r.column_excess_init))
        .with_statistic(Summary::with_per_seed(
            "column_mean_margin",
            &per_seed(ok, |r| r.column_mean_margin[0]),
        ))
        .with_statistic(over_seeds("column_mean_margin_init", |r| {
            r.column_mean_margin[1]
        }))
        .with_statistic(over_seeds("min_pairwise_kernel_alignment", |r| {
            r.kernel_alignment_min
        }))
        .with_statistic(over_seeds("final_loss_ratio", |r| r.final_loss_ratio));
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
