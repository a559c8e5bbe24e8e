//! Claims of BMA24 (Beaglehole, Mitliagkas, Agarwala, *Feature learning as
//! alignment*, TMLR 2024), SPEC §4.
//!
//! * `ptk.consistency`: the AGOP of every layer computed from per-sample
//!   input gradients equals `W_lᵀK_lW_l/n` (chain rule), to 1e-12 relative.
//! * `nfa.uc_vs_c`: UC-NFA and C-NFA (Pearson, α = 1, BMA24's code; cosine
//!   as an extra column) per hidden layer of a bias-free ReLU MLP trained by
//!   minibatch SGD on digits and on a synthetic task, mean ± spread over
//!   seeds, with `‖ΔW_l‖/‖W_l‖`; `info` beside the paper's claim.
//! * `nfa.singular_alignment`: `cosine(U_rᵀK_lU_r, I_r)` for the left
//!   singular vectors of `W_l`, reported next to the NFA values.
//! * `early.prediction` (a reconstruction, labelled so): for one small GD
//!   step, `ΔW_l ∝ G diag(r) X_l` with `G` the pre-activation gradients and r
//!   the residuals, so the C-NFA is
//!   `pearson(X_lᵀ(rrᵀ⊙Q)X_l, X_lᵀ(rrᵀ⊙Q²)X_l)`, `Q = GᵀG` (= 1 for linear
//!   φ and one output); checked against one actual step.
//! * `slo.intervention` (a reconstruction, labelled so): one layer takes
//!   speed-limited steps `speed·∇/‖∇‖`, the others plain GD steps; its
//!   UC-NFA and the held-out classification error are reported with and
//!   without the rule.
//!
//! Units: `consistency,activation=…` (one claim each),
//! `training,data=digits|synthetic,seed=…`, `early,activation=…,seed=…` and
//! `slo,rule=plain|speed_limited,seed=…`; the claims over seeds are
//! concluded from the seeds' measurements. Every network is an experiment
//! ([`experiment::prepare`], [`experiment::run::run_prepared`]); the
//! speed-limited rule, which no optimiser implements, steps by hand from the
//! experiment's data and init.

use datasets::Dataset;
use experiment::config::{
    CheckpointConfig, DataConfig, DigitsTarget, DynamicsConfig, InitConfig, NetworkConfig,
    TeacherTarget,
};
use experiment::run::run_prepared;
use experiment::{Experiment, ExperimentConfig, Prepared};
use faer::{Mat, Par};
use metrics::Similarity;
use mlp::ptk_nfa::{c_nfa, singular_alignment, uc_nfa};
use mlp::{Activation, Architecture, MlpObjective, tangents};
use serde::{Deserialize, Serialize};

use crate::PerMode;
use crate::claim::{Claim, Comparison};
use crate::details::{Details, Series, Summary};
use crate::study::{Planned, Study};
use crate::{ClaimResult, Family, Mode, RunOptions};

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../fixtures/claims/bma24.toml");

const KEYS: &[&str] = &[
    "ptk.consistency",
    "nfa.uc_vs_c",
    "nfa.singular_alignment",
    "early.prediction",
    "slo.intervention",
];

/// The BMA24 family.
pub const FAMILY: Family = Family::new("BMA24", KEYS, "bma24.toml", FIXTURE, &Bma24);

/// BMA24's units: one per activation of the consistency check, and one per
/// seed of every study over seeds.
struct Bma24;

/// `fixtures/claims/bma24.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[consistency]`: the random network (its activation is set per
    /// unit) and inputs, at initialisation.
    pub consistency: ExperimentConfig,
    /// `[training]`.
    pub training: Training,
    /// `[early]`.
    pub early: Early,
    /// `[slo]`.
    pub slo: Slo,
}

/// `[slo]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Training digits: the first rows of the data set; the rest are held
    /// out.
    pub train_samples: usize,
    /// Step length of the speed-limited layer.
    pub speed: f64,
    /// The speed-limited layer (1-based).
    pub layer: usize,
    /// Full-batch GD on digits (`kind = "gd"`, no weight decay).
    pub experiment: ExperimentConfig,
}

/// `[early]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Early {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Activations, by their `mlp::Activation` names.
    pub activations: Vec<String>,
    /// One small GD step from init (the activation is set per unit).
    pub experiment: ExperimentConfig,
}

/// `[training]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// Depth L.
    pub depth: usize,
    /// Hidden width (per mode).
    pub width: PerMode<usize>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// SGD step size (per mode).
    pub learning_rate: PerMode<f64>,
    /// Minibatch size.
    pub batch_size: usize,
    /// Checkpoint epochs (per mode).
    pub epochs: PerMode<Vec<usize>>,
    /// Digits samples (per mode).
    pub digits_samples: PerMode<usize>,
    /// Synthetic samples (per mode).
    pub synthetic_samples: PerMode<usize>,
    /// Synthetic input dimension.
    pub synthetic_input_dim: usize,
    /// Synthetic outputs.
    pub synthetic_outputs: usize,
}

/// Parse the fixture.
pub fn config() -> Result<Config, experiment::ConfigError> {
    crate::parse_fixture(FIXTURE)
}

/// The data sets of `[training]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum TrainingData {
    /// Digits, one-hot − 1/C.
    Digits,
    /// One-hot − 1/C labels of the arg-max of a linear teacher's outputs.
    Synthetic,
}

impl TrainingData {
    const ALL: [TrainingData; 2] = [TrainingData::Digits, TrainingData::Synthetic];

    fn name(self) -> &'static str {
        match self {
            TrainingData::Digits => "digits",
            TrainingData::Synthetic => "synthetic",
        }
    }
}

/// A unit of the family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Point {
    /// ptk.consistency for one activation.
    Consistency { activation: String },
    /// One training run of nfa.uc_vs_c and nfa.singular_alignment.
    Training { data: TrainingData, seed: u64 },
    /// One seed of early.prediction for one activation.
    Early { activation: String, seed: u64 },
    /// One run of slo.intervention, with or without the speed limit.
    Slo { speed_limited: bool, seed: u64 },
}

impl Point {
    fn name(&self) -> String {
        match self {
            Point::Consistency { activation } => format!("consistency,activation={activation}"),
            Point::Training { data, seed } => {
                format!("training,data={},seed={seed}", data.name())
            }
            Point::Early { activation, seed } => {
                format!("early,activation={activation},seed={seed}")
            }
            Point::Slo {
                speed_limited,
                seed,
            } => {
                let rule = if *speed_limited {
                    "speed_limited"
                } else {
                    "plain"
                };
                format!("slo,rule={rule},seed={seed}")
            }
        }
    }
}

/// Per checkpoint and hidden layer: UC (pearson), C (pearson), C (cosine),
/// ‖ΔW‖/‖W‖, singular alignment.
type LayerSeries = Vec<[Option<f64>; 5]>;

/// One seed of early.prediction: per hidden layer, the prediction and the
/// C-NFA after one step.
type EarlyPairs = Result<Vec<(f64, f64)>, String>;

/// One run of slo.intervention: the chosen layer's UC-NFA and the held-out
/// classification error.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct SloRun {
    uc_nfa: f64,
    test_error: f64,
}

/// A unit's result, with the part of its point that groups it.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Measured {
    Consistency(Box<ClaimResult>),
    Training {
        data: TrainingData,
        run: Result<Vec<LayerSeries>, String>,
    },
    Early {
        activation: String,
        pairs: EarlyPairs,
    },
    Slo {
        speed_limited: bool,
        run: Result<SloRun, String>,
    },
}

impl Study for Bma24 {
    type Config = Config;
    type Point = Point;
    type Measurement = Measured;

    fn plan(&self, cfg: &Config, options: &RunOptions) -> Vec<Planned<Point>> {
        let seeds = |list: &[u64]| crate::study_seeds(list, options.seed);
        let mut points: Vec<Point> = Activation::ALL
            .iter()
            .map(|a| Point::Consistency {
                activation: a.name().to_owned(),
            })
            .collect();
        for data in TrainingData::ALL {
            points.extend(
                seeds(&cfg.training.seeds)
                    .into_iter()
                    .map(|seed| Point::Training { data, seed }),
            );
        }
        for activation in &cfg.early.activations {
            points.extend(
                seeds(&cfg.early.seeds)
                    .into_iter()
                    .map(|seed| Point::Early {
                        activation: activation.clone(),
                        seed,
                    }),
            );
        }
        for seed in seeds(&cfg.slo.seeds) {
            points.extend([false, true].map(|speed_limited| Point::Slo {
                speed_limited,
                seed,
            }));
        }
        points
            .into_iter()
            .map(|point| Planned {
                name: point.name(),
                cost: cost(cfg, options.mode, &point),
                point,
            })
            .collect()
    }

    fn run(&self, cfg: &Config, options: &RunOptions, point: &Point) -> Measured {
        match point {
            Point::Consistency { activation } => Measured::Consistency(Box::new(consistency(
                &cfg.consistency,
                activation,
                options.seed,
            ))),
            &Point::Training { data, seed } => Measured::Training {
                data,
                run: train_and_measure(&cfg.training, data, options.mode, seed),
            },
            Point::Early { activation, seed } => Measured::Early {
                activation: activation.clone(),
                pairs: early_pairs(&cfg.early.experiment, activation, *seed),
            },
            &Point::Slo {
                speed_limited,
                seed,
            } => Measured::Slo {
                speed_limited,
                run: slo_run(&cfg.slo, speed_limited, seed),
            },
        }
    }

    fn conclude(
        &self,
        cfg: &Config,
        options: &RunOptions,
        measured: Vec<(Point, Measured)>,
    ) -> Vec<ClaimResult> {
        let mut out = Vec::new();
        let mut training: Vec<(TrainingData, Result<Vec<LayerSeries>, String>)> = Vec::new();
        let mut early: Vec<(String, Vec<EarlyPairs>)> = Vec::new();
        let (mut plain, mut limited) = (Vec::new(), Vec::new());
        for (_, m) in measured {
            match m {
                Measured::Consistency(claim) => out.push(*claim),
                Measured::Training { data, run } => training.push((data, run)),
                Measured::Early { activation, pairs } => match early.last_mut() {
                    Some((a, runs)) if *a == activation => runs.push(pairs),
                    _ => early.push((activation, vec![pairs])),
                },
                Measured::Slo { speed_limited, run } => {
                    if speed_limited {
                        &mut limited
                    } else {
                        &mut plain
                    }
                    .push(run);
                }
            }
        }
        out.extend(training_claims(&cfg.training, options, &training));
        for (activation, runs) in &early {
            out.extend(early_claims(&cfg.early, activation, options.seed, runs));
        }
        out.push(slo_claim(&cfg.slo, options.seed, plain, limited));
        out
    }
}

/// Seconds per (sample × weight) of one gradient evaluation of these ReLU
/// MLPs on one core (forward and backward pass): a plain slo unit (300
/// full-batch steps × 500 samples × 8832 weights) took 0.24–0.40 s in the
/// release report on a 2-core machine.
const SECONDS_PER_SAMPLE_WEIGHT: f64 = 2e-10;

/// Estimated seconds of a unit: sample-passes × weights ×
/// [`SECONDS_PER_SAMPLE_WEIGHT`], where a training step passes its batch
/// and the measurement of a checkpoint (per-sample tangents, PTK, AGOP)
/// about `MEASURE_PASSES` passes of the full data set. Measured in the full
/// report: a digits training unit (150 steps × 128 samples, 5 measured
/// checkpoints of 1797 samples, 215552 weights) 3.2–5.2 s, estimated 4.7 s.
fn cost(cfg: &Config, mode: Mode, point: &Point) -> f64 {
    /// Full-data passes of one measurement, relative to a gradient.
    const MEASURE_PASSES: usize = 10;
    let passes_of = |exp: &Experiment, batch: usize, measured: usize| {
        let weights: usize = exp.widths.windows(2).map(|w| w[0] * w[1]).sum();
        let n = exp.data.samples();
        let passes = exp.updates().unwrap_or(0) * batch + measured * MEASURE_PASSES * n;
        (passes * weights) as f64 * SECONDS_PER_SAMPLE_WEIGHT
    };
    let estimate = match point {
        Point::Consistency { .. } => cfg.consistency.validate().map(|e| passes_of(&e, 0, 1)),
        Point::Training { data, seed } => training_experiment(&cfg.training, *data, mode, *seed)
            .map(|e| {
                passes_of(
                    &e,
                    cfg.training.batch_size,
                    cfg.training.epochs.get(mode).len(),
                )
            }),
        Point::Early { .. } => cfg.early.experiment.validate().map(|e| passes_of(&e, 0, 2)),
        Point::Slo { .. } => cfg
            .slo
            .experiment
            .validate()
            .map(|e| passes_of(&e, cfg.slo.train_samples, 1)),
    };
    // An invalid configuration fails before any work.
    estimate.unwrap_or(SECONDS_PER_SAMPLE_WEIGHT)
}

/// A fixture experiment with its seed replaced and, when given, its
/// activation.
fn instantiate(
    template: &ExperimentConfig,
    seed: u64,
    activation: Option<&str>,
) -> Result<Experiment, String> {
    let mut cfg = template.clone();
    cfg.seed = seed;
    if let Some(a) = activation {
        cfg.network.activation = Some(a.to_owned());
    }
    cfg.validate().map_err(|e| format!("config: {e}"))
}

/// The two AGOP computations differ only in the association of the same
/// products: agreement to 1e-12 relative (~d·ε_mach per product).
const CONSISTENCY_TOL: f64 = 1e-12;

fn consistency(template: &ExperimentConfig, activation: &str, seed: Option<u64>) -> ClaimResult {
    let claim = Claim::new(
        "BMA24",
        "ptk.consistency",
        "The AGOP of layer l equals W_lᵀK_lW_l/n (chain rule through the pre-activation tangent kernel)",
        "max over layers of ‖G_l(input gradients) − W_lᵀK_lW_l/n‖_F / ‖G_l‖_F",
    )
    .id_param("activation", activation);
    let exp = match instantiate(template, seed.unwrap_or(template.seed), Some(activation)) {
        Ok(e) => e,
        Err(e) => return claim.failed(Some(0.0), e),
    };
    let claim = claim
        .param("widths", exp.widths.clone())
        .param("n", exp.data.samples())
        .param("seed", exp.seed);
    let prepared = match experiment::prepare(&exp) {
        Ok(p) => p,
        Err(e) => return claim.failed(Some(0.0), e.to_string()),
    };
    let (arch, params, x) = (
        exp.architecture(),
        &prepared.init.weights,
        prepared.data.x.as_ref(),
    );
    let both = tangents(&arch, params, x, 16)
        .and_then(|t| Ok((t, mlp::agop_from_input_gradients(&arch, params, x, 16)?)));
    match both {
        Err(e) => claim.failed(Some(0.0), e.to_string()),
        Ok((t, from_gradients)) => {
            let per_layer: Vec<f64> = (0..arch.depth())
                .map(|l| (&t.agop[l] - &from_gradients[l]).norm_l2() / from_gradients[l].norm_l2())
                .collect();
            let worst = per_layer.iter().copied().fold(0.0, f64::max);
            claim
                .details(Details::new().with_list("relerr_per_layer", per_layer))
                .check(
                    0.0,
                    worst,
                    CONSISTENCY_TOL,
                    Comparison::Absolute,
                    "two associations of the same products: ~d·ε_mach",
                )
        }
    }
}

/// The experiment of one training run: a bias-free ReLU MLP, He init
/// (σ = √2), minibatch SGD, checkpoints at the fixture's epochs of
/// `⌈n/batch_size⌉` updates.
fn training_experiment(
    t: &Training,
    data: TrainingData,
    mode: Mode,
    seed: u64,
) -> Result<Experiment, experiment::ConfigError> {
    let (samples, data_config) = match data {
        TrainingData::Digits => {
            let samples = t.digits_samples.get(mode);
            let data = DataConfig::Digits {
                samples: Some(samples),
                noise: 0.0,
                target: DigitsTarget::OneHot,
            };
            (samples, data)
        }
        TrainingData::Synthetic => {
            let samples = t.synthetic_samples.get(mode);
            let data = DataConfig::Teacher {
                samples,
                input_dim: t.synthetic_input_dim,
                outputs: t.synthetic_outputs,
                teacher_rank: None,
                noise: 0.0,
                anisotropy: 0.0,
                target: TeacherTarget::ArgmaxOneHot,
            };
            (samples, data)
        }
    };
    let steps_per_epoch = samples.div_ceil(t.batch_size);
    ExperimentConfig {
        name: Some(format!("bma24_training_{}", data.name())),
        seed,
        data: data_config,
        network: NetworkConfig {
            depth: t.depth,
            width: Some(t.width.get(mode)),
            hidden: None,
            activation: Some(Activation::Relu.name().to_owned()),
            biases: false,
        },
        init: InitConfig::Gaussian {
            sigma: Some(std::f64::consts::SQRT_2),
            sigmas: None,
        },
        dynamics: DynamicsConfig::Sgd {
            learning_rate: t.learning_rate.get(mode),
            weight_decay: 0.0,
            batch_size: t.batch_size,
        },
        checkpoints: CheckpointConfig::Steps {
            steps: t
                .epochs
                .get(mode)
                .iter()
                .map(|e| e * steps_per_epoch)
                .collect(),
        },
    }
    .validate()
}

fn train_and_measure(
    t: &Training,
    data: TrainingData,
    mode: Mode,
    seed: u64,
) -> Result<Vec<LayerSeries>, String> {
    let exp = training_experiment(t, data, mode, seed).map_err(|e| format!("config: {e}"))?;
    let (prepared, traj) = experiment::run(&exp).map_err(|e| e.to_string())?;
    let (arch, x, init) = (
        exp.architecture(),
        prepared.data.x.as_ref(),
        &prepared.init.weights,
    );
    traj.snapshots
        .iter()
        .map(|s| -> Result<LayerSeries, String> {
            let p = &s.weights;
            let tan = tangents(&arch, p, x, 256).map_err(|e| e.to_string())?;
            Ok((0..t.depth - 1)
                .map(|l| {
                    let (w, w0, k) = (p[l].as_ref(), init[l].as_ref(), tan.ptk[l].as_ref());
                    [
                        uc_nfa(Similarity::Pearson, w, k).ok(),
                        c_nfa(Similarity::Pearson, w, w0, k).ok(),
                        c_nfa(Similarity::Cosine, w, w0, k).ok(),
                        Some((p[l].as_ref().to_owned() - w0).norm_l2() / p[l].norm_l2()),
                        singular_alignment(w, k).ok(),
                    ]
                })
                .collect())
        })
        .collect()
}

const NAMES: [&str; 5] = [
    "UC-NFA (pearson)",
    "C-NFA (pearson)",
    "C-NFA (cosine)",
    "‖ΔW_l‖/‖W_l‖",
    "cos(U_rᵀK_lU_r, I)",
];

fn training_claims(
    t: &Training,
    options: &RunOptions,
    runs: &[(TrainingData, Result<Vec<LayerSeries>, String>)],
) -> Vec<ClaimResult> {
    let (width, learning_rate, epochs) = (
        t.width.get(options.mode),
        t.learning_rate.get(options.mode),
        t.epochs.get(options.mode),
    );
    let seeds = crate::study_seeds(&t.seeds, options.seed);
    let mut out = Vec::new();
    for data in TrainingData::ALL {
        let name = data.name();
        let samples = match data {
            TrainingData::Digits => t.digits_samples.get(options.mode),
            TrainingData::Synthetic => t.synthetic_samples.get(options.mode),
        };
        let mine: Vec<&Result<_, String>> = runs
            .iter()
            .filter(|(d, _)| *d == data)
            .map(|(_, r)| r)
            .collect();
        for l in 0..t.depth - 1 {
            let base = |key: &'static str, statement: &str, convention: &str| {
                Claim::new("BMA24", key, statement, convention)
                    .id_param("data", name)
                    .id_param("layer", l + 1)
                    .param("depth", t.depth)
                    .param("width", width)
                    .param("learning_rate", learning_rate)
                    .param("batch_size", t.batch_size)
                    .param("n", samples)
                    .param("seeds", seeds.clone())
                    .param("epochs", epochs.clone())
            };
            let uc = base(
                "nfa.uc_vs_c",
                "BMA24: the centred NFA (alignment of the weight updates with the PTK) is high early in training and the uncentred NFA develops with it",
                "Pearson, α = 1 (BMA24's code); cosine as an extra column; final epoch, mean ± spread over seeds",
            );
            let sa = base(
                "nfa.singular_alignment",
                "BMA24: the NFA is equivalent to the PTK being proportional to the identity in the left singular basis of W_l",
                "cos(U_rᵀK_lU_r, I_r) at the final epoch beside the UC-NFA",
            );
            if let Some(e) = mine.iter().find_map(|r| r.as_ref().err()) {
                out.push(uc.failed(None, e.clone()));
                out.push(sa.failed(None, e.clone()));
                continue;
            }
            let ok: Vec<&Vec<LayerSeries>> = mine.iter().filter_map(|r| r.as_ref().ok()).collect();
            let at = |checkpoint: usize, q: usize| -> Vec<f64> {
                ok.iter().filter_map(|s| s[checkpoint][l][q]).collect()
            };
            let last = epochs.len() - 1;
            let column = |q: usize| Summary::over_seeds(NAMES[q], &at(last, q));
            let x: Vec<f64> = epochs.iter().map(|&e| e as f64).collect();
            let mut uc_details = Details::new()
                .with_column(column(0))
                .with_column(column(1))
                .with_column(column(2))
                .with_column(column(3));
            for (q, name) in NAMES.iter().enumerate() {
                let points: Vec<Summary> = (0..epochs.len())
                    .map(|c| Summary::over_seeds(name, &at(c, q)))
                    .collect();
                uc_details = uc_details.with_series(
                    Series::new(name, "epoch", x.clone(), points.iter().map(|p| p.mean))
                        .with_spread(points.iter().map(|p| p.spread)),
                );
            }
            out.push(uc.details(uc_details).info(
                None,
                "no theorem: measured beside BMA24's qualitative claim",
            ));
            out.push(
                sa.details(Details::new().with_column(column(4)).with_column(column(0)))
                    .info(None, "no theorem: measured beside BMA24's equivalence"),
            );
        }
    }
    out
}

/// One step of GD changes ΔW and K_l by O(η) relative; the prediction is
/// the η → 0 limit, so 1e-2 holds for η = 1e-3 with two orders of
/// magnitude to spare.
const EARLY_TOL: f64 = 1e-2;

/// `pearson(X_lᵀ(rrᵀ⊙Q)X_l, X_lᵀ(rrᵀ⊙Q²)X_l)` per hidden layer, formed
/// explicitly from `Q = GᵀG` over (output, sample) pairs at init (SPEC §4,
/// reconstruction), and the C-NFA after the experiment's one GD step. Every
/// activation backpropagates through the samples ([`MlpObjective`]; the
/// identity too, without the statistics of a deep linear network), as the
/// prediction's pre-activation gradients do.
fn early_pairs(template: &ExperimentConfig, activation: &str, seed: u64) -> EarlyPairs {
    let exp = instantiate(template, seed, Some(activation))?;
    let mut prepared = experiment::prepare(&exp).map_err(|e| e.to_string())?;
    prepared.stats = None;
    let traj = run_prepared(&exp, &prepared).map_err(|e| e.to_string())?;
    let after = &traj.snapshots.last().ok_or("no checkpoint")?.weights;
    let (arch, init) = (exp.architecture(), &prepared.init.weights);
    let (x, y) = (&prepared.data.x, &prepared.data.y);
    let fwd = mlp::forward(&arch, init, x.as_ref(), Par::Seq).map_err(|err| err.to_string())?;
    let grads = mlp::pre_activation_gradients(&arch, init, x.as_ref(), Par::Seq)
        .map_err(|err| err.to_string())?;
    let (n, c) = (x.nrows(), y.ncols());
    // Residuals r_{(c,i)} in the row order of the stacked gradients.
    let r: Vec<f64> = (0..c * n)
        .map(|k| fwd.output()[(k % n, k / n)] - y[(k % n, k / n)])
        .collect();
    let tan = tangents(&arch, after, x.as_ref(), 64).map_err(|err| err.to_string())?;
    (0..arch.depth() - 1)
        .map(|l| {
            let s = &grads[l];
            let q = s * s.transpose();
            let q2 = &q * &q;
            let xl = if l == 0 {
                x.clone()
            } else {
                fwd.post[l - 1].clone()
            };
            let xrep = Mat::from_fn(c * n, xl.ncols(), |k, j| xl[(k % n, j)]);
            let weighted =
                |m: &Mat<f64>| Mat::from_fn(c * n, c * n, |a, b| r[a] * r[b] * m[(a, b)]);
            let m1 = xrep.transpose() * weighted(&q) * &xrep;
            let m2 = xrep.transpose() * weighted(&q2) * &xrep;
            let predicted = metrics::similarity(Similarity::Pearson, m2.as_ref(), m1.as_ref())
                .map_err(|err| err.to_string())?;
            let actual = c_nfa(
                Similarity::Pearson,
                after[l].as_ref(),
                init[l].as_ref(),
                tan.ptk[l].as_ref(),
            )
            .map_err(|err| err.to_string())?;
            Ok((predicted, actual))
        })
        .collect()
}

fn early_claims(
    e: &Early,
    activation: &str,
    seed: Option<u64>,
    runs: &[EarlyPairs],
) -> Vec<ClaimResult> {
    let seeds: Vec<u64> = crate::study_seeds(&e.seeds, seed);
    let hidden = e.experiment.network.depth.saturating_sub(1);
    (0..hidden)
        .map(|l| {
            let claim = Claim::new(
                "BMA24",
                "early.prediction",
                "Reconstruction of BMA24's early-time prediction: after one small GD step the C-NFA equals pearson(X_lᵀ(rrᵀ⊙Q)X_l, X_lᵀ(rrᵀ⊙Q²)X_l) from init statistics (= 1 for a linear network with one output)",
                "C-NFA (Pearson) after one GD step vs the prediction; worst seed",
            )
            .id_param("activation", activation)
            .id_param("layer", l + 1)
            .param("seeds", seeds.clone())
            .param("learning_rate", e.experiment.dynamics.learning_rate());
            if let Some(err) = runs.iter().find_map(|r| r.as_ref().err()) {
                return claim.failed(None, err.clone());
            }
            let pairs: Vec<(f64, f64)> = runs.iter().filter_map(|r| r.as_ref().ok()).map(|v| v[l]).collect();
            let Some(worst) = pairs
                .iter()
                .copied()
                .max_by(|a, b| (a.0 - a.1).abs().total_cmp(&(b.0 - b.1).abs()))
            else {
                return claim.failed(None, "no seeds");
            };
            claim
                .details(
                    Details::new()
                        .with_list("predicted_per_seed", pairs.iter().map(|p| p.0))
                        .with_list("after_one_step_per_seed", pairs.iter().map(|p| p.1)),
                )
                .check(worst.0, worst.1, EARLY_TOL, Comparison::Absolute, "O(η) change of ΔW and K_l in one step of η = 1e-3")
        })
        .collect()
}

/// Train by full-batch GD with the experiment's step size η and number of
/// updates, except that layer `s.layer` steps by `speed·∇/‖∇‖` instead of
/// `η∇`. Returns the final parameters.
fn train_speed_limited(
    exp: &Experiment,
    prepared: &Prepared,
    s: &Slo,
) -> Result<Vec<Mat<f64>>, String> {
    use optim::Objective;
    let learning_rate = match s.experiment.dynamics {
        DynamicsConfig::Gd {
            learning_rate,
            weight_decay: 0.0,
        } => learning_rate,
        _ => return Err("slo.experiment.dynamics: the speed limit replaces plain GD steps: kind = \"gd\" without weight decay".into()),
    };
    let (x, y) = (prepared.data.x.as_ref(), prepared.data.y.as_ref());
    let mut objective = MlpObjective::new(exp.architecture(), x, y).map_err(|e| e.to_string())?;
    let init = experiment::initial_params(exp, prepared);
    let mut params = init.clone();
    let mut grad = optim::params::zeros_like(&init);
    for step in 0..exp.updates().unwrap_or(0) {
        let loss = objective.loss_and_gradient(&params, &mut grad);
        if !loss.is_finite() {
            return Err(format!("diverged at step {step}"));
        }
        for (l, (p, g)) in params.iter_mut().zip(&grad).enumerate() {
            let scale = if l + 1 == s.layer {
                s.speed / g.norm_l2().max(f64::MIN_POSITIVE)
            } else {
                learning_rate
            };
            *p -= g * faer::Scale(scale);
        }
    }
    Ok(params)
}

/// Fraction of rows whose arg-max output differs from the arg-max target.
fn classification_error(
    arch: &Architecture,
    params: &[Mat<f64>],
    test: &Dataset,
) -> Result<f64, String> {
    let f = mlp::forward(arch, params, test.x.as_ref(), Par::Seq).map_err(|e| e.to_string())?;
    let argmax = |m: &Mat<f64>, i: usize| {
        (0..m.ncols())
            .max_by(|&a, &b| m[(i, a)].total_cmp(&m[(i, b)]))
            .unwrap_or(0)
    };
    let wrong = (0..test.x.nrows())
        .filter(|&i| argmax(f.output(), i) != argmax(&test.y, i))
        .count();
    Ok(wrong as f64 / test.x.nrows() as f64)
}

/// One run of slo.intervention: the experiment trained on its first
/// `train_samples` rows, by plain GD ([`run_prepared`]) or with the speed
/// limit; the chosen layer's UC-NFA and the error on the held-out rows.
fn slo_run(s: &Slo, speed_limited: bool, seed: u64) -> Result<SloRun, String> {
    let exp = instantiate(&s.experiment, seed, None)?;
    let mut prepared = experiment::prepare(&exp).map_err(|e| e.to_string())?;
    let (n, total) = (s.train_samples, prepared.data.len());
    if n == 0 || n >= total {
        return Err(format!(
            "slo.train_samples: must leave held-out rows of the {total} samples, got {n}"
        ));
    }
    let rows = |d: &Dataset, start: usize, count: usize| Dataset {
        x: d.x.subrows(start, count).to_owned(),
        y: d.y.subrows(start, count).to_owned(),
    };
    let test = rows(&prepared.data, n, total - n);
    prepared.data = rows(&prepared.data, 0, n);
    let p = if speed_limited {
        train_speed_limited(&exp, &prepared, s)?
    } else {
        let mut traj = run_prepared(&exp, &prepared).map_err(|e| e.to_string())?;
        traj.snapshots.pop().ok_or("no checkpoint")?.weights
    };
    let arch = exp.architecture();
    let l = s.layer - 1;
    let tan = tangents(&arch, &p, prepared.data.x.as_ref(), 256).map_err(|e| e.to_string())?;
    Ok(SloRun {
        uc_nfa: uc_nfa(Similarity::Pearson, p[l].as_ref(), tan.ptk[l].as_ref())
            .map_err(|e| e.to_string())?,
        test_error: classification_error(&arch, &p, &test)?,
    })
}

fn slo_claim(
    s: &Slo,
    seed: Option<u64>,
    plain: Vec<Result<SloRun, String>>,
    limited: Vec<Result<SloRun, String>>,
) -> ClaimResult {
    let seeds: Vec<u64> = crate::study_seeds(&s.seeds, seed);
    let claim = Claim::new(
        "BMA24",
        "slo.intervention",
        "Reconstruction of BMA24's speed-limited optimisation: a normalised, speed-limited step on one layer raises its NFA correlation and improves the learned features",
        "UC-NFA (Pearson, α = 1) of the chosen layer and held-out classification error, plain GD vs speed-limited layer; mean ± spread over seeds",
    )
    .id_param("data", "digits")
    .id_param("layer", s.layer)
    .param("seeds", seeds)
    .param("speed", s.speed)
    .param("learning_rate", s.experiment.dynamics.learning_rate())
    .param(
        "steps",
        s.experiment.validate().ok().and_then(|e| e.updates()),
    );
    // Per seed: UC-NFA plain, speed-limited; test error plain, speed-limited.
    let mut ok: Vec<[f64; 4]> = Vec::new();
    for (a, b) in plain.into_iter().zip(limited) {
        match (a, b) {
            (Ok(a), Ok(b)) => ok.push([a.uc_nfa, b.uc_nfa, a.test_error, b.test_error]),
            (Err(e), _) | (_, Err(e)) => return claim.failed(None, e),
        }
    }
    let names = [
        "UC-NFA, plain GD",
        "UC-NFA, speed-limited",
        "test error, plain GD",
        "test error, speed-limited",
    ];
    let summary = (0..4).fold(Details::new(), |d, q| {
        d.with_column(Summary::over_seeds(
            names[q],
            &ok.iter().map(|o| o[q]).collect::<Vec<_>>(),
        ))
    });
    let gain = ok.iter().map(|o| o[1] - o[0]).sum::<f64>() / ok.len() as f64;
    claim.details(summary).info(
        Some(gain),
        "no theorem (reconstruction); measured = mean UC-NFA gain of the speed-limited layer",
    )
}
