//! TMC25 Theorem B (SPEC §2.2): weight decay restores the NFA from an
//! unbalanced initialisation.
//!
//! *Proof sketch* (derived). With the penalised loss
//! `ℒ + (λ/2)Σ‖W_l‖²`, gradient flow gives
//! `dD_l/dt = (data terms, which cancel as in Theorem A) − 2λD_l`, so
//! `D_l(t) = e^{−2λt}D_l(0)`: the network becomes balanced exponentially
//! fast and `W_1ᵀW_1 − G_1^{1/L} → 0`. Without decay `D_l(t) = D_l(0)` and
//! the NFA generally fails. Gradient descent `W ← (1−ηλ)W − η∇` satisfies
//! exactly `D_l' = (1−ηλ)²D_l + η²E_l` with
//! `E_l = ∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ` (the first-order terms cancel), so
//! after k steps `‖D_l(k) − (1−ηλ)^{2k}D_l(0)‖ ≤ η²Σ_j (1−ηλ)^{2(k−1−j)}‖E_l(j)‖`.
//!
//! *Lower bound without decay* (derived). Let `F = W_1ᵀW_1`, `R = G_1^{1/L}`,
//! `M = max(‖F‖₂, ‖R‖₂)`. From `F^L − R^L = Σ_k F^k(F − R)R^{L−1−k}`,
//! `‖F^L − G_1‖_F ≤ L·M^{L−1}‖F − R‖_F`, hence
//! `relerr(F, R) ≥ ‖F^L − G_1‖_F / (L·M^{L−1}‖R‖_F)`. Balancedness makes
//! `F^L = G_1` (Theorem A); the conserved imbalance keeps it apart (for
//! L = 2, `G_1 − F² = W_1ᵀD_1W_1` exactly), so the bound stays positive.
//!
//! Claims: `B.decay_rate`, `B.gd_contraction`, `B.asymptotic_nfa`,
//! `B.no_decay_persists`. Their `details` carry the series of the report's
//! figures: `imbalance` `‖D_l(t)‖_F`, one per layer (`B.decay_rate`), and
//! `relerr` over time (`B.asymptotic_nfa` also from a balanced init with the
//! same decay, which stays balanced: `relerr_balanced_init`).
//!
//! Units: one claim each, per depth L — gradient flow over the fit window
//! of each λ (`B.decay_rate`), GD at η and at η/2 (`B.gd_contraction`),
//! gradient flow to `t_end` with decay from the unbalanced init and from a
//! balanced one (`B.asymptotic_nfa`), and without decay
//! (`B.no_decay_persists`). Every run is the fixture's experiment template
//! with depth, dynamics and checkpoints set.

use common::stats::slope;
use deep_linear::LinearObjective;
use experiment::config::{CheckpointConfig, Checkpoints, Dynamics, DynamicsConfig, InitConfig};
use experiment::measure::layer_relerr;
use experiment::{ConfigError, Experiment, ExperimentConfig};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use metrics::{Cutoff, MetricError, PsdEigen};
use optim::Objective;
use serde::{Deserialize, Serialize};

use super::{frob_diff, imbalance_mats};
use crate::UnitError;
use crate::claim::{Claim, Comparison};
use crate::details::{self, Details};
use crate::study::{Planned, Study};
use crate::{ClaimResult, Family, RunOptions};

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../../fixtures/claims/tmc25_theorem_b.toml");

const KEYS: &[&str] = &[
    "B.decay_rate",
    "B.gd_contraction",
    "B.asymptotic_nfa",
    "B.no_decay_persists",
];

/// The Theorem B family.
pub const FAMILY: Family = Family::new("TMC25", KEYS, "tmc25_theorem_b.toml", FIXTURE, &TheoremB);

/// Theorem B's units: one claim each (module docs).
struct TheoremB;

/// `fixtures/claims/tmc25_theorem_b.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Depths L.
    pub depths: Vec<usize>,
    /// Template of every run.
    pub unbalanced: ExperimentConfig,
    /// `[decay_rate]`.
    pub decay_rate: DecayRate,
    /// `[gd_contraction]`.
    pub gd_contraction: GdContraction,
    /// `[asymptotic]`.
    pub asymptotic: Asymptotic,
}

/// `[decay_rate]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecayRate {
    /// λ values.
    pub weight_decays: Vec<f64>,
    /// Fit window `[0, horizon/λ]`.
    pub horizon: f64,
    /// Checkpoints in the window.
    pub checkpoints: usize,
}

/// `[gd_contraction]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GdContraction {
    /// η (and η/2).
    pub learning_rate: f64,
    /// λ.
    pub weight_decay: f64,
    /// Steps at η (twice as many at η/2).
    pub steps: usize,
}

/// `[asymptotic]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asymptotic {
    /// λ of the decaying run.
    pub weight_decay: f64,
    /// End time (≥ 5/λ).
    pub t_end: f64,
    /// Log-spaced checkpoints.
    pub checkpoints: usize,
}

/// Parse the fixture.
pub fn config() -> Result<Config, experiment::ConfigError> {
    crate::parse_fixture(FIXTURE)
}

/// A unit: one claim at depth L.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Point {
    depth: usize,
    run: Run,
}

/// The run(s) of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Run {
    /// `B.decay_rate`: gradient flow with decay λ over `[0, horizon/λ]`.
    DecayRate { lambda: f64 },
    /// `B.gd_contraction`: GD with decay at step size η for `steps` steps.
    GdContraction { eta: f64, steps: usize },
    /// `B.asymptotic_nfa`: gradient flow with decay to `t_end`, and the same
    /// from a balanced init for the supporting series.
    Asymptotic,
    /// `B.no_decay_persists`: gradient flow without decay to `t_end`.
    NoDecay,
}

impl Point {
    /// `L=3,run=decay_rate,lambda=0.01`: the unit's name.
    fn name(self, cfg: &Config) -> String {
        let run = match self.run {
            Run::DecayRate { lambda } => format!("decay_rate,lambda={lambda}"),
            Run::GdContraction { eta, .. } => format!("gd_contraction,eta={eta}"),
            Run::Asymptotic => format!("asymptotic_nfa,lambda={}", cfg.asymptotic.weight_decay),
            Run::NoDecay => "no_decay_persists,lambda=0".to_owned(),
        };
        format!("L={},run={run}", self.depth)
    }

    /// Estimated seconds on one core. Gradient flow to time t takes
    /// `N ≈ 80·L·√t` Dormand–Prince steps here (532 at L = 2, t = 10 up to
    /// 11743 at L = 4, t = 1000: the `steps` of `B.decay_rate`) of
    /// ≈ 4e-6 s per layer, so `3e-4·L²·√t` per run; a GD update with its
    /// bound takes ≈ 2.5e-6 s per layer. Both constants are fitted to the
    /// wall times per unit in `provenance.units` of `report` and
    /// `report --quick` (2 cores; within a factor 2 of every unit).
    fn cost(self, cfg: &Config) -> f64 {
        let flow = |t: f64| 3e-4 * (self.depth * self.depth) as f64 * t.sqrt();
        match self.run {
            Run::DecayRate { lambda } => flow(cfg.decay_rate.horizon / lambda),
            Run::GdContraction { steps, .. } => 2.5e-6 * (self.depth * steps) as f64,
            Run::Asymptotic => 2.0 * flow(cfg.asymptotic.t_end),
            Run::NoDecay => flow(cfg.asymptotic.t_end),
        }
    }
}

impl Study for TheoremB {
    type Config = Config;
    type Point = Point;
    type Measurement = ClaimResult;

    fn plan(&self, cfg: &Config, _: &RunOptions) -> Vec<Planned<Point>> {
        let g = &cfg.gd_contraction;
        let mut runs: Vec<Run> = cfg
            .decay_rate
            .weight_decays
            .iter()
            .map(|&lambda| Run::DecayRate { lambda })
            .collect();
        runs.extend([
            Run::GdContraction {
                eta: g.learning_rate,
                steps: g.steps,
            },
            Run::GdContraction {
                eta: g.learning_rate / 2.0,
                steps: 2 * g.steps,
            },
            Run::Asymptotic,
            Run::NoDecay,
        ]);
        cfg.depths
            .iter()
            .flat_map(|&depth| runs.iter().map(move |&run| Point { depth, run }))
            .map(|point| Planned {
                name: point.name(cfg),
                cost: point.cost(cfg),
                point,
            })
            .collect()
    }

    fn run(&self, cfg: &Config, options: &RunOptions, point: &Point) -> ClaimResult {
        let (depth, seed) = (point.depth, options.seed);
        match point.run {
            Run::DecayRate { lambda } => decay_rate(cfg, depth, lambda, seed),
            Run::GdContraction { eta, steps } => gd_contraction(cfg, depth, eta, steps, seed),
            Run::Asymptotic => asymptotic(cfg, depth, seed),
            Run::NoDecay => no_decay(cfg, depth, seed),
        }
    }

    /// The claims in key order, by depth and then λ or η within a key.
    fn conclude(
        &self,
        _: &Config,
        _: &RunOptions,
        measured: Vec<(Point, ClaimResult)>,
    ) -> Vec<ClaimResult> {
        let mut out: Vec<ClaimResult> = measured.into_iter().map(|(_, c)| c).collect();
        out.sort_by_key(|c| KEYS.iter().position(|k| *k == c.key));
        out
    }

    fn figures(&self, _: &Config, _: &RunOptions, claims: &[ClaimResult]) -> Vec<figure::Declared> {
        super::figures::theorem_b(claims)
    }
}

/// The fitted rate is checked to 1e-4 relative. Reason: the integrator
/// keeps ‖D_l(t)‖ within ~N·rtol ≈ 1e-9 relative of e^{−2λt}‖D_l(0)‖; over a
/// fit window where 2λt spans [0, 2] that moves the least-squares slope by
/// ≲ 1e-9 relative to 2λ, far inside 1e-4.
const RATE_TOL: f64 = 1e-4;

/// `relerr(F_1, G_1^{1/L})` must fall below 1e-3 by t ≥ 5/λ (SPEC §2.2):
/// the imbalance is then e^{−2λt} ≤ e^{−10} ≈ 5e-5 of its initial value.
const ASYMPTOTIC_TOL: f64 = 1e-3;

/// Without decay the NFA must stay visibly broken: relerr above 0.05 (SPEC
/// §2.2) at every checkpoint, besides respecting the derived lower bound.
const PERSIST_FLOOR: f64 = 0.05;

/// The template with depth and `--seed` set.
fn template(cfg: &Config, depth: usize, seed: Option<u64>) -> ExperimentConfig {
    let mut c = cfg.unbalanced.clone();
    c.network.depth = Some(depth);
    c.seed = crate::master_seed(c.seed, seed);
    c
}

/// The template's gradient flow with weight decay λ, recorded at
/// `checkpoints`.
fn flow(
    cfg: &Config,
    depth: usize,
    lambda: f64,
    checkpoints: CheckpointConfig,
    seed: Option<u64>,
) -> Result<Experiment, ConfigError> {
    let mut c = template(cfg, depth, seed);
    c.dynamics.set_weight_decay(lambda);
    c.checkpoints = checkpoints;
    c.validate()
}

/// Checkpoints after every one of `steps` updates, as [`gd_trace`] needs.
pub(crate) fn every_step(steps: usize) -> CheckpointConfig {
    CheckpointConfig::Steps {
        steps: (0..=steps).collect(),
    }
}

fn claim(key: &'static str, statement: &str, convention: &str, depth: usize) -> Claim {
    Claim::new("TMC25", key, statement, convention).id_param("L", depth)
}

fn with_setup(c: Claim, exp: &Experiment) -> Claim {
    c.param("d", exp.data.input_dim())
        .param("n", exp.data.samples())
        .param("widths", exp.widths.clone())
        .param("init", "gaussian, σ = 1")
        .param("seed", exp.seed)
}

fn decay_rate(cfg: &Config, depth: usize, lambda: f64, seed: Option<u64>) -> ClaimResult {
    const STATEMENT: &str =
        "Gradient flow with weight decay λ shrinks every imbalance as ‖D_l(t)‖ = e^{−2λt}‖D_l(0)‖";
    const CONVENTION: &str = "−slope of ln‖D_l(t)‖_F vs t (least squares), worst layer";
    let c = claim("B.decay_rate", STATEMENT, CONVENTION, depth).id_param("lambda", lambda);
    let d = &cfg.decay_rate;
    let schedule = CheckpointConfig::Linear {
        t_end: d.horizon / lambda,
        count: d.checkpoints,
    };
    let exp = match flow(cfg, depth, lambda, schedule, seed) {
        Ok(e) => e,
        Err(e) => return c.failed(Some(2.0 * lambda), format!("config: {e}")),
    };
    let c = with_setup(c, &exp);
    let (_, traj) = match experiment::run(&exp) {
        Ok(r) => r,
        Err(e) => return c.failed(Some(2.0 * lambda), e.to_string()),
    };
    let times: Vec<f64> = traj.snapshots.iter().map(|s| s.time).collect();
    let norms: Vec<Vec<f64>> = traj.snapshots.iter().map(|s| s.imbalance_norms()).collect();
    let predicted = 2.0 * lambda;
    let rates: Vec<f64> = (0..depth - 1)
        .map(|l| -slope(&times, &norms.iter().map(|n| n[l].ln()).collect::<Vec<_>>()))
        .collect();
    let worst = rates
        .iter()
        .copied()
        .max_by(|a, b| (a - predicted).abs().total_cmp(&(b - predicted).abs()))
        .unwrap_or(f64::NAN);
    let details = (0..depth - 1).fold(Details::new(), |d, l| {
        d.with_series(
            details::Series::new("imbalance", "t", times.clone(), norms.iter().map(|n| n[l]))
                .in_group(format!("layer {}", l + 1)),
        )
    });
    c.details(
        details
            .with_list("rate_per_layer", rates)
            .with_value("steps", traj.stats.steps as f64),
    )
    .check(
        predicted,
        worst,
        RATE_TOL,
        Comparison::Relative,
        "integrator error N·rtol ≈ 1e-9 on ln‖D‖ over 2λt ∈ [0, 2] moves the slope ≪ 1e-4",
    )
}

/// A GD run with the exact bookkeeping of the imbalance recursion
/// `D_l' = a²D_l + η²E_l`, `a = 1 − ηλ` (module docs).
pub(crate) struct GdTrace {
    /// `‖D_l(0)‖_F` per layer pair.
    pub initial: Vec<f64>,
    /// `‖D_l(k)‖_F`.
    pub last: Vec<f64>,
    /// `‖D_l(k) − a^{2k}D_l(0)‖_F`.
    pub deviation: Vec<f64>,
    /// `η²Σ_j a^{2(k−1−j)}‖E_l(j)‖_F`, which bounds `deviation`.
    pub bound: Vec<f64>,
    /// Round-off scale of the imbalances, `~1e-13·(1 + Σ_l‖W_l‖_F²)`.
    pub rounding: f64,
    /// The state after the last step (time, step, data loss, weights).
    pub last_snapshot: experiment::Snapshot,
}

/// Run `exp`, full-batch GD of a deep linear network with L2 decay observed
/// after every update ([`every_step`]), accumulating the exact bound of
/// [`GdTrace`] from the data gradient at each θ_j.
pub(crate) fn gd_trace(exp: &Experiment) -> Result<GdTrace, UnitError> {
    let Dynamics::Discrete(o) = exp.dynamics else {
        return Err(UnitError::new(
            "the imbalance recursion is for gradient descent",
        ));
    };
    let (eta, lambda) = (o.params().learning_rate, o.params().weight_decay);
    let steps = match &exp.checkpoints {
        Checkpoints::Steps(s) if s.iter().copied().eq(0..s.len()) => s.len() - 1,
        _ => {
            return Err(UnitError::new(
                "the imbalance recursion needs a checkpoint after every step",
            ));
        }
    };
    let prepared = experiment::prepare(exp)?;
    let mut probe = LinearObjective::new(
        prepared
            .stats
            .as_ref()
            .ok_or_else(|| UnitError::new("not a deep linear network"))?,
        &exp.widths,
    )?;
    let layers = exp.depth() - 1;
    let a2 = (1.0 - eta * lambda).powi(2);
    let d0 = imbalance_mats(&prepared.init.weights);
    let mut bound = vec![0.0; layers];
    let mut grad = optim::params::zeros_like(&prepared.init.weights);
    let traj = experiment::run::run_prepared_observed(exp, &prepared, |s| {
        if s.step < steps {
            // η²‖E_l(j)‖ with the data gradient at θ_j, contracted by the
            // later steps.
            probe.loss_and_gradient(&s.weights, &mut grad);
            for l in 0..layers {
                let upper = metrics::nfm(grad[l + 1].as_ref());
                let lower = metrics::nfm(grad[l].transpose());
                bound[l] = a2 * bound[l] + eta * eta * frob_diff(&upper, &lower);
            }
        }
    })?;
    let last_snapshot = traj
        .snapshots
        .into_iter()
        .last()
        .ok_or_else(|| UnitError::new("no checkpoints"))?;
    let dk = imbalance_mats(&last_snapshot.weights);
    let a2k = a2.powf(steps as f64);
    Ok(GdTrace {
        initial: d0.iter().map(|m| m.norm_l2()).collect(),
        last: dk.iter().map(|m| m.norm_l2()).collect(),
        deviation: dk
            .iter()
            .zip(&d0)
            .map(|(k, z)| (k - z * faer::Scale(a2k)).norm_l2())
            .collect(),
        bound,
        rounding: 1e-13 * (1.0 + optim::params::squared_norm(&last_snapshot.weights)),
        last_snapshot,
    })
}

/// Per layer: (contraction per step `(‖D_l(k)‖/‖D_l(0)‖)^{1/k}`, its
/// tolerance around `a²` implied by the bound of [`GdTrace`]).
fn contraction(trace: &GdTrace, a2: f64, steps: usize) -> Vec<(f64, f64)> {
    let k = steps as f64;
    (0..trace.initial.len())
        .map(|l| {
            let measured = (trace.last[l] / trace.initial[l]).powf(1.0 / k);
            let r = (trace.bound[l] + trace.rounding) / trace.initial[l];
            let a2k = a2.powf(k);
            let hi = (a2k + r).powf(1.0 / k) - a2;
            let lo = a2 - (a2k - r).max(0.0).powf(1.0 / k);
            (measured, hi.max(lo))
        })
        .collect()
}

fn gd_contraction(
    cfg: &Config,
    depth: usize,
    eta: f64,
    steps: usize,
    seed: Option<u64>,
) -> ClaimResult {
    const STATEMENT: &str = "GD with L2 decay contracts D_l by (1−ηλ)² per step, up to the exact η²(∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ) term";
    const CONVENTION: &str = "(‖D_l(k)‖_F/‖D_l(0)‖_F)^{1/k}, worst layer relative to its bound";
    let lambda = cfg.gd_contraction.weight_decay;
    let predicted = (1.0 - eta * lambda).powi(2);
    let c = claim("B.gd_contraction", STATEMENT, CONVENTION, depth).id_param("eta", eta);
    let mut gd = template(cfg, depth, seed);
    gd.dynamics = DynamicsConfig::Gd {
        learning_rate: eta,
        weight_decay: lambda,
    };
    gd.checkpoints = every_step(steps);
    let exp = match gd.validate() {
        Ok(e) => e,
        Err(e) => return c.failed(Some(predicted), format!("config: {e}")),
    };
    let c = with_setup(c, &exp)
        .param("lambda", lambda)
        .param("steps", steps);
    let trace = match gd_trace(&exp) {
        Ok(t) => t,
        Err(e) => return c.failed(Some(predicted), e),
    };
    let per_layer = contraction(&trace, predicted, steps);
    let (measured, tol) = per_layer
        .iter()
        .copied()
        .max_by(|a, b| ((a.0 - predicted).abs() / a.1).total_cmp(&((b.0 - predicted).abs() / b.1)))
        .unwrap_or((f64::NAN, 0.0));
    let deviations: Vec<f64> = per_layer.iter().map(|p| p.0 - predicted).collect();
    c.details(
        Details::new()
            .with_list("deviation_per_layer", deviations)
            .with_list("tolerance_per_layer", per_layer.iter().map(|p| p.1)),
    )
    .check(
        predicted,
        measured,
        tol,
        Comparison::Absolute,
        "exact η² remainder: ‖D(k) − (1−ηλ)^{2k}D(0)‖ ≤ η²Σ_j(1−ηλ)^{2(k−1−j)}‖E(j)‖, accumulated along the run",
    )
}

/// The lower bound `‖F^L − G‖_F / (L·M^{L−1}‖R‖_F)` on `relerr(F, R)`,
/// `R = G^{1/L}` (module docs).
fn no_decay_bound(weights: &[Mat<f64>]) -> Result<f64, MetricError> {
    let depth = weights.len();
    let f = deep_linear::nfm(weights, 1);
    let g = deep_linear::agop(weights, 1)?;
    let eig = PsdEigen::new(g.as_ref(), Cutoff::for_dim(g.nrows()), "AGOP")?;
    let root = eig.power(1.0 / depth as f64)?;
    let g_clipped = eig.power(1.0)?;
    let mut f_power = f.clone();
    for _ in 1..depth {
        let mut next = Mat::zeros(f.nrows(), f.ncols());
        matmul(&mut next, Accum::Replace, &f_power, &f, 1.0, Par::Seq);
        f_power = next;
    }
    let spectral = |m: &Mat<f64>| -> Result<f64, MetricError> {
        let e = PsdEigen::new(m.as_ref(), Cutoff(0.0), "spectral norm operand")?;
        Ok(e.lambda_max)
    };
    let m = spectral(&f)?.max(spectral(&root)?);
    Ok(
        frob_diff(&f_power, &g_clipped)
            / (depth as f64 * m.powi(depth as i32 - 1) * root.norm_l2()),
    )
}

/// A gradient-flow run to `t_end`: its relerr series and final weights.
struct RelerrRun {
    exp: Experiment,
    times: Vec<f64>,
    relerr: Vec<f64>,
    last: Vec<Mat<f64>>,
}

/// Gradient flow with decay λ to `t_end` from the unbalanced init, or from a
/// balanced one (scale 1), with `relerr(W_1ᵀW_1, G_1^{1/L})` at each
/// checkpoint.
fn relerr_run(
    cfg: &Config,
    depth: usize,
    lambda: f64,
    balanced: bool,
    seed: Option<u64>,
) -> Result<RelerrRun, UnitError> {
    let a = &cfg.asymptotic;
    let schedule = CheckpointConfig::Log {
        t_min: 0.1,
        t_end: a.t_end,
        count: a.checkpoints,
    };
    let exp = if balanced {
        let mut c = cfg.clone();
        c.unbalanced.init = InitConfig::Balanced {
            scale: 1.0,
            rank: None,
        };
        flow(&c, depth, lambda, schedule, seed)
    } else {
        flow(cfg, depth, lambda, schedule, seed)
    }
    .map_err(|e| UnitError::new(format!("config: {e}")))?;
    let (_, traj) = experiment::run(&exp)?;
    let times = traj.snapshots.iter().map(|s| s.time).collect();
    let relerr = traj
        .snapshots
        .iter()
        .map(|s| layer_relerr(&s.weights, 1))
        .collect::<Result<Vec<f64>, _>>()?;
    let last = traj
        .snapshots
        .last()
        .map(|s| s.weights.clone())
        .unwrap_or_default();
    Ok(RelerrRun {
        exp,
        times,
        relerr,
        last,
    })
}

const RELERR_AT_END: &str = "relerr(W_1ᵀW_1, G_1^{1/L}) at t_end";

/// `B.asymptotic_nfa`, with the series of the same run from a balanced
/// init (a balanced network stays balanced under decay) as supporting data.
fn asymptotic(cfg: &Config, depth: usize, seed: Option<u64>) -> ClaimResult {
    const STATEMENT: &str = "From an unbalanced init, gradient flow with weight decay makes W_1ᵀW_1 = G_1^{1/L} hold asymptotically";
    let a = &cfg.asymptotic;
    let c = claim("B.asymptotic_nfa", STATEMENT, RELERR_AT_END, depth)
        .id_param("lambda", a.weight_decay)
        .param("t_end", a.t_end);
    let RelerrRun {
        exp, times, relerr, ..
    } = match relerr_run(cfg, depth, a.weight_decay, false, seed) {
        Ok(r) => r,
        Err(e) => return c.failed(Some(0.0), e),
    };
    let details = Details::new().with_series(details::Series::new(
        "relerr",
        "t",
        times,
        relerr.iter().copied(),
    ));
    let details = match relerr_run(cfg, depth, a.weight_decay, true, seed) {
        Ok(b) => details.with_series(details::Series::new(
            "relerr_balanced_init",
            "t",
            b.times,
            b.relerr,
        )),
        Err(e) => details.with_note("relerr_balanced_init", e),
    };
    let (first, last) = (relerr[0], *relerr.last().expect("checkpoints"));
    let c = with_setup(c, &exp).details(details);
    if last >= first {
        c.failed(
            Some(0.0),
            format!("relerr did not decrease: {first:.3e} at t = 0, {last:.3e} at t_end"),
        )
    } else {
        c.check(
            0.0,
            last,
            ASYMPTOTIC_TOL,
            Comparison::Absolute,
            "imbalance e^{−2λt} ≤ e^{−10} of its initial value at t ≥ 5/λ",
        )
    }
}

fn no_decay(cfg: &Config, depth: usize, seed: Option<u64>) -> ClaimResult {
    const STATEMENT: &str = "Without weight decay the conserved imbalance keeps the NFA broken";
    let c = claim(
        "B.no_decay_persists",
        STATEMENT,
        "relerr(W_1ᵀW_1, G_1^{1/L}) at t_end vs the lower bound ‖F^L − G_1‖/(L·M^{L−1}‖G_1^{1/L}‖)",
        depth,
    )
    .id_param("lambda", 0.0)
    .param("t_end", cfg.asymptotic.t_end);
    let RelerrRun {
        exp,
        times,
        relerr,
        last: last_weights,
    } = match relerr_run(cfg, depth, 0.0, false, seed) {
        Ok(r) => r,
        Err(e) => return c.failed(None, e),
    };
    let c = with_setup(c, &exp);
    let bound = match no_decay_bound(&last_weights) {
        Ok(b) => b,
        Err(e) => return c.undefined(None, e.to_string()),
    };
    let min = relerr[1..].iter().copied().fold(f64::INFINITY, f64::min);
    let c = c.details(
        Details::new()
            .with_series(details::Series::new(
                "relerr",
                "t",
                times,
                relerr.iter().copied(),
            ))
            .with_value("min_relerr", min),
    );
    let last = *relerr.last().expect("checkpoints");
    if min < PERSIST_FLOOR {
        c.failed(
            Some(bound),
            format!("relerr fell to {min:.3e} < {PERSIST_FLOOR}: the NFA did not stay broken"),
        )
    } else {
        c.check(
            bound,
            last,
            0.0,
            Comparison::AtLeast,
            "a derived lower bound: no tolerance",
        )
    }
}
