//! Claims of ABP22 (Atanasov, Bordelon, Pehlevan, *Neural Networks as
//! Kernel Learners: The Silent Alignment Effect*, ICLR 2022), SPEC §5.
//!
//! Deep linear networks `f(x) = W_L ⋯ W_1 x` (scalar output) trained by
//! gradient flow on `ℒ = 1/(2P) Σ (f − y)²` from small initialisation
//! `W_l ~ N(0, σ²/d_{l−1})` entrywise, teacher `y = s βᵀx`, `|β| = 1`.
//! Whitened inputs have all singular values equal (`XᵀX = P·I` for P ≥ D).
//! The empirical NTK is [`ntk::per_output_ntk`] with the identity
//! activation, its alignment `A(K, y) = yᵀKy/(‖K‖_F‖y‖²)` comes from the
//! tiled statistics [`ntk::kernel_statistics`] (no n × n kernel), and
//! kernel regression uses the dense kernels.
//!
//! * `qr_closed_form`: for `f = aᵀWx`, `q = ½(|a|² + βᵀWᵀWβ)` and
//!   `r = aᵀWβ` follow `r = 2s sinh(2st)/(e^{2st} − 1 + 2s/q_0)`,
//!   `q = 2s cosh(2st)/(e^{2st} − 1 + 2s/q_0)` (ABP22; derived from
//!   `ṙ = 2q(s − r)`, `q̇ = 2r(s − r)` when W's part orthogonal to β and
//!   `q_0²` are neglected, O(σ²)). The closed form starts at `r_0 = 0`, so
//!   the init's `a` is projected orthogonal to `Wβ` (stated in the row).
//!   Checked within 3% of q(t) at every checkpoint.
//! * `final_alignment`: at convergence `K_∞ ∝ X[(L−1)ββᵀ + I]Xᵀ`, so on
//!   whitened data with r = min(P, D) directions `A_∞ = L/√(L² + r − 1)`
//!   (initial `A_0 = 1/√r`). Deviations come from the init's components
//!   that never grow, O(σ).
//! * `t_half_scaling`: the time to half the initial loss. For L ≥ 3 the
//!   early dynamics are homogeneous of degree L − 1 in the weights, so
//!   rescaling the init by σ rescales time by σ^{2−L}: slope 2 − L of
//!   `ln t_½` against `ln σ`. For L = 2, `u = q + r` is logistic,
//!   `t_½ = (1/2s)[ln(1/σ²) + const]`: slope `1/s` of `t_½` against
//!   `ln(1/σ)`. Both within 5%.
//! * `kernel_regression`: ABP22's Theorem 1, `f(x) − f_0(x) ≈
//!   k_∞(x)ᵀK_∞^{-1}y`, with P < D (the predictor depends on the kernel);
//!   the relative error on held-out points must fall as σ falls, and
//!   regression with `K_0` is reported beside it.
//! * `silent_timing`: on whitened data the alignment reaches 90% of its
//!   final value before the loss has fallen by 10%; a γ sweep over
//!   `X_γ = U S^γ Vᵀ` of anisotropic inputs shows the effect weaken
//!   (`info`).
//!
//! * `relu_silent_alignment`, `relu_kernel_regression` (module [`relu`]):
//!   ABP22's first figure on the shipped 8×8 digits 0 and 1 (in place of
//!   MNIST): a bias-free two-layer ReLU network from small init on inputs
//!   whitened on the training rows, trained by full-batch GD. Empirical
//!   claims (SPEC §8) judged by 95 % Student t intervals over seeds: the
//!   NTK–target alignment makes 90 % of its gain before the loss has
//!   fallen 10 % (`ln t_loss − ln t_align > 0`); its eigenstructure then
//!   changes less than before (`relu_scale_after`: `(1 − A(K_0,
//!   K_{t_loss})) − (1 − A(K_{t_loss}, K_T)) > 0`, kernel–kernel alignment);
//!   and on held-out rows
//!   kernel regression with the final NTK predicts the network's change
//!   better than with the initial NTK (`err(K_0) − err(K_T) > 0`, paired).
//!
//! Units of work: one per claim, named like its id (`final_alignment[L=3,
//! sigma=0.01]`); a `t_half_scaling` or `kernel_regression` unit runs its σ
//! sweep. Every run of those is an [`experiment`]: `whitened_teacher` data,
//! a deep linear network with `small` init, gradient flow
//! `until_converged`. The ReLU study has one unit per seed
//! (`ABP22.relu/data=digits01,seed=3`, an [`experiment`] with
//! `digit_pair` data and `gd`), concluded into its two claims over all
//! seeds.

use common::seed::{Stream, rng};
use common::stats::slope;
use experiment::config::{CheckpointConfig, DataConfig, DynamicsConfig, InitConfig, NetworkConfig};
use experiment::{Experiment, ExperimentConfig, Prepared, Trajectory};
use faer::{Mat, Par};
use networks::Activation;
use serde::{Deserialize, Serialize};

use crate::PerMode;
use crate::UnitError;
use crate::claim::{Claim, Comparison};
use crate::details::{Details, Series};
use crate::study::{Planned, Study};
use crate::{ClaimResult, Family, Mode, RunOptions};

mod figures;
pub mod relu;

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../fixtures/claims/abp22.toml");

const KEYS: &[&str] = &[
    "qr_closed_form",
    "final_alignment",
    "t_half_scaling",
    "kernel_regression",
    "silent_timing",
];

/// ABP22's deep linear claims (one unit per claim).
pub const FAMILY: Family = Family::new("ABP22", KEYS, "abp22.toml", FIXTURE, &Abp22);

/// ABP22's two-layer ReLU study on the digits, over seeds ([`relu`]).
pub const RELU: Family = Family::new(
    "ABP22",
    &[
        "relu_silent_alignment",
        "relu_scale_after",
        "relu_kernel_regression",
    ],
    "abp22.toml",
    FIXTURE,
    &relu::ReluStudy,
)
.labelled("ABP22 relu");

/// `fixtures/claims/abp22.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[qr]`.
    pub qr: Qr,
    /// `[alignment]`.
    pub alignment: AlignmentCfg,
    /// `[t_half]`.
    pub t_half: THalf,
    /// `[regression]`.
    pub regression: Regression,
    /// `[silent]`.
    pub silent: Silent,
    /// `[relu]`: the two-layer ReLU study on digits ([`relu`]).
    pub relu: relu::Relu,
}

/// The task and network shared by every section.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Master seed.
    pub seed: u64,
    /// P training samples.
    pub samples: usize,
    /// D.
    pub input_dim: usize,
    /// Hidden width N.
    pub hidden: usize,
    /// Teacher scale s.
    pub signal: f64,
}

/// `[qr]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qr {
    /// Task and width.
    #[serde(flatten)]
    pub task: Task,
    /// Init scales σ.
    pub sigmas: Vec<f64>,
    /// Checkpoints per decade of time.
    pub per_decade: usize,
}

/// `[alignment]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlignmentCfg {
    /// Task and width.
    #[serde(flatten)]
    pub task: Task,
    /// Depths (per mode).
    pub depths: PerMode<Vec<usize>>,
    /// Init scales σ.
    pub sigmas: Vec<f64>,
    /// Checkpoints per decade of time.
    pub per_decade: usize,
}

/// One depth of `[t_half]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct THalfGrid {
    /// L.
    pub depth: usize,
    /// Init scales σ.
    pub sigmas: Vec<f64>,
}

/// `[t_half]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct THalf {
    /// Task and width.
    #[serde(flatten)]
    pub task: Task,
    /// Depths run in quick mode (full mode runs the whole grid).
    pub depths_quick: Vec<usize>,
    /// σ grid per depth.
    pub grid: Vec<THalfGrid>,
    /// Checkpoints per decade of time.
    pub per_decade: usize,
}

/// `[regression]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regression {
    /// Task and width.
    #[serde(flatten)]
    pub task: Task,
    /// Held-out points.
    pub test_samples: usize,
    /// Depths.
    pub depths: Vec<usize>,
    /// Init scales σ, decreasing.
    pub sigmas: Vec<f64>,
    /// Checkpoints per decade of time.
    pub per_decade: usize,
}

/// `[silent]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Silent {
    /// Task and width.
    #[serde(flatten)]
    pub task: Task,
    /// L.
    pub depth: usize,
    /// Init scale σ.
    pub sigma: f64,
    /// Whitening exponents γ (0 = whitened, 1 = raw).
    pub gammas: Vec<f64>,
    /// Column k of the raw inputs is scaled by `(k+1)^{−anisotropy}`.
    pub anisotropy: f64,
    /// Checkpoints per decade of time.
    pub per_decade: usize,
}

/// Parse the fixture.
pub fn config() -> Result<Config, experiment::ConfigError> {
    crate::parse_fixture(FIXTURE)
}

/// ABP22's units of work: one per claim ([`Point`]).
struct Abp22;

/// A claim of the family and its parameters: one run, or for
/// `t_half_scaling` and `kernel_regression` the runs of a σ sweep (the claim
/// is a slope or a trend over σ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "claim", rename_all = "snake_case")]
enum Point {
    QrClosedForm { sigma: f64 },
    FinalAlignment { depth: usize, sigma: f64 },
    THalfScaling { depth: usize, sigmas: Vec<f64> },
    KernelRegression { depth: usize },
    SilentTiming { gamma: f64 },
}

impl Point {
    /// The unit's name: the claim's key and id parameters, as in its id
    /// (`final_alignment[L=3,sigma=0.01]`).
    fn name(&self) -> String {
        let num = serde_json::Value::from;
        match self {
            Point::QrClosedForm { sigma } => format!("qr_closed_form[sigma={}]", num(*sigma)),
            Point::FinalAlignment { depth, sigma } => {
                format!("final_alignment[L={depth},sigma={}]", num(*sigma))
            }
            Point::THalfScaling { depth, .. } => format!("t_half_scaling[L={depth}]"),
            Point::KernelRegression { depth } => format!("kernel_regression[L={depth}]"),
            Point::SilentTiming { gamma } => format!("silent_timing[gamma={}]", num(*gamma)),
        }
    }
}

impl Study for Abp22 {
    type Config = Config;
    type Point = Point;
    type Measurement = ClaimResult;

    fn plan(&self, cfg: &Config, options: &RunOptions) -> Vec<Planned<Point>> {
        let (a, t) = (&cfg.alignment, &cfg.t_half);
        let alignment = a.depths.get(options.mode).into_iter().flat_map(|depth| {
            (a.sigmas.iter()).map(move |&sigma| Point::FinalAlignment { depth, sigma })
        });
        let t_half = t
            .grid
            .iter()
            .filter(|g| options.mode == Mode::Full || t.depths_quick.contains(&g.depth));
        (cfg.qr
            .sigmas
            .iter()
            .map(|&sigma| Point::QrClosedForm { sigma }))
        .chain(alignment)
        .chain(t_half.map(|g| Point::THalfScaling {
            depth: g.depth,
            sigmas: g.sigmas.clone(),
        }))
        .chain((cfg.regression.depths.iter()).map(|&depth| Point::KernelRegression { depth }))
        .chain((cfg.silent.gammas.iter()).map(|&gamma| Point::SilentTiming { gamma }))
        .map(|point| Planned {
            name: point.name(),
            cost: cost(cfg, &point),
            point,
        })
        .collect()
    }

    fn run(&self, cfg: &Config, options: &RunOptions, point: &Point) -> ClaimResult {
        let seeded = |t: &Task| Task {
            seed: crate::master_seed(t.seed, options.seed),
            ..*t
        };
        match point {
            Point::QrClosedForm { sigma } => qr_closed_form(&cfg.qr, &seeded(&cfg.qr.task), *sigma),
            Point::FinalAlignment { depth, sigma } => {
                final_alignment(&cfg.alignment, &seeded(&cfg.alignment.task), *depth, *sigma)
            }
            Point::THalfScaling { depth, sigmas } => {
                t_half_scaling(&cfg.t_half, &seeded(&cfg.t_half.task), *depth, sigmas)
            }
            Point::KernelRegression { depth } => {
                kernel_regression(&cfg.regression, &seeded(&cfg.regression.task), *depth)
            }
            Point::SilentTiming { gamma } => {
                silent_timing(&cfg.silent, &seeded(&cfg.silent.task), *gamma)
            }
        }
    }

    fn conclude(
        &self,
        _: &Config,
        _: &RunOptions,
        measured: Vec<(Point, ClaimResult)>,
    ) -> Vec<ClaimResult> {
        measured.into_iter().map(|(_, claim)| claim).collect()
    }

    fn figures(&self, _: &Config, _: &RunOptions, claims: &[ClaimResult]) -> Vec<figure::Declared> {
        vec![figures::silent_alignment(claims)]
    }
}

/// Estimated seconds of a unit: [`COST_PER_EVALUATION`] × the parameters
/// `N(D + 1) + (L − 2)N²` of each run's network × the checkpoint intervals
/// `per_decade·(2 + (L − 1)·log10(1/σ))` it integrates (the plateau of a
/// depth-L network from init σ lasts ~σ^{2−L}, ~ln(1/σ) for L = 2, and the
/// run stops about a decade after it), summed over the unit's runs.
fn cost(cfg: &Config, point: &Point) -> f64 {
    let run = |task: &Task, depth: usize, sigma: f64, per_decade: usize| {
        let (n, d, l) = (task.hidden as f64, task.input_dim as f64, depth as f64);
        let params = n * (d + 1.0) + (l - 2.0).max(0.0) * n * n;
        COST_PER_EVALUATION * params * per_decade as f64 * (2.0 + (l - 1.0) * (1.0 / sigma).log10())
    };
    let (a, t, r, s) = (&cfg.alignment, &cfg.t_half, &cfg.regression, &cfg.silent);
    match point {
        Point::QrClosedForm { sigma } => run(&cfg.qr.task, 2, *sigma, cfg.qr.per_decade),
        Point::FinalAlignment { depth, sigma } => run(&a.task, *depth, *sigma, a.per_decade),
        Point::THalfScaling { depth, sigmas } => (sigmas.iter())
            .map(|&sigma| run(&t.task, *depth, sigma, t.per_decade))
            .sum(),
        Point::KernelRegression { depth } => (r.sigmas.iter())
            .map(|&sigma| run(&r.task, *depth, sigma, r.per_decade))
            .sum(),
        Point::SilentTiming { .. } => run(&s.task, s.depth, s.sigma, s.per_decade),
    }
}

/// Seconds per parameter and checkpoint interval, fitted to the units' wall
/// times of `report --only ABP22`, quick and full (release build, one core
/// per unit, 2-core reference machine): within a factor 2 for most units;
/// the kernel statistics of `silent_timing` take 2–4× the estimate, the
/// stiff ends of the deepest runs (L = 4, σ = 0.001; L = 5, σ = 0.01) ~4×.
const COST_PER_EVALUATION: f64 = 2.5e-7;

/// Integrator tolerance: the measured quantities are compared with O(σ²)
/// and percent-level predictions, so 1e-10 per step is ample.
const FLOW: DynamicsConfig = DynamicsConfig::GradientFlow {
    rtol: 1e-10,
    atol: 1e-16,
    weight_decay: 0.0,
    max_steps: 2_000_000,
};

/// Runs stop at the first checkpoint at which the loss is below this
/// fraction of its initial value (converged for every claim).
const CONVERGED: f64 = 1e-10;

impl Task {
    /// A run on whitened data (`XᵀX = P·I`, teacher `y = s·Xβ`): a deep
    /// linear network of depth L and width N, `W_l = σ/√d_{l−1} · G_l`
    /// (`small` init: the same Gaussian `G_l` for every σ), gradient flow
    /// observed at t = 0, 1e-2, then `per_decade` times per decade until
    /// ℒ ≤ [`CONVERGED`]·ℒ(0), each interval a separate integration so that
    /// a run stops within one interval of convergence
    /// ([`experiment::config::UntilConverged`]).
    fn experiment(&self, depth: usize, sigma: f64, per_decade: usize) -> ExperimentConfig {
        ExperimentConfig {
            name: None,
            seed: self.seed,
            data: DataConfig::WhitenedTeacher {
                samples: self.samples,
                input_dim: self.input_dim,
                gamma: 0.0,
                anisotropy: 0.0,
                signal: self.signal,
                noise: 0.0,
            },
            network: NetworkConfig::mlp(depth, self.hidden, Activation::Identity, false),
            init: InitConfig::Small { sigma },
            dynamics: FLOW,
            checkpoints: CheckpointConfig::UntilConverged {
                t_first: 1e-2,
                per_decade,
                tolerance: CONVERGED,
            },
        }
    }
}

fn validated(config: &ExperimentConfig) -> Result<Experiment, UnitError> {
    config
        .validate()
        .map_err(|e| UnitError::new(format!("config: {e}")))
}

/// Validate and run an experiment.
fn run(config: &ExperimentConfig) -> Result<(Experiment, Prepared, Trajectory), UnitError> {
    let exp = validated(config)?;
    let (prepared, traj) = experiment::run(&exp)?;
    Ok((exp, prepared, traj))
}

fn last_weights(traj: &Trajectory) -> Result<&[Mat<f64>], UnitError> {
    Ok(&traj
        .snapshots
        .last()
        .ok_or_else(|| UnitError::new("no checkpoints"))?
        .weights)
}

/// `A(K(θ), y)` of the empirical NTK on the training inputs, from the tiled
/// kernel statistics (no n × n kernel).
fn ntk_alignment(
    exp: &Experiment,
    params: &[Mat<f64>],
    prepared: &Prepared,
) -> Result<f64, UnitError> {
    let (x, y) = (prepared.data.x.as_ref(), prepared.data.y.as_ref());
    Ok(ntk::KernelStatistics::compute(&exp.architecture(), params, x, y)?.alignment(0, 0)?)
}

/// `(q(t), r(t))` of the closed form, written with `e^{−2st}` so that it
/// stays finite at large t.
fn qr_closed(s: f64, q0: f64, t: f64) -> (f64, f64) {
    let e = (-2.0 * s * t).exp();
    let denom = 1.0 - e * (1.0 - 2.0 * s / q0);
    (s * (1.0 + e * e) / denom, s * (1.0 - e * e) / denom)
}

fn qr_closed_form(cfg: &Qr, task: &Task, sigma: f64) -> ClaimResult {
    let claim = Claim::new(
        "ABP22",
        "qr_closed_form",
        "two-layer linear net, whitened data: q(t), r(t) follow the closed form",
        "max_t max(|q−q_cf|, |r−r_cf|)/q_cf(t); a ⟂ Wβ at init (r_0 = 0)",
    )
    .id_param("sigma", sigma)
    .param("hidden", task.hidden)
    .param("input_dim", task.input_dim)
    .param("signal", task.signal);
    match qr_run(cfg, task, sigma) {
        Ok((worst, series)) => claim.details(series).check(
            0.0,
            worst,
            0.03,
            Comparison::AtMost,
            "SPEC §5: the closed form holds up to O(σ²) (W's part orthogonal to β, the q_0² term); 3% for σ ≤ 1e-2",
        ),
        Err(e) => claim.failed(Some(0.0), e),
    }
}

/// The two-layer run from t_first = 1e-2/s, its init edited so that
/// `r_0 = 0`; the worst relative deviation from the closed form and the
/// series of q and r.
fn qr_run(cfg: &Qr, task: &Task, sigma: f64) -> Result<(f64, Details), UnitError> {
    let mut config = task.experiment(2, sigma, cfg.per_decade);
    if let CheckpointConfig::UntilConverged { t_first, .. } = &mut config.checkpoints {
        *t_first = 1e-2 / task.signal;
    }
    let exp = validated(&config)?;
    let mut prepared = experiment::prepare(&exp)?;
    let beta = prepared
        .teacher
        .clone()
        .ok_or_else(|| UnitError::new("the teacher has no β"))?;
    let params = &mut prepared.init.weights;
    // r_0 = 0: remove from a its component along v = Wβ.
    let v = &params[0] * &beta;
    let a = params[1].transpose().to_owned();
    let coef = (a.transpose() * &v)[(0, 0)] / v.squared_norm_l2();
    params[1] = (a - &v * faer::Scale(coef)).transpose().to_owned();
    let order = |p: &[Mat<f64>]| {
        let v = &p[0] * &beta;
        let r = (&p[1] * &v)[(0, 0)];
        (0.5 * (p[1].squared_norm_l2() + v.squared_norm_l2()), r)
    };
    let (q0, _) = order(&prepared.init.weights);
    let s = task.signal;
    let traj = experiment::run::run_prepared(&exp, &prepared)?;
    let mut worst = 0.0f64;
    let (mut ts, mut qs, mut rs) = (Vec::new(), Vec::new(), Vec::new());
    for snapshot in &traj.snapshots {
        let (q, r) = order(&snapshot.weights);
        let (qc, rc) = qr_closed(s, q0, snapshot.time);
        worst = worst.max((q - qc).abs() / qc).max((r - rc).abs() / qc);
        ts.push(snapshot.time);
        qs.push(q);
        rs.push(r);
    }
    let details = Details::new()
        .with_series(Series::new("q", "t", ts.clone(), qs))
        .with_series(Series::new("r", "t", ts, rs))
        .with_value("q0", q0);
    Ok((worst, details))
}

fn final_alignment(cfg: &AlignmentCfg, task: &Task, depth: usize, sigma: f64) -> ClaimResult {
    let rank = task.samples.min(task.input_dim) as f64;
    let l = depth as f64;
    let predicted = l / (l * l + rank - 1.0).sqrt();
    let claim = Claim::new(
        "ABP22",
        "final_alignment",
        "final kernel–target alignment A(K_∞, y) = L/√(L² + r − 1) on whitened data",
        "uncentred A = yᵀKy/(‖K‖_F‖y‖²); r = min(P, D)",
    )
    .id_param("L", depth)
    .id_param("sigma", sigma)
    .param("r", rank);
    let alignments = || -> Result<(f64, f64), UnitError> {
        let (exp, prepared, traj) = run(&task.experiment(depth, sigma, cfg.per_decade))?;
        let a0 = ntk_alignment(&exp, &prepared.init.weights, &prepared)?;
        Ok((a0, ntk_alignment(&exp, last_weights(&traj)?, &prepared)?))
    };
    match alignments() {
        Ok((a0, a)) => claim
            .details(
                Details::new()
                    .with_value("initial", a0)
                    .with_value("initial_predicted", 1.0 / rank.sqrt()),
            )
            .check(
                predicted,
                a,
                sigma,
                Comparison::Absolute,
                "SPEC §5: A_∞ holds up to O(σ) (the init's components that never grow); tolerance σ, i.e. unit constant",
            ),
        Err(e) => claim.failed(Some(predicted), e),
    }
}

/// Equal sub-intervals of the checkpoint interval in which the loss halves.
const HALF_TIME_SUBINTERVALS: usize = 1000;

/// The time at which the loss first reaches half its initial value: the
/// run is recorded at its checkpoints (growth `10^{1/per_decade}`), then the
/// bracketing interval is integrated again from its start with
/// [`HALF_TIME_SUBINTERVALS`] equal sub-intervals and the crossing is
/// interpolated linearly in t inside the sub-interval. Deep networks leave
/// their plateau within one checkpoint interval, so the coarse grid alone
/// would resolve t_½ only to ~5%.
fn half_time(task: &Task, depth: usize, sigma: f64, per_decade: usize) -> Result<f64, UnitError> {
    let mut config = task.experiment(depth, sigma, per_decade);
    let (_, mut prepared, traj) = run(&config)?;
    let record = &traj.snapshots;
    let target = 0.5 * record[0].loss;
    let k = record
        .iter()
        .position(|r| r.loss <= target)
        .ok_or_else(|| UnitError::new("the loss never halved"))?;
    if k == 0 {
        return Err(UnitError::new("the initial loss is zero"));
    }
    let (t0, t1) = (record[k - 1].time, record[k].time);
    config.checkpoints = CheckpointConfig::Linear {
        t_end: t1 - t0,
        count: HALF_TIME_SUBINTERVALS,
    };
    let refined = validated(&config)?;
    prepared.init.weights = record[k - 1].weights.clone();
    let fine = experiment::run::run_prepared(&refined, &prepared)?;
    let j = fine
        .snapshots
        .iter()
        .position(|f| f.loss <= target)
        .filter(|&j| j > 0)
        .ok_or_else(|| UnitError::new("the refined run does not cross half the loss"))?;
    let (a, b) = (&fine.snapshots[j - 1], &fine.snapshots[j]);
    let ((ta, la), (tb, lb)) = ((t0 + a.time, a.loss), (t0 + b.time, b.loss));
    Ok(ta + (tb - ta) * (la - target) / (la - lb))
}

fn t_half_scaling(cfg: &THalf, task: &Task, depth: usize, sigmas: &[f64]) -> ClaimResult {
    let (predicted, law, convention) = if depth == 2 {
        (
            1.0 / task.signal,
            "t_½ = a + b·ln(1/σ), b = 1/s",
            "slope of t_½ against ln(1/σ)",
        )
    } else {
        (
            2.0 - depth as f64,
            "t_½ ∝ σ^{2−L}",
            "slope of ln t_½ against ln σ",
        )
    };
    let claim = Claim::new(
        "ABP22",
        "t_half_scaling",
        format!("time to half loss from init scale σ: {law}"),
        convention,
    )
    .id_param("L", depth)
    .param("sigmas", sigmas.to_vec());
    let halves: Result<Vec<f64>, UnitError> = (sigmas.iter())
        .map(|&sigma| half_time(task, depth, sigma, cfg.per_decade))
        .collect();
    match halves {
        Ok(t) => {
            let measured = if depth == 2 {
                let x: Vec<f64> = sigmas.iter().map(|s| (1.0 / s).ln()).collect();
                slope(&x, &t)
            } else {
                let x: Vec<f64> = sigmas.iter().map(|s| s.ln()).collect();
                let y: Vec<f64> = t.iter().map(|v| v.ln()).collect();
                slope(&x, &y)
            };
            claim.details(Details::new().with_list("t_half_per_sigma", t)).check(
                predicted,
                measured,
                0.05,
                Comparison::Relative,
                "the issue's 5%: corrections are the O(1/s) late phase against σ^{2−L} or ln(1/σ); t_½ is interpolated to 1e-3 of a checkpoint interval",
            )
        }
        Err(e) => claim.failed(Some(predicted), e),
    }
}

/// Held-out relative errors of kernel regression with the final and the
/// initial NTK against the trained network's `f − f_0`.
fn regression_errors(
    cfg: &Regression,
    task: &Task,
    depth: usize,
    sigma: f64,
) -> Result<(f64, f64), UnitError> {
    let (exp, prepared, traj) = run(&task.experiment(depth, sigma, cfg.per_decade))?;
    // Held-out inputs from the label-noise stream, which the noiseless
    // teacher leaves untouched.
    let mut r = rng(exp.seed, Stream::LabelNoise);
    let x_test = common::gaussian_matrix(cfg.test_samples, task.input_dim, &mut r);
    let (x, y) = (prepared.data.x.as_ref(), prepared.data.y.as_ref());
    let (init, end) = (&prepared.init.weights, last_weights(&traj)?);
    let arch = exp.architecture();
    let f = |p: &[Mat<f64>]| deep_linear::forward(p, x_test.as_ref());
    let change = f(end)? - f(init)?;
    let krr_error = |p: &[Mat<f64>]| -> Result<f64, UnitError> {
        let k = ntk::per_output_ntk(&arch, p, x, Par::Seq)?;
        let cross = ntk::per_output_ntk_between(&arch, p, x_test.as_ref(), x, Par::Seq)?;
        // λ = 0 (absolute): K is positive definite for P < D with X of full
        // row rank; a singular K is reported as an error, not regularised.
        let fit = ntk::KernelRidge::fit(k[0].as_ref(), y, 0.0, Par::Seq)?;
        let pred = fit.predict(cross[0].as_ref())?;
        Ok((&pred - &change).norm_l2() / change.norm_l2())
    };
    Ok((krr_error(end)?, krr_error(init)?))
}

fn kernel_regression(cfg: &Regression, task: &Task, depth: usize) -> ClaimResult {
    let claim = Claim::new(
        "ABP22",
        "kernel_regression",
        "trained net ≈ kernel regression with the final NTK; the error falls as σ falls",
        "‖(f−f_0) − k_∞ᵀK_∞⁻¹y‖/‖f−f_0‖ on held-out points; ridge λ = 0",
    )
    .id_param("L", depth)
    .param("sigmas", cfg.sigmas.clone())
    .param("samples", task.samples)
    .param("input_dim", task.input_dim);
    let errors: Result<Vec<(f64, f64)>, UnitError> = (cfg.sigmas.iter())
        .map(|&sigma| regression_errors(cfg, task, depth, sigma))
        .collect();
    match errors {
        Ok(e) => {
            let finals: Vec<f64> = e.iter().map(|p| p.0).collect();
            let initials: Vec<f64> = e.iter().map(|p| p.1).collect();
            // Worst ratio of consecutive errors as σ decreases.
            let ratio = finals
                .windows(2)
                .map(|w| w[1] / w[0])
                .fold(0.0f64, f64::max);
            claim
                .details(
                    Details::new()
                        .with_list("final_ntk_error_per_sigma", finals)
                        .with_list("initial_ntk_error_per_sigma", initials),
                )
                .check(
                    1.0,
                    ratio,
                    0.0,
                    Comparison::AtMost,
                    "a trend (SPEC §7): every smaller σ must give a smaller error (ratio < 1)",
                )
        }
        Err(e) => claim.failed(Some(1.0), e),
    }
}

/// Alignment and loss over one run, and the two times of the ordering.
struct SilentRun {
    time: Vec<f64>,
    loss: Vec<f64>,
    alignment: Vec<f64>,
    /// First checkpoint with `A ≥ 0.9·A_final`.
    t_align: f64,
    /// First checkpoint with `ℒ ≤ 0.9·ℒ(0)`.
    t_loss: f64,
}

fn silent_run(cfg: &Silent, task: &Task, gamma: f64) -> Result<SilentRun, UnitError> {
    let mut config = task.experiment(cfg.depth, cfg.sigma, cfg.per_decade);
    if let DataConfig::WhitenedTeacher {
        gamma: g,
        anisotropy,
        ..
    } = &mut config.data
    {
        (*g, *anisotropy) = (gamma, cfg.anisotropy);
    }
    let (exp, prepared, traj) = run(&config)?;
    let time: Vec<f64> = traj.snapshots.iter().map(|s| s.time).collect();
    let loss: Vec<f64> = traj.snapshots.iter().map(|s| s.loss).collect();
    let alignment = traj
        .snapshots
        .iter()
        .map(|s| ntk_alignment(&exp, &s.weights, &prepared))
        .collect::<Result<Vec<f64>, UnitError>>()?;
    let a_final = *alignment
        .last()
        .ok_or_else(|| UnitError::new("no checkpoints"))?;
    let first = |ok: &dyn Fn(usize) -> bool| (0..time.len()).find(|&k| ok(k)).map(|k| time[k]);
    let t_align = first(&|k| alignment[k] >= 0.9 * a_final)
        .ok_or_else(|| UnitError::new("alignment never at 90%"))?;
    let t_loss = first(&|k| loss[k] <= 0.9 * loss[0])
        .ok_or_else(|| UnitError::new("loss never fell 10%"))?;
    Ok(SilentRun {
        time,
        loss,
        alignment,
        t_align,
        t_loss,
    })
}

fn silent_timing(cfg: &Silent, task: &Task, gamma: f64) -> ClaimResult {
    // γ = 0 is the theorem's setting (checked); γ > 0 is the sweep.
    let claim = if gamma == 0.0 {
        Claim::new(
            "ABP22",
            "silent_timing",
            "whitened data: alignment reaches 90% of its final value before the loss falls 10%",
            "t(A ≥ 0.9·A_final) / t(ℒ ≤ 0.9·ℒ_0), first checkpoints",
        )
    } else {
        Claim::new(
            "ABP22",
            "silent_timing",
            "anisotropic data X_γ = U S^γ Vᵀ: the alignment keeps changing after the loss has fallen 10%",
            "|A_final − A(t_10%)| / A(t_10%), t_10% = first checkpoint with ℒ ≤ 0.9·ℒ_0",
        )
    }
    .id_param("gamma", gamma)
    .param("L", cfg.depth)
    .param("sigma", cfg.sigma)
    .param("anisotropy", cfg.anisotropy);
    match silent_run(cfg, task, gamma) {
        Ok(run) => {
            let k = run.time.partition_point(|&t| t < run.t_loss);
            let a_final = *run.alignment.last().unwrap_or(&f64::NAN);
            let late_change = (a_final - run.alignment[k]).abs() / run.alignment[k];
            let ratio = run.t_align / run.t_loss;
            let claim = claim.details(
                Details::new()
                    .with_series(Series::new("loss", "t", run.time.clone(), run.loss))
                    .with_series(Series::new("alignment", "t", run.time, run.alignment))
                    .with_value("t_align", run.t_align)
                    .with_value("t_loss", run.t_loss)
                    .with_value("late_alignment_change", late_change),
            );
            if gamma == 0.0 {
                claim.check(
                    1.0,
                    ratio,
                    0.0,
                    Comparison::AtMost,
                    "an ordering on the checkpoint grid (50 per decade): both times are first checkpoints past their thresholds",
                )
            } else {
                claim.info(
                    Some(late_change),
                    "ABP22: anisotropy weakens silent alignment (γ = 0 gives the whitened value in details)",
                )
            }
        }
        Err(e) => claim.failed(Some(1.0), e),
    }
}
