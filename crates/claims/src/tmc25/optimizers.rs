//! The optimiser study of TMC25 (SPEC §2.4): NFA quantities after training
//! a deep linear network with gradient flow, GD, minibatch SGD, heavy-ball
//! and Nesterov momentum, Adam with L2-coupled decay and AdamW, across
//! weight decay, initialisation, label noise and data sets, over seeds.
//!
//! Each row reports the mean and its 95 % Student t interval over ≥ 10 seeds of
//! the final loss, `cosine(W_1ᵀW_1, G_1^{1/L})`, α̂ (corr, cosine) and
//! `max_l ‖D_l‖_F`. Only two rows kinds carry a theorem and a verdict:
//!
//! * gradient flow: `D_l(T) = e^{−2λT}D_l(0)` (TMC25 Theorems A and B);
//!   measured `max |‖D_l(T)‖ − e^{−2λT}‖D_l(0)‖| / (1 + ‖D_l(0)‖)`, tolerance
//!   `N·rtol` of the integrator (N accepted steps);
//! * GD: the exact recursion `D_l' = (1−ηλ)²D_l + η²E_l`; measured
//!   `‖D_l(k) − (1−ηλ)^{2k}D_l(0)‖ / (η²Σ_j(1−ηλ)^{2(k−1−j)}‖E_l(j)‖ + round-off)`,
//!   which the triangle inequality bounds by 1.
//!
//! The others are `info` ("no theorem"). TMC25's observation that Adam is
//! more robust to label noise than SGD with momentum is a study of its own,
//! judged over seeds: [`super::label_noise`].
//!
//! Units: one run per cell (data set, optimiser, λ, init, σ_ε) and seed,
//! the data set's experiment template with those set; a row concludes the
//! seeds of its cell.

use std::collections::BTreeMap;

use experiment::config::{
    CheckpointConfig, Dynamics, DynamicsConfig, InitConfig, SECONDS_PER_WEIGHT,
};
use experiment::{Experiment, ExperimentConfig};
use metrics::AlphaEstimator;
use serde::{Deserialize, Serialize};

use super::theorem_b::{every_step, gd_trace};
use crate::PerMode;
use crate::UnitError;
use crate::claim::{Claim, Comparison};
use crate::details::{Details, Summary};
use crate::study::{Cells, Runs};
use crate::{ClaimResult, Family, RunOptions};

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../../fixtures/claims/tmc25_optimizers.toml");

/// The optimiser-study family.
pub const FAMILY: Family = Family::new(
    "TMC25",
    &["B.optimizers"],
    "tmc25_optimizers.toml",
    FIXTURE,
    &Optimizers,
);

/// The study's units: one per cell and seed.
struct Optimizers;

/// Initialisations of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitName {
    /// Balanced, scale 1.
    Balanced,
    /// Gaussian, σ = 1.
    Gaussian,
}

impl InitName {
    fn name(self) -> &'static str {
        match self {
            InitName::Balanced => "balanced",
            InitName::Gaussian => "gaussian",
        }
    }
}

/// `fixtures/claims/tmc25_optimizers.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Depth L.
    pub depth: usize,
    /// Seeds (per mode).
    pub seeds: PerMode<Vec<u64>>,
    /// λ values (per mode).
    pub weight_decays: PerMode<Vec<f64>>,
    /// Initialisations.
    pub inits: Vec<InitName>,
    /// Label-noise levels σ_ε.
    pub noises: Vec<f64>,
    /// Data sets, keys of `data` (per mode).
    pub data_sets: PerMode<Vec<String>>,
    /// Gradient-flow end time.
    pub horizon: f64,
    /// Steps of the discrete optimisers.
    pub steps: usize,
    /// Experiment templates per data set.
    pub data: BTreeMap<String, ExperimentConfig>,
    /// The optimisers.
    pub optimizers: Vec<DynamicsConfig>,
}

/// Parse the fixture.
pub fn config() -> Result<Config, experiment::ConfigError> {
    crate::parse_fixture(FIXTURE)
}

/// One cell of the grid (all but the seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cell {
    data: String,
    optimizer: DynamicsConfig,
    lambda: f64,
    init: InitName,
    noise: f64,
}

/// What one seeded run yields (every number finite: a run that is not
/// fails with its reason instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Outcome {
    loss: f64,
    cosine: Option<f64>,
    alpha: Option<f64>,
    max_imbalance: f64,
    /// (measured, tolerance) of the row's theorem, if it has one.
    theorem: Option<(f64, f64)>,
}

impl Cells for Optimizers {
    type Config = Config;
    type Cell = Cell;
    type Measurement = Result<Outcome, UnitError>;

    fn cells(&self, cfg: &Config, options: &RunOptions) -> Vec<(Cell, Vec<u64>)> {
        let seeds = cfg.seeds.get(options.mode);
        cells(cfg, options)
            .into_iter()
            .map(|c| (c, seeds.clone()))
            .collect()
    }

    fn name(&self, cell: &Cell) -> String {
        format!(
            "data={},optimizer={},lambda={},init={},noise={}",
            cell.data,
            cell.optimizer.name(),
            cell.lambda,
            cell.init.name(),
            cell.noise
        )
    }

    fn cost(&self, cfg: &Config, _: &RunOptions, cell: &Cell) -> f64 {
        cost(cfg, cell)
    }

    fn measure(&self, cfg: &Config, _: &RunOptions, cell: &Cell, seed: u64) -> Self::Measurement {
        run_one(cfg, cell, seed)
    }

    /// A row per cell from its seeds.
    fn conclude_cells(
        &self,
        cfg: &Config,
        _: &RunOptions,
        cells: Vec<Runs<Cell, Self::Measurement>>,
    ) -> Vec<ClaimResult> {
        cells.iter().map(|runs| row(cfg, runs)).collect()
    }
}

/// The cells in report order: data set, optimiser, λ, init, σ_ε.
fn cells(cfg: &Config, options: &RunOptions) -> Vec<Cell> {
    let mut cells = Vec::new();
    for data in &cfg.data_sets.get(options.mode) {
        for optimizer in &cfg.optimizers {
            for &lambda in &cfg.weight_decays.get(options.mode) {
                for &init in &cfg.inits {
                    for &noise in &cfg.noises {
                        cells.push(Cell {
                            data: data.clone(),
                            optimizer: optimizer.clone(),
                            lambda,
                            init,
                            noise,
                        });
                    }
                }
            }
        }
    }
    cells
}

/// Estimated seconds of one unit on one core: `c·P·E` for P weights and E
/// gradient evaluations — a discrete optimiser's `steps` updates (GD: two
/// per update, the step's and its bound's), gradient flow ≈ `150·horizon`
/// (about 20 Dormand–Prince steps per unit of time at these tolerances,
/// seven evaluations each); `c` is the experiment model's
/// [`SECONDS_PER_WEIGHT`] of a deep linear network, fitted to these units.
fn cost(cfg: &Config, cell: &Cell) -> f64 {
    let evaluations = match cell.optimizer {
        DynamicsConfig::GradientFlow { .. } => 150.0 * cfg.horizon,
        DynamicsConfig::Gd { .. } => 2.0 * cfg.steps as f64,
        _ => cfg.steps as f64,
    };
    let weights = experiment_for(cfg, cell, 0).map_or(1, |e| e.weight_count());
    SECONDS_PER_WEIGHT * weights as f64 * evaluations
}

fn experiment_for(cfg: &Config, cell: &Cell, seed: u64) -> Result<Experiment, UnitError> {
    let mut c = cfg
        .data
        .get(&cell.data)
        .ok_or_else(|| UnitError::new(format!("unknown data set `{}`", cell.data)))?
        .clone();
    c.seed = seed;
    c.network.depth = Some(cfg.depth);
    c.init = match cell.init {
        InitName::Balanced => InitConfig::Balanced {
            scale: 1.0,
            rank: None,
        },
        InitName::Gaussian => InitConfig::Gaussian {
            sigma: Some(1.0),
            sigmas: None,
        },
    };
    c.data.set_noise(cell.noise);
    let mut dynamics = cell.optimizer.clone();
    dynamics.set_weight_decay(cell.lambda);
    c.checkpoints = match (&dynamics, dynamics.learning_rate()) {
        // The exact recursion of GD is checked along every step.
        (DynamicsConfig::Gd { .. }, _) => every_step(cfg.steps),
        (_, Some(eta)) => CheckpointConfig::Linear {
            t_end: eta * cfg.steps as f64,
            count: 1,
        },
        (_, None) => CheckpointConfig::Linear {
            t_end: cfg.horizon,
            count: 1,
        },
    };
    c.dynamics = dynamics;
    c.validate()
        .map_err(|e| UnitError::new(format!("config: {e}")))
}

fn run_one(cfg: &Config, cell: &Cell, seed: u64) -> Result<Outcome, UnitError> {
    let exp = experiment_for(cfg, cell, seed)?;
    let (last, theorem) = match cell.optimizer {
        DynamicsConfig::Gd { .. } => {
            let t = gd_trace(&exp)?;
            let ratio = (0..t.deviation.len())
                .map(|l| t.deviation[l] / (t.bound[l] + t.rounding))
                .fold(0.0, f64::max);
            (t.last_snapshot, Some((ratio, 1.0)))
        }
        _ => {
            let (prepared, traj) = experiment::run(&exp)?;
            let steps = traj.stats.steps;
            let last = traj
                .snapshots
                .into_iter()
                .last()
                .ok_or_else(|| UnitError::new("no checkpoints"))?;
            let theorem = match exp.dynamics {
                Dynamics::GradientFlow(g) => {
                    let decay = (-2.0 * g.weight_decay * last.time).exp();
                    let worst = last
                        .imbalance_norms()
                        .iter()
                        .zip(&prepared.init.imbalance)
                        .map(|(d, d0)| (d - decay * d0).abs() / (1.0 + d0))
                        .fold(0.0, f64::max);
                    Some((worst, steps as f64 * g.rtol))
                }
                Dynamics::Discrete(_) => None,
            };
            (last, theorem)
        }
    };
    let m = experiment::measure(&last);
    let alpha = m
        .alpha
        .iter()
        .find(|(e, _)| *e == AlphaEstimator::Corr)
        .and_then(|(_, a)| a.as_ref().ok().copied());
    Ok(Outcome {
        loss: last.loss,
        cosine: m.cosine.ok(),
        alpha,
        max_imbalance: m.max_imbalance,
        theorem,
    })
}

const STATEMENT: &str = "The NFA across optimisers, weight decay, init and label noise (TMC25); only gradient flow and GD carry a theorem on the imbalances";

fn row(cfg: &Config, runs: &Runs<Cell, Result<Outcome, UnitError>>) -> ClaimResult {
    let Runs {
        cell,
        seeds,
        measured: outcomes,
    } = runs;
    let name = cell.optimizer.name();
    let convention = match name {
        "gradient_flow" => "max over seeds, l of |‖D_l(T)‖ − e^{−2λT}‖D_l(0)‖| / (1 + ‖D_l(0)‖)",
        "gd" => {
            "max over seeds, l of ‖D_l(k) − (1−ηλ)^{2k}D_l(0)‖ / (η²Σ(1−ηλ)^{2(k−1−j)}‖E_l(j)‖ + round-off)"
        }
        _ => "mean and 95 % Student t interval over seeds; no theorem",
    };
    let mut claim = Claim::new("TMC25", "B.optimizers", STATEMENT, convention)
        .id_param("data", cell.data.as_str())
        .id_param("optimizer", name)
        .id_param("lambda", cell.lambda)
        .id_param("init", cell.init.name())
        .id_param("noise", cell.noise)
        .param("seeds", seeds.clone())
        .param("depth", cfg.depth);
    claim = match cell.optimizer.learning_rate() {
        Some(eta) => claim.param("learning_rate", eta).param("steps", cfg.steps),
        None => claim.param("t_end", cfg.horizon),
    };
    if let Some(e) = outcomes.iter().find_map(|o| o.as_ref().err()) {
        return claim.failed(None, e.clone());
    }
    let ok: Vec<&Outcome> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    let summary = Details::new()
        .with_column(Summary::positive(
            "final loss",
            &ok.iter().map(|o| o.loss).collect::<Vec<_>>(),
        ))
        .with_column(Summary::over_seeds(
            "cosine(F_1, G_1^{1/L})",
            &ok.iter().filter_map(|o| o.cosine).collect::<Vec<_>>(),
        ))
        .with_column(Summary::over_seeds(
            "α̂ (corr)",
            &ok.iter().filter_map(|o| o.alpha).collect::<Vec<_>>(),
        ))
        .with_column(Summary::over_seeds(
            "max_l ‖D_l‖_F",
            &ok.iter().map(|o| o.max_imbalance).collect::<Vec<_>>(),
        ));
    let claim = claim.details(summary);
    let theorem: Vec<(f64, f64)> = ok.iter().filter_map(|o| o.theorem).collect();
    if theorem.len() == ok.len() && !ok.is_empty() {
        let measured = theorem.iter().map(|t| t.0).fold(0.0, f64::max);
        let tol = theorem.iter().map(|t| t.1).fold(0.0, f64::max);
        let reason = if name == "gd" {
            "the triangle inequality on the exact recursion bounds the ratio by 1"
        } else {
            "Dormand–Prince local error ≤ rtol per step: N·rtol, worst seed"
        };
        claim.check(0.0, measured, tol, Comparison::Absolute, reason)
    } else {
        claim.info(None, "no theorem: measured only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that diverges is a `fail` row whose reason names the step, not
    /// a row of NaN.
    #[test]
    fn a_diverging_optimizer_is_a_failed_row() {
        let cfg = config().unwrap();
        let cell = Cell {
            data: "teacher".into(),
            optimizer: DynamicsConfig::Gd {
                learning_rate: 50.0,
                weight_decay: 0.0,
            },
            lambda: 0.0,
            init: InitName::Gaussian,
            noise: 0.0,
        };
        let outcome = run_one(&cfg, &cell, 1);
        assert!(
            outcome
                .as_ref()
                .is_err_and(|e| e.to_string().contains("diverged at step")),
            "{outcome:?}"
        );
        let r = row(
            &cfg,
            &Runs {
                cell,
                seeds: vec![1],
                measured: vec![outcome],
            },
        );
        assert_eq!(r.verdict, crate::Verdict::Fail);
        assert!(r.measured.is_none() && r.reason.contains("diverged at step"));
    }
}
