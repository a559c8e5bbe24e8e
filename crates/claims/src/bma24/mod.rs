//! Claims of BMA24 (Beaglehole, Mitliagkas, Agarwala, *Feature learning as
//! alignment*, TMLR 2024), SPEC §4.
//!
//! * `ptk.consistency`: the AGOP of every layer computed from per-sample
//!   input gradients equals `W_lᵀK_lW_l/n` (chain rule), to 1e-12 relative.
//! * `nfa.uc_vs_c`: UC-NFA and C-NFA (Pearson, α = 1, BMA24's code; cosine
//!   as an extra column) per hidden layer of a bias-free ReLU MLP trained by
//!   minibatch SGD, with `‖ΔW_l‖/‖W_l‖`, in two regimes: `early`, He init
//!   and a small step for the first epochs, on digits and on a synthetic
//!   task; `code`, the setting of BMA24's public code on digits (SPEC §8:
//!   five hidden layers of width 256, PyTorch's default init, SGD with
//!   batch 128, a warm-up epoch, 150 epochs; the learning rate converted to
//!   our loss by [`pytorch_step`]). Per layer an `info` row carries the
//!   series; BMA24's statement ("the C-NFA is high early in training and
//!   the UC-NFA develops with it") is judged over seeds (SPEC §8) as two
//!   effects per seed: `quantity=uc_gain`, the UC-NFA at the last epoch
//!   minus at the first, and `quantity=c_above_uc`, C-NFA − UC-NFA at the
//!   first checkpoint where `ΔW ≠ 0` (both positive in the paper's
//!   direction).
//! * `nfa.singular_alignment`: `cosine(U_rᵀK_lU_r, I_r)` for the left
//!   singular vectors of `W_l`, reported next to the NFA values.
//! * `early.prediction` (a reconstruction, labelled so): for one small GD
//!   step, `ΔW_l ∝ G diag(r) X_l` with `G` the pre-activation gradients and r
//!   the residuals, so the C-NFA is
//!   `pearson(X_lᵀ(rrᵀ⊙Q)X_l, X_lᵀ(rrᵀ⊙Q²)X_l)`, `Q = GᵀG` (= 1 for linear
//!   φ and one output); checked against one actual step.
//! * `slo.intervention` (a reconstruction, labelled so: SPEC §4), in the
//!   regime of BMA24's code: after the same warm-up epoch, one hidden weight
//!   matrix takes SGD steps of fixed length `speed·d/‖d‖_F`
//!   (`kind = "speed_limited"`), the others the code's plain SGD steps, on
//!   the same init and batch order as the plain run of `nfa.uc_vs_c`. Judged
//!   over paired seeds (SPEC §8) as two effects: `quantity=uc_gain`, the
//!   layer's UC-NFA at the last epoch with the rule minus without it, and
//!   `quantity=error_drop`, the held-out classification error without the
//!   rule minus with it (both positive in the paper's direction).
//!
//! The code regime draws the digits in a seeded order (the split varies
//! with the seed), trains on the first `samples − held_out` and keeps the
//! last `held_out` for the test error, with the pixels standardised by the
//! training rows' statistics only (the code trains on a training split and
//! reports test accuracy).
//!
//! Units: `consistency,activation=…` (one claim each),
//! `training,data=digits|synthetic,seed=…`,
//! `training,data=digits,regime=code,seed=…`, `early,activation=…,seed=…` and
//! `slo,regime=code,seed=…`; the claims over seeds are concluded from the
//! seeds' measurements. Every network is an experiment
//! ([`experiment::prepare`], [`experiment::run::run_prepared`]).

mod consistency;
mod conv;
mod early;
mod figures;
mod slo;
mod training;

use crate::claim::Claim;
use consistency::consistency;
pub use conv::Conv;
use conv::{conv_cost, conv_run};
use early::{early_claims, early_pairs};
use slo::slo_claims;
use training::{
    NFA_STATEMENT, Setting, code_experiment, code_run, plain_sgd, train_and_measure,
    training_claims, training_experiment,
};

use datasets::Dataset;
use experiment::config::SECONDS_PER_SAMPLE_WEIGHT;
use experiment::{Experiment, ExperimentConfig};
use faer::{Mat, Par};
use networks::{Activation, Architecture};
use serde::{Deserialize, Serialize};

use crate::PerMode;
use crate::UnitError;
use crate::study::{Planned, Study};
use crate::{ClaimResult, Family, Mode, RunOptions};

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../../fixtures/claims/bma24.toml");

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
    /// `[code]`.
    pub code: Code,
    /// `[early]`.
    pub early: Early,
    /// `[slo]`.
    pub slo: Slo,
    /// `[conv]`.
    pub conv: Conv,
}

/// `[slo]`: the speed-limited rule in the regime of `[code]` (its seeds,
/// network, data split, warm-up and epochs).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// The speed-limited weight matrix `W_layer` (1-based, a hidden layer).
    pub layer: usize,
    /// Its step length per SGD step, `‖ΔW_layer‖_F` (per mode).
    pub speed: PerMode<f64>,
}

/// `[early]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Early {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Activations, by their `networks::Activation` names.
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
    /// Seeds (per mode).
    pub seeds: PerMode<Vec<u64>>,
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

/// `[code]`: the regime of BMA24's public code (SPEC §8) on digits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Depth L (hidden layers + readout).
    pub depth: usize,
    /// Hidden width (per mode).
    pub width: PerMode<usize>,
    /// Minibatch size.
    pub batch_size: usize,
    /// The code's learning rate under PyTorch's `nn.MSELoss()`, before its
    /// factor C/10 ([`pytorch_step`]).
    pub pytorch_learning_rate: f64,
    /// The code's learning rate of the warm-up epoch.
    pub pytorch_warmup_learning_rate: f64,
    /// Checkpoint epochs after the warm-up epoch (per mode).
    pub epochs: PerMode<Vec<usize>>,
    /// Digits samples (per mode), in a seeded order: the first
    /// `samples − held_out` train, the last `held_out` measure the test
    /// error.
    pub samples: PerMode<usize>,
    /// Held-out digits (per mode).
    pub held_out: PerMode<usize>,
}

/// Our step for a PyTorch learning rate `lr` on `nn.MSELoss()`, the mean
/// of `(f − y)²` over the batch and the C outputs, whose gradient is `2/C`
/// times that of our `1/(2B)‖F − Y‖²`: `η = lr · 2/C` (the step of
/// BMA24's `Conv/main.py`).
pub fn mse_step(lr: f64, classes: usize) -> f64 {
    lr * 2.0 / classes as f64
}

/// Our SGD step for the learning rate `lr` of BMA24's `MLP/main.py`, which
/// multiplies it by C/10 before [`mse_step`]: `η = lr/5` for every C.
pub fn pytorch_step(lr: f64, classes: usize) -> f64 {
    mse_step(lr * classes as f64 / 10.0, classes)
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

/// The two training regimes of the NFA study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Regime {
    /// `[training]`: He init, a small step, the first epochs.
    Early,
    /// `[code]`: BMA24's public code, 150 epochs after a warm-up epoch.
    Code,
    /// `[conv]`: BMA24's `Conv/` code, reconstructed on 8×8 digits.
    Conv,
}

impl Regime {
    fn name(self) -> &'static str {
        match self {
            Regime::Early => "early",
            Regime::Code => "code",
            Regime::Conv => "conv",
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
    /// One run of nfa.uc_vs_c in the regime of BMA24's code (digits).
    Code { seed: u64 },
    /// One seed of early.prediction for one activation.
    Early { activation: String, seed: u64 },
    /// The speed-limited run of slo.intervention in the code's regime (its
    /// plain run is the `Code` unit of the same seed).
    Slo { seed: u64 },
    /// One run of nfa.uc_vs_c in the regime of BMA24's `Conv/` code.
    Conv { seed: u64 },
}

impl Point {
    fn name(&self) -> String {
        match self {
            Point::Consistency { activation } => format!("consistency,activation={activation}"),
            Point::Training { data, seed } => {
                format!("training,data={},seed={seed}", data.name())
            }
            Point::Code { seed } => format!("training,data=digits,regime=code,seed={seed}"),
            Point::Early { activation, seed } => {
                format!("early,activation={activation},seed={seed}")
            }
            Point::Slo { seed } => format!("slo,regime=code,seed={seed}"),
            Point::Conv { seed } => format!("training,data=digits,regime=conv,seed={seed}"),
        }
    }
}

/// Per checkpoint and hidden layer: UC (pearson), C (pearson), C (cosine),
/// ‖ΔW‖/‖W‖, singular alignment.
type LayerSeries = Vec<[Option<f64>; 6]>;

/// One seed of early.prediction: per hidden layer, the prediction and the
/// C-NFA after one step.
type EarlyPairs = Result<Vec<(f64, f64)>, UnitError>;

/// One run in the code's regime: its series (per checkpoint and hidden
/// layer) and the held-out classification error at the end.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CodeRun {
    series: Vec<LayerSeries>,
    test_error: f64,
}

/// A unit's result, with the part of its point that groups it.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Measured {
    Consistency(Box<ClaimResult>),
    Training {
        data: TrainingData,
        run: Result<Vec<LayerSeries>, UnitError>,
    },
    Code(Result<CodeRun, UnitError>),
    Early {
        activation: String,
        pairs: EarlyPairs,
    },
    Slo(Result<CodeRun, UnitError>),
    Conv(Result<Vec<LayerSeries>, UnitError>),
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
                seeds(&cfg.training.seeds.get(options.mode))
                    .into_iter()
                    .map(|seed| Point::Training { data, seed }),
            );
        }
        points.extend(
            seeds(&cfg.code.seeds)
                .into_iter()
                .map(|seed| Point::Code { seed }),
        );
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
        points.extend(
            seeds(&cfg.code.seeds)
                .into_iter()
                .map(|seed| Point::Slo { seed }),
        );
        points.extend(
            seeds(&cfg.conv.seeds)
                .into_iter()
                .map(|seed| Point::Conv { seed }),
        );
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
            &Point::Code { seed } => Measured::Code(code_run(&cfg.code, None, options.mode, seed)),
            Point::Early { activation, seed } => Measured::Early {
                activation: activation.clone(),
                pairs: early_pairs(&cfg.early.experiment, activation, *seed),
            },
            &Point::Slo { seed } => {
                Measured::Slo(code_run(&cfg.code, Some(&cfg.slo), options.mode, seed))
            }
            &Point::Conv { seed } => Measured::Conv(conv_run(&cfg.conv, options.mode, seed)),
        }
    }

    fn conclude(
        &self,
        cfg: &Config,
        options: &RunOptions,
        measured: Vec<(Point, Measured)>,
    ) -> Vec<ClaimResult> {
        let mut out = Vec::new();
        let mut training: Vec<(TrainingData, Result<Vec<LayerSeries>, UnitError>)> = Vec::new();
        let mut code = Vec::new();
        let mut early: Vec<(String, Vec<EarlyPairs>)> = Vec::new();
        let (mut plain, mut limited, mut conv) = (Vec::new(), Vec::new(), Vec::new());
        for (_, m) in measured {
            match m {
                Measured::Consistency(claim) => out.push(*claim),
                Measured::Training { data, run } => training.push((data, run)),
                Measured::Code(run) => {
                    code.push((TrainingData::Digits, run.clone().map(|r| r.series)));
                    plain.push(run);
                }
                Measured::Early { activation, pairs } => match early.last_mut() {
                    Some((a, runs)) if *a == activation => runs.push(pairs),
                    _ => early.push((activation, vec![pairs])),
                },
                Measured::Slo(run) => limited.push(run),
                Measured::Conv(run) => conv.push((TrainingData::Digits, run)),
            }
        }
        out.extend(training_claims(
            &Setting::early(&cfg.training, options),
            &training,
        ));
        out.extend(training_claims(&Setting::code(&cfg.code, options), &code));
        match Setting::conv(&cfg.conv, options) {
            Ok(setting) => out.extend(training_claims(&setting, &conv)),
            Err(e) => out.push(
                Claim::new(
                    "BMA24",
                    "nfa.uc_vs_c",
                    NFA_STATEMENT,
                    "the conv regime's network",
                )
                .id_param("regime", Regime::Conv.name())
                .failed(None, e),
            ),
        }
        for (activation, runs) in &early {
            out.extend(early_claims(&cfg.early, activation, options.seed, runs));
        }
        out.extend(slo_claims(
            &cfg.slo,
            (
                cfg.slo.speed.get(options.mode),
                cfg.code.held_out.get(options.mode),
            ),
            &Setting::code(&cfg.code, options),
            &plain,
            &limited,
        ));
        out
    }

    fn figures(
        &self,
        cfg: &Config,
        options: &RunOptions,
        claims: &[ClaimResult],
    ) -> Vec<figure::Declared> {
        let settings = [
            Setting::early(&cfg.training, options),
            Setting::code(&cfg.code, options),
        ];
        let cells: Vec<(&str, &str)> = settings
            .iter()
            .flat_map(|s| s.data.iter().map(|(d, _)| (d.name(), s.regime.name())))
            .collect();
        figures::nfa(claims, &cells)
    }
}

/// Estimated seconds of a unit: sample-passes × weights × the experiment
/// model's [`SECONDS_PER_SAMPLE_WEIGHT`], where a training step passes its
/// batch and the measurement of a checkpoint (per-sample tangents, PTK,
/// AGOP) about `MEASURE_PASSES` passes of the full data set. Measured in
/// the full report: a digits training unit (150 steps × 128 samples, 5
/// measured checkpoints of 1797 samples, 215552 weights) 3.2–5.2 s,
/// estimated 2.8 s.
fn cost(cfg: &Config, mode: Mode, point: &Point) -> f64 {
    /// Full-data passes of one measurement, relative to a gradient.
    const MEASURE_PASSES: usize = 10;
    let passes_of = |exp: &Experiment, batch: usize, measured: usize| {
        let weights = exp.weight_count();
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
        Point::Code { seed } | Point::Slo { seed } => {
            let c = &cfg.code;
            let dynamics = plain_sgd(c, c.pytorch_learning_rate);
            code_experiment(c, mode, *seed, dynamics, vec![0]).map(|e| {
                let epochs = c.epochs.get(mode);
                let train = c.samples.get(mode).saturating_sub(c.held_out.get(mode));
                let steps =
                    (1 + epochs.last().copied().unwrap_or(0)) * train.div_ceil(c.batch_size);
                // The speed-limited run is measured at its last epoch only.
                let measured = match point {
                    Point::Slo { .. } => 1,
                    _ => epochs.len(),
                };
                let weights = e.weight_count();
                let passes = steps * c.batch_size + measured * MEASURE_PASSES * train;
                (passes * weights) as f64 * SECONDS_PER_SAMPLE_WEIGHT
            })
        }
        Point::Early { .. } => cfg.early.experiment.validate().map(|e| passes_of(&e, 0, 2)),
        Point::Conv { .. } => Ok(conv_cost(&cfg.conv, mode)),
    };
    // An invalid configuration fails before any work.
    estimate.unwrap_or(0.0)
}

/// A fixture experiment with its seed replaced and, when given, its
/// activation.
fn instantiate(
    template: &ExperimentConfig,
    seed: u64,
    activation: Option<&str>,
) -> Result<Experiment, UnitError> {
    let mut cfg = template.clone();
    cfg.seed = seed;
    if let Some(a) = activation {
        cfg.network.activation = Some(a.to_owned());
    }
    cfg.validate()
        .map_err(|e| UnitError::new(format!("config: {e}")))
}

/// δ of every NFA-correlation effect of this family.
const NFA_DELTA: f64 = 0.02;

/// Why δ = 0.02.
const NFA_DELTA_REASON: &str = "0.02 in Pearson correlation: about the width of the lines of BMA24's NFA-correlation curves, below which their figures could not show a difference";

/// Fraction of rows whose arg-max output differs from the arg-max target.
fn classification_error(
    arch: &Architecture,
    params: &[Mat<f64>],
    test: &Dataset,
) -> Result<f64, UnitError> {
    let f = networks::forward(arch, params, test.x.as_ref(), Par::Seq)?;
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
