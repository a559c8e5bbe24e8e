//! BMA24's training studies (`nfa.uc_vs_c`, `nfa.singular_alignment`): UC-NFA
//! and C-NFA per layer over training, in the early and the code regime.

use datasets::Dataset;
use experiment::config::{
    CheckpointConfig, DataConfig, DigitsTarget, DynamicsConfig, InitConfig, NetworkConfig,
    SpeedLimitedConfig, TeacherTarget,
};
use experiment::run::run_prepared;
use experiment::{Experiment, ExperimentConfig};
use faer::Mat;
use metrics::Similarity;
use networks::ptk_nfa::{c_nfa, singular_alignment, uc_nfa};
use networks::sequential::tangents::sequential_ptk;
use networks::{Activation, Sequential, tangents};

use super::{
    Code, CodeRun, LayerSeries, NFA_DELTA, NFA_DELTA_REASON, Regime, Slo, Training, TrainingData,
    classification_error, pytorch_step,
};
use crate::claim::{Claim, Direction, Statement, Test};
use crate::details::{Details, Series, Summary, interval_text};
use crate::{ClaimResult, Mode, RunOptions, UnitError};

/// The experiment of one training run: a bias-free ReLU MLP, He init
/// (σ = √2), minibatch SGD, checkpoints at the fixture's epochs of
/// `⌈n/batch_size⌉` updates.
pub(super) fn training_experiment(
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
                held_out: 0,
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
                keep_label_norm: false,
            };
            (samples, data)
        }
    };
    let steps_per_epoch = samples.div_ceil(t.batch_size);
    ExperimentConfig {
        name: Some(format!("bma24_training_{}", data.name())),
        seed,
        data: data_config,
        network: NetworkConfig::mlp(t.depth, t.width.get(mode), Activation::Relu, false),
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

pub(super) fn train_and_measure(
    t: &Training,
    data: TrainingData,
    mode: Mode,
    seed: u64,
) -> Result<Vec<LayerSeries>, UnitError> {
    let exp = training_experiment(t, data, mode, seed)
        .map_err(|e| UnitError::new(format!("config: {e}")))?;
    let (prepared, traj) = experiment::run(&exp)?;
    measure(
        &exp.network(),
        &traj.snapshots,
        &prepared.data.x,
        &prepared.init.weights,
    )
}

/// The code's plain SGD at its learning rate `lr` (converted by
/// [`pytorch_step`]).
pub(super) fn plain_sgd(c: &Code, lr: f64) -> DynamicsConfig {
    DynamicsConfig::Sgd {
        learning_rate: pytorch_step(lr, datasets::DIGITS_CLASSES),
        weight_decay: 0.0,
        batch_size: c.batch_size,
    }
}

/// The experiment of one run in the regime of BMA24's code: a bias-free
/// ReLU MLP on digits (one-hot − 1/C), PyTorch's default init, trained by
/// `dynamics` and recorded at `steps`.
pub(super) fn code_experiment(
    c: &Code,
    mode: Mode,
    seed: u64,
    dynamics: DynamicsConfig,
    steps: Vec<usize>,
) -> Result<Experiment, experiment::ConfigError> {
    ExperimentConfig {
        name: Some("bma24_code".to_owned()),
        seed,
        data: DataConfig::Digits {
            samples: Some(c.samples.get(mode)),
            noise: 0.0,
            target: DigitsTarget::OneHot,
            held_out: c.held_out.get(mode),
        },
        network: NetworkConfig::mlp(c.depth, c.width.get(mode), Activation::Relu, false),
        init: InitConfig::Uniform { gain: 1.0 },
        dynamics,
        checkpoints: CheckpointConfig::Steps { steps },
    }
    .validate()
}

/// One run in the regime of BMA24's code on the first `samples − held_out`
/// digits of the seed's order: one warm-up epoch of plain SGD at the converted warm-up rate,
/// then SGD at the converted rate from the warmed weights — plain, or with
/// the speed limit of `slo` — measured at the fixture's epochs after the
/// warm-up (epoch 0: just after it; with `slo`, the last epoch only);
/// `ΔW_l` is taken from the init before the warm-up. The held-out digits
/// give the test error of the final network.
pub(super) fn code_run(
    c: &Code,
    slo: Option<&Slo>,
    mode: Mode,
    seed: u64,
) -> Result<CodeRun, UnitError> {
    let config = |e: experiment::ConfigError| UnitError::new(format!("config: {e}"));
    let (total, held_out) = (c.samples.get(mode), c.held_out.get(mode));
    if held_out == 0 || held_out >= total {
        return Err(UnitError::new(format!(
            "code.held_out: must leave training digits of the {total} samples and hold out at least one, got {held_out}"
        )));
    }
    let train = total - held_out;
    let per_epoch = train.div_ceil(c.batch_size);
    let warm_up = code_experiment(
        c,
        mode,
        seed,
        plain_sgd(c, c.pytorch_warmup_learning_rate),
        vec![0, per_epoch],
    )
    .map_err(config)?;
    let mut prepared = experiment::prepare(&warm_up)?;
    let rows = |d: &Dataset, start: usize, count: usize| Dataset {
        x: d.x.subrows(start, count).to_owned(),
        y: d.y.subrows(start, count).to_owned(),
    };
    let test = rows(&prepared.data, train, held_out);
    prepared.data = rows(&prepared.data, 0, train);
    let init = prepared.init.weights.clone();
    prepared.init.weights = warmed_weights(&warm_up, &prepared)?;
    let epochs = c.epochs.get(mode);
    let (dynamics, measured) = match slo {
        None => (plain_sgd(c, c.pytorch_learning_rate), epochs),
        Some(s) => (
            DynamicsConfig::SpeedLimited(SpeedLimitedConfig {
                learning_rate: pytorch_step(c.pytorch_learning_rate, datasets::DIGITS_CLASSES),
                weight_decay: 0.0,
                speed: s.speed.get(mode),
                layer: s.layer,
                batch_size: Some(c.batch_size),
            }),
            epochs.last().copied().into_iter().collect(),
        ),
    };
    let steps = measured.iter().map(|e| e * per_epoch).collect();
    let exp = code_experiment(c, mode, seed, dynamics, steps).map_err(config)?;
    let traj = run_prepared(&exp, &prepared)?;
    let arch = exp.architecture();
    let last = &traj
        .snapshots
        .last()
        .ok_or_else(|| UnitError::new("no checkpoint"))?
        .weights;
    Ok(CodeRun {
        test_error: classification_error(&arch, last, &test)?,
        series: measure(&exp.network(), &traj.snapshots, &prepared.data.x, &init)?,
    })
}

/// The weights after the warm-up run `warm_up` from `prepared`: its last
/// checkpoint, from which the run proper starts (with a new optimiser).
pub(super) fn warmed_weights(
    warm_up: &Experiment,
    prepared: &experiment::Prepared,
) -> Result<Vec<Mat<f64>>, UnitError> {
    let warmed = run_prepared(warm_up, prepared)?;
    warmed
        .snapshots
        .into_iter()
        .last()
        .map(|s| s.weights)
        .ok_or_else(|| UnitError::new("no checkpoint"))
}

/// Per checkpoint and weight layer before the readout (a hidden layer, or
/// a convolution with its flattened filter bank): UC-NFA and C-NFA
/// (Pearson), C-NFA (cosine), `‖ΔW_l‖/‖W_l‖` and the singular alignment,
/// with `ΔW_l` from `init` and `K_l` the PTK of the current network on `x`.
pub(super) fn measure(
    net: &Sequential,
    snapshots: &[experiment::run::Snapshot],
    x: &Mat<f64>,
    init: &[Mat<f64>],
) -> Result<Vec<LayerSeries>, UnitError> {
    /// Samples per block of the PTK (its unit of parallel work).
    const BLOCK: usize = 256;
    snapshots
        .iter()
        .map(|s| -> Result<LayerSeries, UnitError> {
            let p = &s.weights;
            let ptk = match net.as_mlp() {
                Some(arch) => tangents(&arch, p, x.as_ref(), BLOCK)?.ptk,
                None => sequential_ptk(net, p, x.as_ref(), BLOCK)?,
            };
            Ok((0..ptk.len() - 1)
                .map(|l| {
                    let (w, w0, k) = (p[l].as_ref(), init[l].as_ref(), ptk[l].as_ref());
                    [
                        uc_nfa(Similarity::Pearson, w, k).ok(),
                        c_nfa(Similarity::Pearson, w, w0, k).ok(),
                        c_nfa(Similarity::Cosine, w, w0, k).ok(),
                        Some((p[l].as_ref().to_owned() - w0).norm_l2() / p[l].norm_l2()),
                        singular_alignment(w, k).ok(),
                        uc_nfa(Similarity::Pearson, w0, k).ok(),
                    ]
                })
                .collect())
        })
        .collect()
}

pub(super) const NAMES: [&str; 6] = [
    "UC-NFA (pearson)",
    "C-NFA (pearson)",
    "C-NFA (cosine)",
    "‖ΔW_l‖/‖W_l‖",
    "cos(U_rᵀK_lU_r, I)",
    "UC-NFA of W_0 with K_t (pearson)",
];

/// One regime of the NFA study as its claims report it.
pub(super) struct Setting {
    pub(super) regime: Regime,
    /// The data sets and their n.
    pub(super) data: Vec<(TrainingData, usize)>,
    pub(super) depth: usize,
    /// The hidden width of a fully connected network.
    pub(super) width: Option<usize>,
    pub(super) init: &'static str,
    /// Our SGD step (after the warm-up, for the code's regime).
    pub(super) learning_rate: f64,
    pub(super) batch_size: usize,
    pub(super) epochs: Vec<usize>,
    pub(super) seeds: Vec<u64>,
    /// A sequential (convolutional) network, reported by its layers.
    pub(super) network: Option<Sequential>,
}

impl Setting {
    pub(super) fn early(t: &Training, options: &RunOptions) -> Self {
        let mode = options.mode;
        Setting {
            regime: Regime::Early,
            data: vec![
                (TrainingData::Digits, t.digits_samples.get(mode)),
                (TrainingData::Synthetic, t.synthetic_samples.get(mode)),
            ],
            depth: t.depth,
            width: Some(t.width.get(mode)),
            init: "Gaussian N(0, 2/d_{l−1}) (He)",
            learning_rate: t.learning_rate.get(mode),
            batch_size: t.batch_size,
            epochs: t.epochs.get(mode),
            seeds: crate::study_seeds(&t.seeds.get(options.mode), options.seed),
            network: None,
        }
    }

    pub(super) fn code(c: &Code, options: &RunOptions) -> Self {
        let mode = options.mode;
        Setting {
            regime: Regime::Code,
            data: vec![(
                TrainingData::Digits,
                c.samples.get(mode).saturating_sub(c.held_out.get(mode)),
            )],
            depth: c.depth,
            width: Some(c.width.get(mode)),
            init: "uniform ±1/√d_{l−1} (PyTorch's default)",
            learning_rate: pytorch_step(c.pytorch_learning_rate, datasets::DIGITS_CLASSES),
            batch_size: c.batch_size,
            epochs: c.epochs.get(mode),
            seeds: crate::study_seeds(&c.seeds, options.seed),
            network: None,
        }
    }
}

/// BMA24's statement of the NFA over training.
pub(super) const NFA_STATEMENT: &str = "BMA24: the centred NFA (alignment of the weight updates with the PTK) is high early in training and the uncentred NFA develops with it";

pub(super) fn training_claims(
    setting: &Setting,
    runs: &[(TrainingData, Result<Vec<LayerSeries>, UnitError>)],
) -> Vec<ClaimResult> {
    let epochs = &setting.epochs;
    let mut out = Vec::new();
    for &(data, samples) in &setting.data {
        let name = data.name();
        let mine: Vec<&Result<_, UnitError>> = runs
            .iter()
            .filter(|(d, _)| *d == data)
            .map(|(_, r)| r)
            .collect();
        for l in 0..setting.depth - 1 {
            let base = |key: &'static str, statement: &str, convention: &str| {
                let claim = Claim::new("BMA24", key, statement, convention)
                    .id_param("data", name)
                    .id_param("layer", l + 1)
                    .id_param("regime", setting.regime.name())
                    .param("depth", setting.depth);
                let claim = match (&setting.network, setting.width) {
                    (Some(net), _) => claim
                        .param("input", net.input().to_string())
                        .param(
                            "layers",
                            net.layers()
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>(),
                        )
                        .param("differs_from_code", super::conv::DIFFERS),
                    (None, Some(width)) => claim.param("width", width),
                    (None, None) => claim,
                };
                claim
                    .param("init", setting.init)
                    .param("learning_rate", setting.learning_rate)
                    .param("batch_size", setting.batch_size)
                    .param("n", samples)
                    .param("seeds", setting.seeds.clone())
                    .param("epochs", epochs.clone())
            };
            let uc = base(
                "nfa.uc_vs_c",
                NFA_STATEMENT,
                "Pearson, α = 1 (BMA24's code); cosine as an extra column; final epoch, mean ± spread over seeds",
            );
            let sa = base(
                "nfa.singular_alignment",
                "BMA24: the NFA is equivalent to the PTK being proportional to the identity in the left singular basis of W_l",
                "cos(U_rᵀK_lU_r, I_r) at the final epoch beside the UC-NFA",
            );
            let gain = base(
                "nfa.uc_vs_c",
                NFA_STATEMENT,
                "Pearson, α = 1; effect per seed = UC-NFA at the last epoch − UC-NFA at the first",
            )
            .id_param("quantity", "uc_gain");
            let lead = base(
                "nfa.uc_vs_c",
                NFA_STATEMENT,
                "Pearson, α = 1; effect per seed = C-NFA − UC-NFA at the first checkpoint where ΔW ≠ 0",
            )
            .id_param("quantity", "c_above_uc");
            if let Some(e) = mine.iter().find_map(|r| r.as_ref().err()) {
                for claim in [uc, sa, gain, lead] {
                    out.push(claim.failed(None, e.clone()));
                }
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
                let values: Vec<Vec<f64>> = (0..epochs.len()).map(|c| at(c, q)).collect();
                let points: Vec<Summary> = values
                    .iter()
                    .map(|v| Summary::over_seeds(name, v))
                    .collect();
                uc_details = uc_details.with_series(
                    Series::new(name, "epoch", x.clone(), points.iter().map(|p| p.mean))
                        .with_spread(points.iter().map(|p| p.spread))
                        .with_interval(values.iter().map(Vec::as_slice)),
                );
            }
            out.push(uc.details(uc_details).info(
                None,
                "the data of the rows with `quantity` (judged over seeds) and of the figure",
            ));
            out.push(
                sa.details(Details::new().with_column(column(4)).with_column(column(0)))
                    .info(None, "no theorem: measured beside BMA24's equivalence"),
            );
            // Per seed: the UC-NFA gain, its gain over the frozen-init
            // control UC-NFA(W_0, K_T), and C − UC where ΔW first ≠ 0.
            let gains: Vec<f64> = ok
                .iter()
                .filter_map(|s| Some(s[last][l][0]? - s[0][l][0]?))
                .collect();
            let over_frozen: Vec<f64> = ok
                .iter()
                .filter_map(|s| Some(s[last][l][0]? - s[last][l][5]?))
                .collect();
            let leads: Vec<f64> = ok
                .iter()
                .filter_map(|s| {
                    let k = (0..s.len()).find(|&k| s[k][l][1].is_some())?;
                    Some(s[k][l][1]? - s[k][l][0]?)
                })
                .collect();
            // The mean UC-NFA at the first checkpoint, its lowest mean over
            // the checkpoints and its last.
            let uc_mean = |c: usize| {
                Summary::over_seeds(NAMES[0], &at(c, 0))
                    .mean
                    .unwrap_or(f64::NAN)
            };
            let (uc_first, uc_last) = (uc_mean(0), uc_mean(last));
            let (low_epoch, uc_low) = (0..epochs.len())
                .map(|c| (epochs[c], uc_mean(c)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, f64::NAN));
            let gain_mean = Summary::over_seeds("uc_gain", &gains).mean;
            out.push(
                gain.details(
                    Details::new()
                        .with_statistic(Summary::with_per_seed("uc_gain", &gains))
                        .with_statistic(Summary::with_per_seed(
                            "UC-NFA(W_T, K_T) − UC-NFA(W_0, K_T)",
                            &over_frozen,
                        )),
                )
                .info(
                    gain_mean,
                    format!(
                        "not BMA24's statement (SPEC §8: a random init already correlates W_lᵀK_lW_l with W_lᵀW_l), reported without a verdict: the UC-NFA goes {uc_first:.2} → {uc_last:.2} (first to last measured epoch; lowest {uc_low:.2} at epoch {low_epoch}, so it rises {:+.2} from there); last minus first {} (95 % interval); over the frozen-init control UC-NFA(W_0, K_T) the trained weights add {}",
                        uc_last - uc_low,
                        interval_text(&gains),
                        interval_text(&over_frozen)
                    ),
                ),
            );
            out.push(lead.judge_per_seed(
                "c_minus_uc",
                &leads,
                &Test {
                    statement: &DRIVEN_BY_CENTRED,
                    direction: Direction::Positive,
                    delta: NFA_DELTA,
                    delta_reason: NFA_DELTA_REASON,
                    method: "Student t",
                    resolution: 0.0,
                },
                "the centred NFA of this layer is not above the uncentred one at the first measured epoch in this regime",
            ));
        }
    }
    out
}

/// BMA24's statement that the NFA follows the centred NFA (SPEC §8).
const DRIVEN_BY_CENTRED: Statement = Statement {
    family: "BMA24.nfa.c_above_uc",
    quote: "the NFA is driven by this centered correlation",
    source: "BMA24 (TMLR), abstract",
    differs: "C-NFA − UC-NFA > 0 at the first measured epoch, per layer: the centred correlation leads the uncentred one",
};
