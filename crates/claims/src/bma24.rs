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

use common::seed::{Stream, rng};
use datasets::{DigitsSpec, TeacherSpec};
use faer::{Mat, Par};
use metrics::Similarity;
use mlp::ptk_nfa::{c_nfa, singular_alignment, uc_nfa};
use mlp::{Activation, Architecture, MlpObjective, tangents};
use optim::{Decay, Method, OptimizerParams};
use rayon::prelude::*;
use serde::Deserialize;

use crate::PerMode;
use crate::claim::{Claim, Comparison};
use crate::details::{Details, Series, Summary};
use crate::{ClaimResult, Family, RunOptions};

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
pub const FAMILY: Family = Family::new(
    "BMA24",
    KEYS,
    "bma24.toml",
    FIXTURE,
    &crate::study::WholeFamily {
        run,
        cost: [1.0, 1.0],
    },
);

/// `fixtures/claims/bma24.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[consistency]`.
    pub consistency: Consistency,
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
    /// Training digits.
    pub train_samples: usize,
    /// Held-out digits.
    pub test_samples: usize,
    /// Hidden widths.
    pub widths_hidden: Vec<usize>,
    /// η of the plain steps.
    pub learning_rate: f64,
    /// Step length of the speed-limited layer.
    pub speed: f64,
    /// The speed-limited layer (1-based).
    pub layer: usize,
    /// Full-batch steps.
    pub steps: usize,
}

/// `[early]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Early {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// n.
    pub samples: usize,
    /// d.
    pub input_dim: usize,
    /// C.
    pub outputs: usize,
    /// Hidden widths.
    pub widths_hidden: Vec<usize>,
    /// The small GD step η.
    pub learning_rate: f64,
}

/// `[consistency]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consistency {
    /// Seed.
    pub seed: u64,
    /// n.
    pub samples: usize,
    /// Widths d_0..d_L.
    pub widths: Vec<usize>,
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

/// The two AGOP computations differ only in the association of the same
/// products: agreement to 1e-12 relative (~d·ε_mach per product).
const CONSISTENCY_TOL: f64 = 1e-12;

fn run(options: &RunOptions) -> Vec<ClaimResult> {
    let cfg = match config() {
        Ok(c) => c,
        Err(e) => return crate::fixture_failure("BMA24", KEYS, "bma24.toml", &e),
    };
    // The four studies are independent: run them (and their activations)
    // concurrently, then assemble in report order.
    let ((consistent, training), (early, slo)) = rayon::join(
        || {
            rayon::join(
                || -> Vec<ClaimResult> {
                    Activation::ALL
                        .par_iter()
                        .map(|&a| consistency(&cfg.consistency, a, options.seed))
                        .collect()
                },
                || training_claims(&cfg.training, options),
            )
        },
        || {
            rayon::join(
                || -> Vec<ClaimResult> {
                    [Activation::Relu, Activation::Tanh, Activation::Identity]
                        .par_iter()
                        .flat_map_iter(|&act| early_claims(&cfg.early, act, options.seed))
                        .collect()
                },
                || slo_claim(&cfg.slo, options.seed),
            )
        },
    );
    let mut out = consistent;
    out.extend(training);
    out.extend(early);
    out.push(slo);
    out
}

/// Train by full-batch GD; with `speed`, layer `chosen` (0-based) steps by
/// `speed·∇/‖∇‖` instead of `η∇`. Returns the final parameters.
fn train_slo(
    arch: &Architecture,
    init: &[Mat<f64>],
    x: &Mat<f64>,
    y: &Mat<f64>,
    s: &Slo,
    speed: Option<f64>,
) -> Result<Vec<Mat<f64>>, String> {
    use optim::Objective;
    let mut objective =
        MlpObjective::new(arch.clone(), x.as_ref(), y.as_ref()).map_err(|e| e.to_string())?;
    let mut params = init.to_vec();
    let mut grad = optim::params::zeros_like(init);
    for step in 0..s.steps {
        let loss = objective.loss_and_gradient(&params, &mut grad);
        if !loss.is_finite() {
            return Err(format!("diverged at step {step}"));
        }
        for (l, (p, g)) in params.iter_mut().zip(&grad).enumerate() {
            let scale = match speed {
                Some(v) if l + 1 == s.layer => v / g.norm_l2().max(f64::MIN_POSITIVE),
                _ => s.learning_rate,
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
    x: &Mat<f64>,
    y: &Mat<f64>,
) -> Result<f64, String> {
    let f = mlp::forward(arch, params, x.as_ref(), Par::Seq).map_err(|e| e.to_string())?;
    let argmax = |m: &Mat<f64>, i: usize| {
        (0..m.ncols())
            .max_by(|&a, &b| m[(i, a)].total_cmp(&m[(i, b)]))
            .unwrap_or(0)
    };
    let wrong = (0..x.nrows())
        .filter(|&i| argmax(f.output(), i) != argmax(y, i))
        .count();
    Ok(wrong as f64 / x.nrows() as f64)
}

fn slo_claim(s: &Slo, seed: Option<u64>) -> ClaimResult {
    let seeds: Vec<u64> = crate::study_seeds(&s.seeds, seed);
    let claim = Claim::new(
        "BMA24",
        "slo.intervention",
        "Reconstruction of BMA24's speed-limited optimisation: a normalised, speed-limited step on one layer raises its NFA correlation and improves the learned features",
        "UC-NFA (Pearson, α = 1) of the chosen layer and held-out classification error, plain GD vs speed-limited layer; mean ± spread over seeds",
    )
    .id_param("data", "digits")
    .id_param("layer", s.layer)
    .param("seeds", seeds.clone())
    .param("speed", s.speed)
    .param("learning_rate", s.learning_rate)
    .param("steps", s.steps);
    let one = |sd: u64| -> Result<[f64; 4], String> {
        let all = datasets::digits(
            &DigitsSpec {
                samples: s.train_samples + s.test_samples,
                noise: 0.0,
            },
            &mut rng(sd, Stream::Data),
            &mut rng(sd, Stream::LabelNoise),
        )
        .map_err(|e| e.to_string())?;
        let (n, m) = (s.train_samples, s.test_samples);
        let (xtr, ytr) = (
            all.x.subrows(0, n).to_owned(),
            all.y.subrows(0, n).to_owned(),
        );
        let (xte, yte) = (
            all.x.subrows(n, m).to_owned(),
            all.y.subrows(n, m).to_owned(),
        );
        let mut widths = vec![all.input_dim()];
        widths.extend(&s.widths_hidden);
        widths.push(all.output_dim());
        let arch = Architecture::new(widths.clone(), Activation::Relu);
        let init = init::initialise(
            &widths,
            &init::InitScheme::Gaussian {
                sigma: vec![2f64.sqrt()],
            },
            &mut rng(sd, Stream::Init),
        )
        .map_err(|e| e.to_string())?
        .weights;
        let l = s.layer - 1;
        let mut out = [0.0; 4];
        for (k, speed) in [None, Some(s.speed)].into_iter().enumerate() {
            let p = train_slo(&arch, &init, &xtr, &ytr, s, speed)?;
            let tan = tangents(&arch, &p, xtr.as_ref(), 256).map_err(|e| e.to_string())?;
            out[k] = uc_nfa(Similarity::Pearson, p[l].as_ref(), tan.ptk[l].as_ref())
                .map_err(|e| e.to_string())?;
            out[2 + k] = classification_error(&arch, &p, &xte, &yte)?;
        }
        Ok(out)
    };
    let runs: Vec<Result<[f64; 4], String>> = seeds.par_iter().map(|&sd| one(sd)).collect();
    if let Some(e) = runs.iter().find_map(|r| r.as_ref().err()) {
        return claim.failed(None, e.clone());
    }
    let ok: Vec<[f64; 4]> = runs.into_iter().filter_map(Result::ok).collect();
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

/// One step of GD changes ΔW and K_l by O(η) relative; the prediction is
/// the η → 0 limit, so 1e-2 (the tolerance) holds for η = 1e-3
/// with two orders of magnitude to spare.
const EARLY_TOL: f64 = 1e-2;

/// `pearson(X_lᵀ(rrᵀ⊙Q)X_l, X_lᵀ(rrᵀ⊙Q²)X_l)` per hidden layer, formed
/// explicitly from `Q = GᵀG` over (output, sample) pairs (SPEC §4,
/// reconstruction), and the C-NFA after one GD step of size η.
fn early_pair(e: &Early, act: Activation, seed: u64) -> Result<Vec<(f64, f64)>, String> {
    let mut widths = vec![e.input_dim];
    widths.extend(&e.widths_hidden);
    widths.push(e.outputs);
    let arch = Architecture::new(widths.clone(), act);
    let init = init::initialise(
        &widths,
        &init::InitScheme::Gaussian { sigma: vec![1.0] },
        &mut rng(seed, Stream::Init),
    )
    .map_err(|err| err.to_string())?
    .weights;
    let mut data = rng(seed, Stream::Data);
    let x = common::gaussian_matrix(e.samples, e.input_dim, &mut data);
    let y = common::gaussian_matrix(e.samples, e.outputs, &mut data);
    let fwd = mlp::forward(&arch, &init, x.as_ref(), Par::Seq).map_err(|err| err.to_string())?;
    let grads = mlp::pre_activation_gradients(&arch, &init, x.as_ref(), Par::Seq)
        .map_err(|err| err.to_string())?;
    let (n, c) = (e.samples, e.outputs);
    // Residuals r_{(c,i)} in the row order of the stacked gradients.
    let r: Vec<f64> = (0..c * n)
        .map(|k| fwd.output()[(k % n, k / n)] - y[(k % n, k / n)])
        .collect();
    // One small GD step.
    let opt = OptimizerParams::gd(e.learning_rate, 0.0)
        .validate()
        .map_err(|err| err.to_string())?;
    let mut objective =
        MlpObjective::new(arch.clone(), x.as_ref(), y.as_ref()).map_err(|err| err.to_string())?;
    let (after, _) = optim::run_optimizer(&opt, &mut objective, &init, &[0, 1], |_| {})
        .map_err(|err| err.to_string())?;
    let tan = tangents(&arch, &after, x.as_ref(), 64).map_err(|err| err.to_string())?;
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

fn early_claims(e: &Early, act: Activation, seed: Option<u64>) -> Vec<ClaimResult> {
    let seeds: Vec<u64> = crate::study_seeds(&e.seeds, seed);
    let runs: Vec<Result<Vec<(f64, f64)>, String>> =
        seeds.par_iter().map(|&s| early_pair(e, act, s)).collect();
    (0..e.widths_hidden.len())
        .map(|l| {
            let claim = Claim::new(
                "BMA24",
                "early.prediction",
                "Reconstruction of BMA24's early-time prediction: after one small GD step the C-NFA equals pearson(X_lᵀ(rrᵀ⊙Q)X_l, X_lᵀ(rrᵀ⊙Q²)X_l) from init statistics (= 1 for a linear network with one output)",
                "C-NFA (Pearson) after one GD step vs the prediction; worst seed",
            )
            .id_param("activation", act.name())
            .id_param("layer", l + 1)
            .param("seeds", seeds.clone())
            .param("learning_rate", e.learning_rate);
            if let Some(err) = runs.iter().find_map(|r| r.as_ref().err()) {
                return claim.failed(None, err.clone());
            }
            let pairs: Vec<(f64, f64)> = runs.iter().filter_map(|r| r.as_ref().ok()).map(|v| v[l]).collect();
            let worst = pairs
                .iter()
                .copied()
                .max_by(|a, b| (a.0 - a.1).abs().total_cmp(&(b.0 - b.1).abs()))
                .expect("at least one seed");
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

fn consistency(c: &Consistency, act: Activation, seed: Option<u64>) -> ClaimResult {
    let seed = seed.unwrap_or(c.seed);
    let claim = Claim::new(
        "BMA24",
        "ptk.consistency",
        "The AGOP of layer l equals W_lᵀK_lW_l/n (chain rule through the pre-activation tangent kernel)",
        "max over layers of ‖G_l(input gradients) − W_lᵀK_lW_l/n‖_F / ‖G_l‖_F",
    )
    .id_param("activation", act.name())
    .param("widths", c.widths.clone())
    .param("n", c.samples)
    .param("seed", seed);
    let arch = Architecture::new(c.widths.clone(), act);
    let params = match init::initialise(
        &c.widths,
        &init::InitScheme::Gaussian { sigma: vec![1.0] },
        &mut rng(seed, Stream::Init),
    ) {
        Ok(i) => i.weights,
        Err(e) => return claim.failed(Some(0.0), e.to_string()),
    };
    let x = common::gaussian_matrix(c.samples, c.widths[0], &mut rng(seed, Stream::Data));
    let both = tangents(&arch, &params, x.as_ref(), 16).and_then(|t| {
        Ok((
            t,
            mlp::agop_from_input_gradients(&arch, &params, x.as_ref(), 16)?,
        ))
    });
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

/// Per checkpoint and hidden layer: UC (pearson), C (pearson), C (cosine),
/// ‖ΔW‖/‖W‖, singular alignment.
type LayerSeries = Vec<[Option<f64>; 5]>;

fn train_and_measure(
    t: &Training,
    data: &str,
    (width, learning_rate): (usize, f64),
    epochs: &[usize],
    samples: usize,
    seed: u64,
) -> Result<Vec<LayerSeries>, String> {
    let (mut data_rng, mut noise_rng) = (rng(seed, Stream::Data), rng(seed, Stream::LabelNoise));
    let set = match data {
        "digits" => datasets::digits(
            &DigitsSpec {
                samples,
                noise: 0.0,
            },
            &mut data_rng,
            &mut noise_rng,
        )
        .map_err(|e| e.to_string())?,
        _ => {
            // One-hot − 1/C labels of the arg-max of a linear teacher's outputs.
            let spec = TeacherSpec {
                samples,
                input_dim: t.synthetic_input_dim,
                outputs: t.synthetic_outputs,
                rank: t.synthetic_outputs.min(t.synthetic_input_dim),
                noise: 0.0,
                anisotropy: 0.0,
            };
            let (mut d, _) = datasets::teacher(&spec, &mut data_rng, &mut noise_rng)
                .map_err(|e| e.to_string())?;
            let c = spec.outputs;
            let y = Mat::from_fn(samples, c, |i, k| {
                let best = (0..c)
                    .max_by(|&a, &b| d.y[(i, a)].total_cmp(&d.y[(i, b)]))
                    .unwrap_or(0);
                if best == k {
                    1.0 - 1.0 / c as f64
                } else {
                    -1.0 / c as f64
                }
            });
            d.y = y;
            d
        }
    };
    let mut widths = vec![set.input_dim()];
    widths.extend(std::iter::repeat_n(width, t.depth - 1));
    widths.push(set.output_dim());
    let arch = Architecture::new(widths.clone(), Activation::Relu);
    let init = init::initialise(
        &widths,
        &init::InitScheme::Gaussian {
            sigma: vec![2f64.sqrt()],
        },
        &mut rng(seed, Stream::Init),
    )
    .map_err(|e| e.to_string())?
    .weights;
    let steps_per_epoch = samples.div_ceil(t.batch_size);
    let steps: Vec<usize> = epochs.iter().map(|e| e * steps_per_epoch).collect();
    let opt = OptimizerParams {
        method: Method::Gd,
        learning_rate,
        weight_decay: 0.0,
        decay: Decay::L2,
        batch_size: Some(t.batch_size),
        batch_seed: common::seed::batch_seed(seed),
    }
    .validate()
    .map_err(|e| e.to_string())?;
    let mut objective = MlpObjective::new(arch.clone(), set.x.as_ref(), set.y.as_ref())
        .map_err(|e| e.to_string())?;
    let mut snapshots = Vec::new();
    optim::run_optimizer(&opt, &mut objective, &init, &steps, |c| {
        snapshots.push(c.params.to_vec())
    })
    .map_err(|e| e.to_string())?;
    let series = snapshots
        .iter()
        .map(|p| -> Result<LayerSeries, String> {
            let tan = tangents(&arch, p, set.x.as_ref(), 256).map_err(|e| e.to_string())?;
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
        .collect::<Result<Vec<_>, _>>()?;
    Ok(series)
}

const NAMES: [&str; 5] = [
    "UC-NFA (pearson)",
    "C-NFA (pearson)",
    "C-NFA (cosine)",
    "‖ΔW_l‖/‖W_l‖",
    "cos(U_rᵀK_lU_r, I)",
];

fn training_claims(t: &Training, options: &RunOptions) -> Vec<ClaimResult> {
    let (width, learning_rate, epochs) = (
        t.width.get(options.mode),
        t.learning_rate.get(options.mode),
        t.epochs.get(options.mode),
    );
    let seeds = crate::study_seeds(&t.seeds, options.seed);
    let sets = [
        ("digits", t.digits_samples.get(options.mode)),
        ("synthetic", t.synthetic_samples.get(options.mode)),
    ];
    let jobs: Vec<(usize, u64)> = (0..sets.len())
        .flat_map(|d| seeds.iter().map(move |&s| (d, s)))
        .collect();
    let runs: Vec<Result<Vec<LayerSeries>, String>> = jobs
        .par_iter()
        .map(|&(d, s)| {
            train_and_measure(t, sets[d].0, (width, learning_rate), &epochs, sets[d].1, s)
        })
        .collect();
    let mut out = Vec::new();
    for (d, (name, samples)) in sets.iter().enumerate() {
        let mine: Vec<&Result<_, String>> = jobs
            .iter()
            .zip(&runs)
            .filter(|((j, _), _)| *j == d)
            .map(|(_, r)| r)
            .collect();
        for l in 0..t.depth - 1 {
            let base = |key: &'static str, statement: &str, convention: &str| {
                Claim::new("BMA24", key, statement, convention)
                    .id_param("data", *name)
                    .id_param("layer", l + 1)
                    .param("depth", t.depth)
                    .param("width", width)
                    .param("learning_rate", learning_rate)
                    .param("batch_size", t.batch_size)
                    .param("n", *samples)
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
