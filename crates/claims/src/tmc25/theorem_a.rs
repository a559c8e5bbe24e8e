//! TMC25 Theorem A (SPEC §2.1): for a deep linear network trained by
//! gradient flow from a balanced initialisation,
//! `W_lᵀW_l = G_l^{1/(L−l+1)}` at every time, with constant exactly 1.
//!
//! *Proof sketch* (derived, SPEC §2.1). Under gradient flow on any loss of
//! `P = W_L⋯W_1`, `dD_l/dt = 0` for the imbalances
//! `D_l = W_{l+1}ᵀW_{l+1} − W_lW_lᵀ`, because
//! `W_{l+1}ᵀ∇_{l+1} = ∇_lW_lᵀ`. If all `D_l = 0` then
//! `(W_1ᵀW_1)^L = W_1ᵀ(W_1W_1ᵀ)^{L−1}W_1 = … = PᵀP`, and every input of a
//! linear network has the input Jacobian P, so `G_1 = PᵀP`. The same
//! argument on the sub-network `W_L⋯W_l` gives the layerwise identity.
//! Gradient descent breaks the conservation at second order: one step
//! changes `D_l` by exactly `η²(∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ)`.
//!
//! Claims (one per depth L and output dimension C of the fixture grid):
//! `A.identity`, `A.layerwise`, `A.alpha` (per estimator; `undefined` for
//! C = 1, where rank G_1 = 1 makes α unidentifiable), `A.conservation`,
//! `A.gd_drift` (the one-step identity and the drift ratio at η vs η/2).

use crate::UnitError;
use crate::details::{Details, Series};
use deep_linear::LinearObjective;
use experiment::measure::layer_relerr;
use experiment::{Experiment, ExperimentConfig, Prepared, Trajectory};
use faer::Mat;
use metrics::{AlphaEstimate, AlphaEstimator};
use optim::{Objective, OptimizerParams};
use serde::Deserialize;

use super::{GridPoint, frob_diff, imbalance_mats, instantiate};
use crate::PerMode;
use crate::claim::{Claim, Comparison};
use crate::study::{Planned, Study};
use crate::{ClaimResult, Family, RunOptions};

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../../fixtures/claims/tmc25_theorem_a.toml");

const KEYS: &[&str] = &[
    "A.identity",
    "A.layerwise",
    "A.alpha",
    "A.conservation",
    "A.gd_drift",
];

/// The Theorem A family.
pub const FAMILY: Family = Family::new("TMC25", KEYS, "tmc25_theorem_a.toml", FIXTURE, &TheoremA);

/// Theorem A's units: one per grid point (L, width, C), each measuring
/// every claim at that point.
struct TheoremA;

/// `fixtures/claims/tmc25_theorem_a.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Depths run (per mode).
    pub depths: PerMode<Vec<usize>>,
    /// Hidden widths run (per mode).
    pub widths: PerMode<Vec<usize>>,
    /// Output dimensions C.
    pub outputs: Vec<usize>,
    /// Template for identity, layerwise and alpha (balanced init, flow).
    pub balanced: ExperimentConfig,
    /// Template for conservation (unbalanced init, flow).
    pub unbalanced: ExperimentConfig,
    /// GD drift settings (applied to the balanced template).
    pub gd_drift: GdDrift,
}

/// `[gd_drift]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GdDrift {
    /// η of the one-step identity check.
    pub one_step_learning_rate: f64,
    /// η of the drift ratio (compared with η/2).
    pub learning_rate: f64,
    /// Horizon t = kη of the drift ratio.
    pub horizon: f64,
}

/// Parse the fixture.
pub fn config() -> Result<Config, experiment::ConfigError> {
    crate::parse_fixture(FIXTURE)
}

/// The exact identities are checked to 1e-9 at most. Reason: Dormand–Prince
/// holds each step's local error below rtol (relative), so after N accepted
/// steps the state is within ~N·rtol of the exact balanced trajectory
/// (N·rtol ≈ 10³·1e-12 here); relerr(F_l, G_l^{1/(L−l+1)}) and the
/// conserved imbalances move by that times an O(1) factor for these
/// well-conditioned AGOPs. The tolerance is min(N·rtol, 1e-9).
const EXACT_CAP: f64 = 1e-9;

/// α̂ is checked to 1e-4. Reason: golden-section search stops at a 1e-6
/// bracket; the identity holds to ≤1e-9, which moves the optimum by
/// ~1e-9 / spread(ln λ(G)); the eig estimator is exact up to round-off.
const ALPHA_TOL: f64 = 1e-4;

/// The one-step GD identity is checked to 1e-12 relative. Reason: ΔD_l and
/// the η² term are formed from O(‖W‖²) products whose round-off is
/// ~d·ε_mach·‖W‖²; with η = 0.1 the η² term is ~1e-2·‖W‖², so the floor is
/// ~1e-13.
const ONE_STEP_TOL: f64 = 1e-12;

/// The drift ratio is checked to 20% of 2. Reason: the drift over a fixed
/// horizon is η·∫(∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ)dt + O(η²), so halving η halves
/// it up to an O(η) relative correction, a few per cent at η = 0.02.
const RATIO_TOL: f64 = 0.4;

impl Study for TheoremA {
    type Config = Config;
    type Point = GridPoint;
    type Measurement = Vec<ClaimResult>;

    fn plan(&self, cfg: &Config, options: &RunOptions) -> Vec<Planned<GridPoint>> {
        let (depths, widths) = (cfg.depths.get(options.mode), cfg.widths.get(options.mode));
        let mut grid = Vec::new();
        for &depth in &depths {
            for &width in &widths {
                for &outputs in &cfg.outputs {
                    let point = GridPoint {
                        depth,
                        width,
                        outputs,
                    };
                    grid.push(Planned {
                        name: point.name(),
                        cost: cost(&point),
                        point,
                    });
                }
            }
        }
        grid
    }

    fn run(&self, cfg: &Config, options: &RunOptions, point: &GridPoint) -> Vec<ClaimResult> {
        grid_point(cfg, *point, options.seed)
    }

    fn conclude(
        &self,
        _: &Config,
        _: &RunOptions,
        measured: Vec<(GridPoint, Vec<ClaimResult>)>,
    ) -> Vec<ClaimResult> {
        let mut out: Vec<ClaimResult> = measured.into_iter().flat_map(|(_, c)| c).collect();
        out.sort_by_key(|c| KEYS.iter().position(|k| *k == c.key));
        out
    }

    fn figures(&self, _: &Config, _: &RunOptions, claims: &[ClaimResult]) -> Vec<figure::Declared> {
        super::figures::theorem_a(claims)
    }
}

/// Estimated seconds of one grid point on one core: 6·10⁻⁴ (L−1)^{3/2}
/// · width · (1 + C)/2, fitted to the full grid's unit times (0.02 s at
/// L = 2, width 10, C = 1 to 0.4 s at L = 6, width 32, C = 3).
fn cost(point: &GridPoint) -> f64 {
    let depth = (point.depth - 1) as f64;
    6e-4 * depth.powf(1.5) * point.width as f64 * (1 + point.outputs) as f64 / 2.0
}

fn grid_point(cfg: &Config, point: GridPoint, seed: Option<u64>) -> Vec<ClaimResult> {
    let mut out = balanced_claims(cfg, point, seed);
    out.push(conservation(cfg, point, seed));
    out.extend(gd_drift(cfg, point, seed));
    out
}

/// A claim of this family at `point`, before the experiment could be built.
fn bare(key: &'static str, statement: &str, point: GridPoint) -> Claim {
    Claim::new("TMC25", key, statement, "")
        .id_param("L", point.depth)
        .id_param("width", point.width)
        .id_param("C", point.outputs)
}

fn base(
    key: &'static str,
    statement: &str,
    convention: &str,
    exp: &Experiment,
    point: GridPoint,
) -> Claim {
    Claim::new("TMC25", key, statement, convention)
        .id_param("L", point.depth)
        .id_param("width", point.width)
        .id_param("C", point.outputs)
        .param("d", exp.data.input_dim())
        .param("n", exp.data.samples())
        .param("widths", exp.widths.clone())
        .param("seed", exp.seed)
}

fn rtol(exp: &Experiment) -> f64 {
    match exp.dynamics {
        experiment::config::Dynamics::GradientFlow(g) => g.rtol,
        experiment::config::Dynamics::Discrete(_) => 0.0,
    }
}

fn exact_tolerance(exp: &Experiment, traj: &Trajectory) -> (f64, String) {
    let derived = traj.stats.steps as f64 * rtol(exp);
    (
        derived.min(EXACT_CAP),
        format!(
            "Dormand–Prince local error ≤ rtol per step: N·rtol = {} × {:.0e} = {derived:.1e}, capped at 1e-9",
            traj.stats.steps,
            rtol(exp)
        ),
    )
}

const IDENTITY: &str =
    "Balanced init + gradient flow: W_1ᵀW_1 = G_1^{1/L} at every time, constant exactly 1";
const LAYERWISE: &str =
    "Balanced init + gradient flow: W_lᵀW_l = G_l^{1/(L−l+1)} for every layer l at every time";
const ALPHA: &str = "The NFA exponent of a balanced deep linear network is α = 1/L";

fn balanced_claims(cfg: &Config, point: GridPoint, seed: Option<u64>) -> Vec<ClaimResult> {
    let depth = point.depth;
    let exp = match instantiate(&cfg.balanced, point, seed) {
        Ok(e) => e,
        Err(e) => {
            return vec![bare("A.identity", IDENTITY, point).failed(None, format!("config: {e}"))];
        }
    };
    let identity = base(
        "A.identity",
        IDENTITY,
        "relerr(W_1ᵀW_1, G_1^{1/L}), max over checkpoints",
        &exp,
        point,
    );
    let layerwise = base(
        "A.layerwise",
        LAYERWISE,
        "relerr(W_lᵀW_l, G_l^{1/(L−l+1)}), max over layers and checkpoints",
        &exp,
        point,
    );
    let alpha_claim = |est: AlphaEstimator| {
        let convention = match est {
            AlphaEstimator::Corr => "corr: argmax_α cosine(W_1ᵀW_1, G_1^α), worst checkpoint",
            AlphaEstimator::Eig => "eig: log-log slope of matched eigenvalues, worst checkpoint",
            AlphaEstimator::Fit => "fit: argmin_α relerr_scaled(W_1ᵀW_1, G_1^α), worst checkpoint",
        };
        base("A.alpha", ALPHA, convention, &exp, point).id_param("estimator", est.name())
    };
    let predicted_alpha = 1.0 / depth as f64;
    let (_, traj) = match experiment::run(&exp) {
        Ok(r) => r,
        Err(e) => {
            let mut v = vec![
                identity.failed(Some(0.0), e.to_string()),
                layerwise.failed(Some(0.0), e.to_string()),
            ];
            v.extend(
                AlphaEstimator::ALL
                    .map(|est| alpha_claim(est).failed(Some(predicted_alpha), e.to_string())),
            );
            return v;
        }
    };
    let (tol, tol_reason) = exact_tolerance(&exp, &traj);
    let mut out = Vec::new();

    // A.identity and A.layerwise.
    let per_layer: Result<Vec<Vec<f64>>, metrics::MetricError> = (1..=depth)
        .map(|l| {
            traj.snapshots
                .iter()
                .map(|s| layer_relerr(&s.weights, l))
                .collect()
        })
        .collect();
    match per_layer {
        Ok(per_layer) => {
            let times: Vec<f64> = traj.snapshots.iter().map(|s| s.time).collect();
            let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
            let first = &per_layer[0];
            out.push(
                identity
                    .details(
                        Details::new()
                            .with_series(Series::new("relerr", "t", times, first.iter().copied()))
                            .with_value("steps", traj.stats.steps as f64),
                    )
                    .check(0.0, max(first), tol, Comparison::Absolute, &tol_reason),
            );
            let layer_max: Vec<f64> = per_layer.iter().map(|v| max(v)).collect();
            out.push(
                layerwise
                    .details(
                        Details::new().with_list("relerr_max_per_layer", layer_max.iter().copied()),
                    )
                    .check(0.0, max(&layer_max), tol, Comparison::Absolute, &tol_reason),
            );
        }
        Err(e) => {
            out.push(identity.undefined(Some(0.0), e.to_string()));
            out.push(layerwise.undefined(Some(0.0), e.to_string()));
        }
    }

    // A.alpha, per estimator.
    let options = metrics::alpha::AlphaOptions::default();
    for est in AlphaEstimator::ALL {
        let claim = alpha_claim(est);
        let mut worst: Option<f64> = None;
        let mut problem: Option<(bool, String)> = None;
        for s in &traj.snapshots {
            let f = deep_linear::nfm(&s.weights, 1);
            let estimate = deep_linear::agop(&s.weights, 1)
                .and_then(|g| metrics::estimate_alpha(f.as_ref(), g.as_ref(), est, &options));
            match estimate {
                Ok(AlphaEstimate::Identified { alpha, .. }) => {
                    if worst.is_none_or(|w| {
                        (alpha - predicted_alpha).abs() > (w - predicted_alpha).abs()
                    }) {
                        worst = Some(alpha);
                    }
                }
                Ok(AlphaEstimate::Unidentifiable(u)) => {
                    problem = Some((true, format!("{u} (t = {:.3})", s.time)));
                    break;
                }
                Err(e) => {
                    problem = Some((false, format!("{e} (t = {:.3})", s.time)));
                    break;
                }
            }
        }
        let tol_reason =
            "golden-section bracket 1e-6; identity error ≤ 1e-9 shifts the optimum by ≪ 1e-4";
        out.push(match (problem, worst) {
            (Some((true, why)), _) => claim.undefined(Some(predicted_alpha), why),
            (Some((false, why)), _) => claim.failed(Some(predicted_alpha), why),
            (None, Some(w)) => claim.check(
                predicted_alpha,
                w,
                ALPHA_TOL,
                Comparison::Absolute,
                tol_reason,
            ),
            (None, None) => claim.failed(Some(predicted_alpha), "no checkpoints"),
        });
    }
    out
}

fn conservation(cfg: &Config, point: GridPoint, seed: Option<u64>) -> ClaimResult {
    const STATEMENT: &str =
        "Gradient flow without weight decay conserves every imbalance D_l, from any init";
    const CONVENTION: &str = "max over l, t of ‖D_l(t) − D_l(0)‖_F / (1 + ‖D_l(0)‖_F)";
    let exp = match instantiate(&cfg.unbalanced, point, seed) {
        Ok(e) => e,
        Err(e) => {
            return bare("A.conservation", STATEMENT, point)
                .failed(Some(0.0), format!("config: {e}"));
        }
    };
    let claim = base("A.conservation", STATEMENT, CONVENTION, &exp, point);
    let (prepared, traj) = match experiment::run(&exp) {
        Ok(r) => r,
        Err(e) => return claim.failed(Some(0.0), e.to_string()),
    };
    let d0 = imbalance_mats(&prepared.init.weights);
    let mut worst = 0.0f64;
    for s in &traj.snapshots {
        for (dt, d0) in imbalance_mats(&s.weights).iter().zip(&d0) {
            worst = worst.max(frob_diff(dt, d0) / (1.0 + d0.norm_l2()));
        }
    }
    let (tol, reason) = exact_tolerance(&exp, &traj);
    claim
        .param("initial_imbalance", prepared.init.imbalance.clone())
        .check(0.0, worst, tol, Comparison::Absolute, &reason)
}

/// Run GD from the prepared init for `steps` steps and return the weights.
fn gd_weights(
    exp: &Experiment,
    prepared: &Prepared,
    eta: f64,
    steps: usize,
) -> Result<Vec<Mat<f64>>, UnitError> {
    let mut objective = LinearObjective::new(
        prepared
            .stats
            .as_ref()
            .ok_or_else(|| UnitError::new("not a deep linear network"))?,
        &exp.widths,
    )?;
    let gd = OptimizerParams::gd(eta, 0.0).validate()?;
    let (weights, _) = optim::run_optimizer(
        &gd,
        &mut objective,
        &prepared.init.weights,
        &[0, steps],
        |_| {},
    )?;
    Ok(weights)
}

fn gd_drift(cfg: &Config, point: GridPoint, seed: Option<u64>) -> Vec<ClaimResult> {
    let depth = point.depth;
    const ONE_STEP: &str =
        "One GD step (λ = 0) changes D_l by exactly η²(∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ)";
    const RATIO: &str = "GD leaves the balanced manifold at first order in η: drift(η)/drift(η/2) = 2 over a fixed horizon";
    let g = &cfg.gd_drift;
    let exp = match instantiate(&cfg.balanced, point, seed) {
        Ok(e) => e,
        Err(e) => {
            return vec![bare("A.gd_drift", ONE_STEP, point).failed(None, format!("config: {e}"))];
        }
    };
    let prepared = match experiment::prepare(&exp) {
        Ok(p) => p,
        Err(e) => return vec![bare("A.gd_drift", ONE_STEP, point).failed(None, e.to_string())],
    };
    let theta0 = &prepared.init.weights;
    let d0 = imbalance_mats(theta0);

    // One step: ΔD_l against η²(∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ), gradients at θ_0.
    let eta = g.one_step_learning_rate;
    let one = base(
        "A.gd_drift",
        ONE_STEP,
        "max_l ‖ΔD_l − η²(∇_{l+1}ᵀ∇_{l+1} − ∇_l∇_lᵀ)‖_F / (η²(‖∇_{l+1}ᵀ∇_{l+1}‖_F + ‖∇_l∇_lᵀ‖_F))",
        &exp,
        point,
    )
    .id_param("check", "one_step")
    .param("learning_rate", eta);
    let one = match gd_weights(&exp, &prepared, eta, 1) {
        Err(e) => one.failed(Some(0.0), e),
        Ok(theta1) => {
            let mut objective = LinearObjective::new(
                prepared
                    .stats
                    .as_ref()
                    .expect("a deep linear run has statistics"),
                &exp.widths,
            )
            .expect("shapes checked by the run");
            let mut grad = optim::params::zeros_like(theta0);
            objective.loss_and_gradient(theta0, &mut grad);
            let d1 = imbalance_mats(&theta1);
            let mut worst = 0.0f64;
            for l in 0..depth - 1 {
                // Relative to the size of the two η² terms, not of their
                // difference: for rank-one balanced networks the hidden
                // pairs cancel exactly and ΔD_l = 0.
                let upper = metrics::nfm(grad[l + 1].as_ref());
                let lower = metrics::nfm(grad[l].transpose());
                let scale = eta * eta * (upper.norm_l2() + lower.norm_l2());
                let predicted = (&upper - &lower) * faer::Scale(eta * eta);
                let delta = &d1[l] - &d0[l];
                worst = worst.max(frob_diff(&delta, &predicted) / scale);
            }
            one.check(
                0.0,
                worst,
                ONE_STEP_TOL,
                Comparison::Absolute,
                "round-off of O(‖W‖²) products against an η² term ~1e-2‖W‖²: floor ~1e-13",
            )
        }
    };

    // Drift ratio over the horizon at η and η/2.
    let eta = g.learning_rate;
    let ratio = base(
        "A.gd_drift",
        RATIO,
        "max_l ‖D_l(T) − D_l(0)‖_F at η over the same at η/2",
        &exp,
        point,
    )
    .id_param("check", "ratio")
    .param("learning_rate", eta)
    .param("horizon", g.horizon);
    let drift = |eta: f64| -> Result<f64, UnitError> {
        let steps = (g.horizon / eta).round() as usize;
        let w = gd_weights(&exp, &prepared, eta, steps)?;
        Ok(imbalance_mats(&w)
            .iter()
            .zip(&d0)
            .map(|(d, d0)| frob_diff(d, d0))
            .fold(0.0, f64::max))
    };
    let ratio = match (drift(eta), drift(eta / 2.0)) {
        (Ok(a), Ok(b)) if b > 0.0 => ratio
            .details(
                Details::new()
                    .with_value("drift_eta", a)
                    .with_value("drift_half_eta", b),
            )
            .check(
                2.0,
                a / b,
                RATIO_TOL,
                Comparison::Absolute,
                "drift = η∫(…)dt + O(η²): ratio 2 up to an O(η) relative correction",
            ),
        (Ok(_), Ok(_)) => ratio.undefined(Some(2.0), "zero drift at η/2"),
        (Err(e), _) | (_, Err(e)) => ratio.failed(Some(2.0), e),
    };
    vec![one, ratio]
}
