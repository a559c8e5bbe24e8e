//! ABP22's headline experiment (their first figure; SPEC §5, §8) on the
//! shipped digits: silent alignment and kernel regression of a two-layer
//! ReLU network trained from small initialisation, as empirical claims
//! judged over seeds.
//!
//! ABP22 train `f(x) = aᵀφ(Wx)` (φ = ReLU, no biases) from small init on
//! P = 1000 whitened MNIST 0s and 1s; the NTK aligns with the target by
//! t ≈ 50, while the loss and the kernel's scale move only from t ≈ 300, and
//! kernel regression with the final NTK matches the trained network on
//! test points where the initial NTK does not. This project has no MNIST:
//! the data are the 8×8 digits (d = 64) of classes 0 and 1 (360 rows),
//! `kind = "digit_pair"` — a seeded split into training rows and held-out
//! rows, targets ±1, inputs whitened by ZCA fitted on the training rows
//! (centred with the training means, `X ↦ (X − 1μᵀ)·√P·V S⁻¹Vᵀ` over the
//! singular directions above round-off, so `XᵀX = P·I` on the kept
//! directions; pixels that are constant over the training rows span
//! dropped directions), the same transform applied to the held-out rows
//! ([`datasets::PartialWhitening`] at γ = 0).
//!
//! Per seed, a `small` init `W ~ N(0, σ²/d)`, `a ~ N(0, σ²/N)` is trained by
//! full-batch GD with step η on `ℒ = 1/(2P) Σ_i (f(x_i) − y_i)²` (time
//! t = kη; η·λ_max(K_T)/P, the step against the stability limit 2 of the
//! final linearised dynamics, is in the details), recorded at log-spaced
//! steps. At each checkpoint the empirical NTK `K_t` on the training rows
//! gives the uncentred alignment `A(K_t, y) = yᵀK_t y/(‖K_t‖_F‖y‖²)` (ABP22's
//! convention), the centred one `A(HK_tH, Hy)` and the scale `‖K_t‖_F`
//! ([`ntk::KernelStatistics`]). Then:
//!
//! * `t_align`: the first checkpoint with `A(K_t) − A(K_0) ≥ 0.9·(A(K_T) −
//!   A(K_0))` (90 % of the final gain); `t_loss`: the first checkpoint with
//!   `ℒ ≤ 0.9·ℒ_0`. `relu_silent_alignment` measures
//!   `ln t_loss − ln t_align` per seed — positive when the kernel aligns
//!   before the loss moves (ABP22's direction) — and judges it by its 95 %
//!   Student t interval over the seeds. Both times are first checkpoints
//!   past their thresholds, each late by at most its bracketing checkpoint
//!   interval, so the interval is widened by the largest such log-width
//!   (the resolution of [`Claim::judge`]).
//! * `relu_kernel_regression`: kernel regression of the change
//!   `y − f_0(X)` with kernel K on the held-out rows X*,
//!   `k(X*)ᵀ(K + λI)⁻¹(y − f_0(X))`, against the network's change
//!   `f_T(X*) − f_0(X*)`, as the relative error
//!   `err(K) = ‖prediction − change‖/‖change‖`, for `K_0` and `K_T`. The
//!   ridge is relative, `λ = ρ·tr(K)/P` with a fixture ρ small enough to
//!   interpolate the training targets and large enough that the Cholesky
//!   solve is accurate (`cond(K + λI) ≤ P/ρ + 1`); `K_0` and `K_T` differ
//!   in scale by orders of magnitude, so an absolute ridge would treat them
//!   differently. The effect `err(K_0) − err(K_T)` is paired over seeds
//!   (same data, init and run), positive in ABP22's direction; the
//!   final-NTK error itself is reported with its interval.
//!
//! Both claims are undecidable unless every seed's run has converged
//! (`ℒ_T ≤` [`CONVERGED`]`·ℒ_0`: "final" alignment and the kernel
//! regression's interpolation need a fitted network); the verdict is then
//! `inconclusive` with that reason (SPEC §8). `relu_silent_alignment` is
//! `undefined` when some seed's alignment did not grow (no gain to time) or
//! a threshold is crossed within the first step or never (the grid does
//! not time it).

use common::stats::t_interval;
use experiment::config::{CheckpointConfig, DataConfig, DynamicsConfig, InitConfig, NetworkConfig};
use experiment::{Experiment, ExperimentConfig, Prepared};
use faer::{Mat, MatRef, Par};
use networks::Activation;
use serde::{Deserialize, Serialize};

use crate::UnitError;
use crate::claim::{Claim, Direction, Statement, Test};

/// ABP22's silent alignment, first half (SPEC §8).
const SILENT: Statement = Statement {
    family: "ABP22.relu_silent_alignment",
    quote: "evolves in eigenstructure while small and before the loss appreciably decreases",
    source: "ABP22, abstract, of the NTK (first half of the sentence)",
    differs: "timed as the first checkpoints at 90 % of the alignment gain and at a 10 % loss drop; the 8×8 digits 0/1 instead of MNIST",
};

/// ABP22 Theorem 1 on the trained ReLU network (SPEC §5).
const REGRESSION: Statement = Statement {
    family: "ABP22.relu_kernel_regression",
    quote: "final network ≈ kernel regression with the final NTK; regression with K_0 is not",
    source: "ABP22, Theorem 1 and its first figure, paraphrased in SPEC §5 (not verbatim)",
    differs: "a small ridge (ρ) in the regression; held-out 8×8 digits 0/1 instead of MNIST",
};

/// ABP22's silent alignment, second half (SPEC §8).
const SCALE_AFTER: Statement = Statement {
    family: "ABP22.relu_scale_after",
    quote: "and grows only in overall scale afterwards",
    source: "ABP22, abstract, of the NTK (second half of the sentence)",
    differs: "'only in scale' as a smaller change of eigenstructure (1 − kernel–kernel alignment) from t_loss to the end than from init to t_loss; the 8×8 digits 0/1 instead of MNIST",
};

/// δ of the silent-alignment lead, in ln t.
const SILENT_DELTA: f64 = 0.1;

/// δ of the regression error gap, in relative error.
const REGRESSION_DELTA: f64 = 0.02;
use crate::details::{Details, Series, Summary};
use crate::study::{Cells, Runs};
use crate::{ClaimResult, Mode, PerMode, RunOptions};

/// `[relu]` of `fixtures/claims/abp22.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relu {
    /// Seeds, one unit each (SPEC §8: k ≥ 10 for runs under a second,
    /// ≥ 5 otherwise; `--seed N` replaces them by N, N + 1, …).
    pub seeds: PerMode<Vec<u64>>,
    /// The two digit classes (+1, −1).
    pub classes: [usize; 2],
    /// Training rows P (the other rows of the two classes are held out).
    pub samples: usize,
    /// Hidden width N.
    pub hidden: PerMode<usize>,
    /// Init scale σ.
    pub sigma: f64,
    /// GD step η.
    pub learning_rate: PerMode<f64>,
    /// Horizon T (t = kη).
    pub horizon: PerMode<f64>,
    /// Log-spaced checkpoints, step 0 included.
    pub checkpoints: usize,
    /// Relative ridge ρ (`λ = ρ·tr(K)/P`).
    pub ridge: f64,
}

/// Runs count as converged when `ℒ_T ≤ CONVERGED·ℒ_0`: 99 % of the loss is
/// gone (on ±1 targets with `f_0 ≈ 0`, `ℒ_0 = ½`, the residuals are then
/// ≈ 10 % rms of the targets), so the loss drop, during which the kernel grows by orders of
/// magnitude, is over. After it the kernel still drifts, slowly: in the
/// shipped runs the mean alignment moves by about 5 % of its gain between
/// `ℒ = 10⁻²ℒ_0` and the horizon (where `ℒ_T ≈ 10⁻³ℒ_0` quick and
/// `3·10⁻⁴ℒ_0` full, a margin for the spread of seeds), which moves
/// `t_align`'s threshold by ≈ 0.03–0.04 in ln t, under one checkpoint
/// interval.
pub const CONVERGED: f64 = 1e-2;

/// ABP22's thresholds (SPEC §5): `t_align` when the alignment has made
/// 90 % of its final gain `A(K_T) − A(K_0)` (stricter than 90 % of the
/// final value, since `A(K_0) > 0`), `t_loss` when the loss is down to 90 %
/// of `ℒ_0`.
const ALIGNED: f64 = 0.9;
const LOSS_MOVED: f64 = 0.9;
/// The kernel's scale counts as moved (`t_scale`, reported beside the two
/// times) at 10 % of its final Frobenius norm, on the linear scale on which
/// ABP22 plot it.
const SCALE_MOVED: f64 = 0.1;

/// The data set's name in ids: `digits01` for classes 0 and 1.
pub fn data_name(cfg: &Relu) -> String {
    format!("digits{}{}", cfg.classes[0], cfg.classes[1])
}

/// One seed's run and its measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReluRun {
    /// Checkpoint times t = kη.
    pub time: Vec<f64>,
    /// ℒ(t).
    pub loss: Vec<f64>,
    /// `A(K_t, y)` (`None`: undefined, e.g. a zero kernel).
    pub alignment: Vec<Option<f64>>,
    /// `A(HK_tH, Hy)`.
    pub centred_alignment: Vec<Option<f64>>,
    /// `‖K_t‖_F`.
    pub kernel_norm: Vec<f64>,
    /// `t_align` and the log-width `ln(t_k/t_{k−1})` of its bracket.
    pub t_align: Option<(f64, f64)>,
    /// `t_loss` and its bracket's log-width.
    pub t_loss: Option<(f64, f64)>,
    /// `err(K_T)` on the held-out rows.
    pub final_ntk_error: f64,
    /// `err(K_0)`.
    pub initial_ntk_error: f64,
    /// Fraction of held-out rows whose sign of `f_T` is their label.
    pub held_out_accuracy: f64,
    /// `η·λ_max(K_T)/P`.
    pub step_ratio: f64,
    /// The kernel's change of eigenstructure (SPEC §5) before and after the
    /// loss moves: `1 − A(K_0, K_{t_loss})` and `1 − A(K_{t_loss}, K_T)`,
    /// with `A` the kernel–kernel alignment (blind to scale); `None` when
    /// the loss never moves.
    pub structure_change: Option<[f64; 2]>,
}

impl ReluRun {
    fn alignment_at(&self, k: usize) -> Option<f64> {
        self.alignment.get(k).copied().flatten()
    }

    /// `A(K_T) − A(K_0)`.
    fn gain(&self) -> Option<f64> {
        Some(self.alignment_at(self.time.len() - 1)? - self.alignment_at(0)?)
    }

    /// `ℒ_T/ℒ_0`.
    fn loss_ratio(&self) -> f64 {
        self.loss[self.loss.len() - 1] / self.loss[0]
    }
}

/// The experiment of one seed: `digit_pair` data, a bias-free two-layer
/// ReLU network of width N, `small` init σ, GD with step η up to the horizon,
/// recorded at `checkpoints` log-spaced steps.
pub fn experiment(cfg: &Relu, mode: Mode, seed: u64) -> ExperimentConfig {
    let eta = cfg.learning_rate.get(mode);
    ExperimentConfig {
        name: None,
        seed,
        data: DataConfig::DigitPair {
            classes: cfg.classes,
            samples: cfg.samples,
            gamma: 0.0,
            noise: 0.0,
        },
        network: NetworkConfig::mlp(2, cfg.hidden.get(mode), Activation::Relu, false),
        init: InitConfig::Small { sigma: cfg.sigma },
        dynamics: DynamicsConfig::Gd {
            learning_rate: eta,
            weight_decay: 0.0,
        },
        checkpoints: CheckpointConfig::LogSteps {
            total: (cfg.horizon.get(mode) / eta).round() as usize,
            count: cfg.checkpoints,
        },
    }
}

/// Estimated seconds of one seed on one core: its GD steps at
/// `COST_PER_STEP_FLOP` seconds per multiply-add of a step (`3·P·d·N`: forward,
/// and the two products of the backward pass) plus its checkpoints' kernel
/// statistics (`P²(d + 2N)` each).
pub fn cost(cfg: &Relu, mode: Mode) -> f64 {
    let (p, d, n) = (
        cfg.samples as f64,
        datasets::DIGITS_PIXELS as f64,
        cfg.hidden.get(mode) as f64,
    );
    let steps = cfg.horizon.get(mode) / cfg.learning_rate.get(mode);
    COST_PER_STEP_FLOP * (steps * 3.0 * p * d * n + cfg.checkpoints as f64 * p * p * (d + 2.0 * n))
}

/// Seconds per multiply-add, fitted to the units' wall times of `report
/// --only ABP22.relu` (release build, one core per unit, 2-core reference
/// machine): 8.7e-11 quick (N = 50), 5.5e-11 full (N = 500), so within a
/// factor 1.3 of both.
const COST_PER_STEP_FLOP: f64 = 7e-11;

/// The first checkpoint k ≥ 1 where `reached(k)`, as `(t_k, ln(t_k/t_{k−1}))`;
/// a crossing at the first step has no finite log-width (t_0 = 0), so the
/// grid does not resolve it and it is `None` too.
fn first_time(time: &[f64], reached: impl Fn(usize) -> bool) -> Option<(f64, f64)> {
    let k = (1..time.len()).find(|&k| reached(k))?;
    (k >= 2).then(|| (time[k], (time[k] / time[k - 1]).ln()))
}

/// The study's units: the digit pair × seeds.
pub(super) struct ReluStudy;

impl Cells for ReluStudy {
    type Config = super::Config;
    type Cell = String;
    type Measurement = Result<ReluRun, UnitError>;

    fn cells(&self, cfg: &super::Config, options: &RunOptions) -> Vec<(String, Vec<u64>)> {
        vec![(data_name(&cfg.relu), cfg.relu.seeds.get(options.mode))]
    }

    fn name(&self, data: &String) -> String {
        format!("data={data}")
    }

    fn cost(&self, cfg: &super::Config, options: &RunOptions, _: &String) -> f64 {
        cost(&cfg.relu, options.mode)
    }

    fn measure(
        &self,
        cfg: &super::Config,
        options: &RunOptions,
        _: &String,
        seed: u64,
    ) -> Self::Measurement {
        run(&cfg.relu, options.mode, seed)
    }

    fn conclude_cells(
        &self,
        cfg: &super::Config,
        options: &RunOptions,
        cells: Vec<Runs<String, Self::Measurement>>,
    ) -> Vec<ClaimResult> {
        cells
            .into_iter()
            .flat_map(|r| conclude(&cfg.relu, options.mode, &r.seeds, &r.measured))
            .collect()
    }

    fn declare_figures(
        &self,
        _: &super::Config,
        _: &RunOptions,
        claims: &[ClaimResult],
    ) -> Vec<figure::Declared> {
        vec![super::figures::relu_silent_alignment(claims)]
    }
}

/// Run one seed and measure it.
pub fn run(cfg: &Relu, mode: Mode, seed: u64) -> Result<ReluRun, UnitError> {
    let exp = experiment(cfg, mode, seed)
        .validate()
        .map_err(|e| UnitError::new(format!("config: {e}")))?;
    let prepared = experiment::prepare(&exp)?;
    let traj = experiment::run::run_prepared(&exp, &prepared)?;
    let arch = exp.architecture();
    let (x, y) = (prepared.data.x.as_ref(), prepared.data.y.as_ref());
    let (mut alignment, mut centred_alignment, mut kernel_norm) =
        (Vec::new(), Vec::new(), Vec::new());
    for s in &traj.snapshots {
        let stats = ntk::KernelStatistics::compute(&arch, &s.weights, x, y)?;
        alignment.push(stats.alignment(0, 0).ok());
        centred_alignment.push(stats.centered_alignment(0, 0).ok());
        kernel_norm.push(stats.norm(0));
    }
    let time: Vec<f64> = traj.snapshots.iter().map(|s| s.time).collect();
    let loss: Vec<f64> = traj.snapshots.iter().map(|s| s.loss).collect();
    let last = time.len() - 1;
    let t_align = match (alignment[0], alignment[last]) {
        (Some(a0), Some(a_t)) if a_t > a0 => first_time(&time, |k| {
            alignment[k].is_some_and(|a| a - a0 >= ALIGNED * (a_t - a0))
        }),
        _ => None,
    };
    let t_loss = first_time(&time, |k| loss[k] <= LOSS_MOVED * loss[0]);
    let k_loss = (1..time.len()).find(|&k| loss[k] <= LOSS_MOVED * loss[0]);
    // The training-set kernels at init and at the end serve both the
    // structure change and the held-out regression.
    let end = &traj.snapshots[last].weights;
    let kernels = [
        training_kernel(&arch, &prepared.init.weights, x)?,
        training_kernel(&arch, end, x)?,
    ];
    let structure_change = match k_loss {
        Some(k) => {
            let kl = training_kernel(&arch, &traj.snapshots[k].weights, x)?;
            let a = |p: &Mat<f64>, q: &Mat<f64>| ntk::kernel_alignment(p.as_ref(), q.as_ref());
            Some([1.0 - a(&kernels[0], &kl)?, 1.0 - a(&kl, &kernels[1])?])
        }
        None => None,
    };
    let regression = regression(cfg, &exp, &prepared, end, &kernels)?;
    Ok(ReluRun {
        time,
        loss,
        alignment,
        centred_alignment,
        kernel_norm,
        t_align,
        t_loss,
        final_ntk_error: regression.final_error,
        initial_ntk_error: regression.initial_error,
        held_out_accuracy: regression.accuracy,
        step_ratio: cfg.learning_rate.get(mode) * regression.lambda_max / cfg.samples as f64,
        structure_change,
    })
}

/// The held-out comparison of one run.
struct Regression {
    final_error: f64,
    initial_error: f64,
    accuracy: f64,
    /// `λ_max(K_T)`.
    lambda_max: f64,
}

/// The NTK of a one-output network on the training rows `x`.
fn training_kernel(
    arch: &networks::Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Mat<f64>, UnitError> {
    let k = ntk::per_output_ntk(arch, params, x, Par::Seq)?;
    let [k] = <[Mat<f64>; 1]>::try_from(k)
        .map_err(|_| UnitError::new("a one-output network has one kernel, got several"))?;
    Ok(k)
}

/// Kernel regression on the held-out rows with the training-set kernels
/// `[K_0, K_T]` of the network at init and at `end`.
fn regression(
    cfg: &Relu,
    exp: &Experiment,
    prepared: &Prepared,
    end: &[Mat<f64>],
    [k0, kt]: &[Mat<f64>; 2],
) -> Result<Regression, UnitError> {
    let held_out = prepared
        .held_out
        .as_ref()
        .ok_or_else(|| UnitError::new("the data set holds no rows out"))?;
    let arch = exp.architecture();
    let (x, y, x_test) = (
        prepared.data.x.as_ref(),
        prepared.data.y.as_ref(),
        held_out.x.as_ref(),
    );
    let init = &prepared.init.weights;
    let output = |p: &[Mat<f64>], x: MatRef<'_, f64>| -> Result<Mat<f64>, UnitError> {
        Ok(networks::forward(&arch, p, x, Par::Seq)?.output().clone())
    };
    let f_test = output(end, x_test)?;
    let change = &f_test - output(init, x_test)?;
    let residual = y.to_owned() - output(init, x)?;
    let cross = |p: &[Mat<f64>]| -> Result<Mat<f64>, UnitError> {
        let cross = ntk::per_output_ntk_between(&arch, p, x_test, x, Par::Seq)?;
        let [cross] = <[Mat<f64>; 1]>::try_from(cross)
            .map_err(|_| UnitError::new("a one-output network has one kernel, got several"))?;
        Ok(cross)
    };
    let error = |k: &Mat<f64>, cross: &Mat<f64>| -> Result<f64, UnitError> {
        let n = k.nrows();
        let trace: f64 = (0..n).map(|i| k[(i, i)]).sum();
        let fit = ntk::KernelRidge::fit(
            k.as_ref(),
            residual.as_ref(),
            cfg.ridge * trace / n as f64,
            Par::Seq,
        )?;
        let prediction = fit.predict(cross.as_ref())?;
        Ok((&prediction - &change).norm_l2() / change.norm_l2())
    };
    let lambda_max = common::linalg::eigvalsh(kt.as_ref(), Par::Seq)
        .map_err(|_| UnitError::new("the final kernel's eigenvalues did not converge"))?
        .last()
        .copied()
        .unwrap_or(f64::NAN);
    let correct = (0..f_test.nrows())
        .filter(|&i| f_test[(i, 0)] * held_out.y[(i, 0)] > 0.0)
        .count();
    let finite = |v: f64, what: &str| {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(UnitError::new(format!("{what} is not finite")))
        }
    };
    Ok(Regression {
        final_error: finite(error(kt, &cross(end)?)?, "the final-NTK error")?,
        initial_error: finite(error(k0, &cross(init)?)?, "the initial-NTK error")?,
        accuracy: correct as f64 / f_test.nrows() as f64,
        lambda_max: finite(lambda_max, "λ_max(K_T)")?,
    })
}

/// The study's two claims from the seeds' runs (`runs[i]` of `seeds[i]`).
pub fn conclude(
    cfg: &Relu,
    mode: Mode,
    seeds: &[u64],
    runs: &[Result<ReluRun, UnitError>],
) -> Vec<ClaimResult> {
    let data = data_name(cfg);
    let base = |key: &'static str, statement: &str, convention: &str| {
        Claim::new("ABP22", key, statement, convention)
            .id_param("data", data.as_str())
            .param(
                "source",
                "8×8 digits (UCI, d = 64) in place of ABP22's MNIST",
            )
            .param("classes", cfg.classes.to_vec())
            .param("samples", cfg.samples)
            .param("held_out", pair_rows(cfg).saturating_sub(cfg.samples))
            .param(
                "whitening",
                "ZCA fitted on the training rows (centred, XᵀX = P·I on the kept directions)",
            )
            .param("hidden", cfg.hidden.get(mode))
            .param("sigma", cfg.sigma)
            .param("learning_rate", cfg.learning_rate.get(mode))
            .param("horizon", cfg.horizon.get(mode))
            .param("seeds", seeds.to_vec())
    };
    let silent = base(
        "relu_silent_alignment",
        "two-layer ReLU net from small init on whitened digits 0/1: the NTK aligns with the target before the loss moves, ln t_loss − ln t_align > 0",
        "t_align: first checkpoint with A(K_t, y) − A(K_0, y) ≥ 0.9·(A(K_T, y) − A(K_0, y)), A = yᵀKy/(‖K‖_F‖y‖²) uncentred; t_loss: first checkpoint with ℒ ≤ 0.9·ℒ_0; effect per seed ln t_loss − ln t_align",
    );
    let regression = base(
        "relu_kernel_regression",
        "kernel regression with the final NTK matches the trained ReLU net on held-out digits, with the initial NTK it does not: err(K_0) − err(K_T) > 0",
        "err(K) = ‖k(X*)ᵀ(K + λI)⁻¹(y − f_0(X)) − (f_T − f_0)(X*)‖/‖(f_T − f_0)(X*)‖ on the held-out rows X*, λ = ρ·tr(K)/P; effect per seed err(K_0) − err(K_T), paired",
    )
    .param("ridge", cfg.ridge);
    let scale = base(
        "relu_scale_after",
        "two-layer ReLU net from small init on whitened digits 0/1: the NTK changes its eigenstructure before the loss moves and mostly its scale afterwards",
        "per seed, (1 − A(K_0, K_{t_loss})) − (1 − A(K_{t_loss}, K_T)), A(K, K') = ⟨K, K'⟩_F/(‖K‖_F‖K'‖_F) the kernel–kernel alignment (blind to scale); t_loss as in relu_silent_alignment",
    );
    let mut ok = Vec::new();
    for (seed, run) in seeds.iter().zip(runs) {
        match run {
            Ok(r) => ok.push(r),
            Err(e) => {
                let why = format!("seed {seed}: {e}");
                return vec![
                    silent.failed(None, why.clone()),
                    scale.failed(None, why.clone()),
                    regression.failed(None, why),
                ];
            }
        }
    }
    let converged = ok.iter().all(|r| r.loss_ratio() <= CONVERGED);
    let not_converged = format!(
        "undecidable: some run has not converged by the horizon (ℒ_T/ℒ_0 up to {:.1e} > {CONVERGED:.0e}), so its final kernel is not the fitted network's",
        ok.iter().map(|r| r.loss_ratio()).fold(0.0, f64::max)
    );
    let details = shared_details(&ok);
    vec![
        silent_claim(silent, &ok, details.clone(), converged, &not_converged),
        scale_claim(scale, &ok, converged, &not_converged),
        regression_claim(cfg, regression, &ok, details, converged, &not_converged),
    ]
}

/// Rows of the two classes (training + held out).
fn pair_rows(cfg: &Relu) -> usize {
    datasets::DigitPairSpec {
        classes: cfg.classes,
        samples: cfg.samples,
        gamma: 0.0,
        noise: 0.0,
    }
    .available()
}

/// The statistics both claims show: alignments, loss ratio, step ratio,
/// held-out accuracy, over seeds.
fn shared_details(runs: &[&ReluRun]) -> Details {
    let per_seed =
        |f: &dyn Fn(&ReluRun) -> f64| -> Vec<f64> { runs.iter().map(|r| f(r)).collect() };
    let last = |v: &[Option<f64>]| v.last().copied().flatten().unwrap_or(f64::NAN);
    Details::new()
        .with_statistic(Summary::with_per_seed(
            "A(K_0, y)",
            &per_seed(&|r| r.alignment_at(0).unwrap_or(f64::NAN)),
        ))
        .with_statistic(Summary::with_per_seed(
            "A(K_T, y)",
            &per_seed(&|r| last(&r.alignment)),
        ))
        .with_statistic(Summary::with_per_seed(
            "centred A(K_0, y)",
            &per_seed(&|r| r.centred_alignment[0].unwrap_or(f64::NAN)),
        ))
        .with_statistic(Summary::with_per_seed(
            "centred A(K_T, y)",
            &per_seed(&|r| last(&r.centred_alignment)),
        ))
        .with_statistic(Summary::positive("ℒ_T/ℒ_0", &per_seed(&|r| r.loss_ratio())))
        .with_statistic(Summary::with_per_seed(
            "‖K_T‖_F/‖K_0‖_F",
            &per_seed(&|r| r.kernel_norm[r.kernel_norm.len() - 1] / r.kernel_norm[0]),
        ))
        .with_statistic(Summary::with_per_seed(
            "η·λ_max(K_T)/P",
            &per_seed(&|r| r.step_ratio),
        ))
        .with_statistic(Summary::with_per_seed(
            "held-out accuracy",
            &per_seed(&|r| r.held_out_accuracy),
        ))
}

fn describe(v: &[f64]) -> String {
    match t_interval(v, 0.95) {
        Some(i) => format!("{:.3} [{:.3}, {:.3}]", i.estimate, i.lower, i.upper),
        None => "undefined".to_owned(),
    }
}

fn silent_claim(
    claim: Claim,
    runs: &[&ReluRun],
    details: Details,
    converged: bool,
    not_converged: &str,
) -> ClaimResult {
    let time = runs[0].time.clone();
    let series = |name: &str, f: &dyn Fn(&ReluRun) -> Vec<Option<f64>>| {
        let per_seed: Vec<Vec<Option<f64>>> = runs.iter().map(|r| f(r)).collect();
        Series::mean_over_seeds(name, "t", time.clone(), &per_seed)
    };
    let details = details
        .with_series(series("loss", &|r| {
            r.loss.iter().map(|&l| Some(l)).collect()
        }))
        .with_series(series("alignment", &|r| r.alignment.clone()))
        .with_series(series("centred alignment", &|r| {
            r.centred_alignment.clone()
        }))
        .with_series(series("kernel scale ‖K_t‖_F/‖K_T‖_F", &|r| {
            let end = r.kernel_norm[r.kernel_norm.len() - 1];
            r.kernel_norm.iter().map(|&k| Some(k / end)).collect()
        }));
    let (Some(align), Some(moved)) = (
        runs.iter().map(|r| r.t_align).collect::<Option<Vec<_>>>(),
        runs.iter().map(|r| r.t_loss).collect::<Option<Vec<_>>>(),
    ) else {
        let grew = runs.iter().all(|r| r.gain().is_some_and(|g| g > 0.0));
        return claim.details(details).undefined(
            None,
            if grew {
                "a threshold is crossed within the first step or never: the checkpoint grid does not time it"
            } else {
                "the alignment did not grow on some seed: no gain to time"
            },
        );
    };
    let effect: Vec<f64> = align
        .iter()
        .zip(&moved)
        .map(|((ta, _), (tl, _))| tl.ln() - ta.ln())
        .collect();
    // Each time is late by at most its bracket's log-width, so the effect
    // is off by at most the larger of the two.
    let resolution = align
        .iter()
        .zip(&moved)
        .map(|((_, wa), (_, wl))| wa.max(*wl))
        .fold(0.0, f64::max);
    let t_align: Vec<f64> = align.iter().map(|a| a.0).collect();
    let t_loss: Vec<f64> = moved.iter().map(|m| m.0).collect();
    // When the kernel's scale has moved: ‖K_t‖_F ≥ 0.1·‖K_T‖_F (NaN if never).
    let t_scale: Vec<f64> = runs
        .iter()
        .map(|r| {
            let end = r.kernel_norm[r.kernel_norm.len() - 1];
            (r.kernel_norm.iter().zip(&r.time))
                .find(|(k, _)| **k >= SCALE_MOVED * end)
                .map_or(f64::NAN, |(_, t)| *t)
        })
        .collect();
    // The alignment's peak and its time: on these digits it overshoots its
    // final value before the loss moves.
    let (peak, t_peak): (Vec<f64>, Vec<f64>) = runs
        .iter()
        .map(|r| {
            (r.alignment.iter().zip(&r.time))
                .filter_map(|(a, t)| Some(((*a)?, *t)))
                .fold((f64::NAN, f64::NAN), |best, (a, t)| {
                    if a > best.0 || best.0.is_nan() {
                        (a, t)
                    } else {
                        best
                    }
                })
        })
        .unzip();
    let geometric = |v: &[f64]| (v.iter().map(|t| t.ln()).sum::<f64>() / v.len() as f64).exp();
    let details = details
        .with_column(Summary::positive("t_align", &t_align))
        .with_column(Summary::positive("t_loss", &t_loss))
        .with_column(Summary::with_per_seed("ln t_loss − ln t_align", &effect))
        .with_statistic(Summary::positive("t_scale", &t_scale))
        .with_statistic(Summary::with_per_seed("max_t A(K_t, y)", &peak))
        .with_statistic(Summary::positive("t of max_t A(K_t, y)", &t_peak))
        .with_value("t_align_geometric_mean", geometric(&t_align))
        .with_value("t_loss_geometric_mean", geometric(&t_loss));
    let cause = format!(
        "t_align {} and t_loss {} (95 % intervals): the alignment does not lead the loss by more than the checkpoint resolution {resolution:.2}",
        describe(&t_align),
        describe(&t_loss)
    );
    claim
        .details(details)
        .judge(
            &effect,
            &Test {
                statement: &SILENT,
                direction: Direction::Positive,
                delta: SILENT_DELTA,
                delta_reason: "a lead of 10 % in time (0.1 in ln t): below it, 'before' is not distinguishable on a log-spaced checkpoint grid of this density",
                method: "Student t",
                resolution,
            },
            &cause,
        )
        .untestable_unless(converged, not_converged)
}

/// ABP22's second half (SPEC §8): the eigenstructure change after the
/// loss has moved is smaller than before it.
fn scale_claim(
    claim: Claim,
    runs: &[&ReluRun],
    converged: bool,
    not_converged: &str,
) -> ClaimResult {
    let Some(change) = runs
        .iter()
        .map(|r| r.structure_change)
        .collect::<Option<Vec<_>>>()
    else {
        return claim.undefined(None, "the loss does not fall 10 % on some seed: no t_loss");
    };
    let before: Vec<f64> = change.iter().map(|c| c[0]).collect();
    let after: Vec<f64> = change.iter().map(|c| c[1]).collect();
    let effect: Vec<f64> = change.iter().map(|c| c[0] - c[1]).collect();
    claim
        .details(
            Details::new()
                .with_column(Summary::with_per_seed("1 − A(K_0, K_t_loss)", &before))
                .with_column(Summary::with_per_seed("1 − A(K_t_loss, K_T)", &after))
                .with_column(Summary::with_per_seed("before − after", &effect)),
        )
        .judge(
            &effect,
            &Test {
                statement: &SCALE_AFTER,
                direction: Direction::Positive,
                delta: 0.01,
                delta_reason: "0.01 in kernel–kernel alignment: a change of eigenstructure below it leaves the kernel's top eigenvectors in place",
                method: "paired Student t",
                resolution: 0.0,
            },
            &format!(
                "the kernel's eigenstructure changes as much after the loss moves ({}) as before ({})",
                describe(&after),
                describe(&before)
            ),
        )
        .untestable_unless(converged, not_converged)
}

fn regression_claim(
    cfg: &Relu,
    claim: Claim,
    runs: &[&ReluRun],
    details: Details,
    converged: bool,
    not_converged: &str,
) -> ClaimResult {
    let finals: Vec<f64> = runs.iter().map(|r| r.final_ntk_error).collect();
    let initials: Vec<f64> = runs.iter().map(|r| r.initial_ntk_error).collect();
    let effect: Vec<f64> = initials.iter().zip(&finals).map(|(a, b)| a - b).collect();
    let details = details
        .with_column(Summary::with_per_seed("err(K_T)", &finals))
        .with_column(Summary::with_per_seed("err(K_0)", &initials))
        .with_column(Summary::with_per_seed("err(K_0) − err(K_T)", &effect));
    // The Cholesky solve's relative error is at most cond(K + λI)·ε with
    // cond ≤ P/ρ + 1 (λ_max ≤ tr K = P·λ/ρ): the errors are known to that.
    let resolution = (cfg.samples as f64 / cfg.ridge + 1.0) * f64::EPSILON;
    let cause = format!(
        "err(K_T) {} and err(K_0) {} (95 % intervals)",
        describe(&finals),
        describe(&initials)
    );
    claim
        .details(details)
        .judge(
            &effect,
            &Test {
                statement: &REGRESSION,
                direction: Direction::Positive,
                delta: REGRESSION_DELTA,
                delta_reason: "two points of relative prediction error: a smaller gap between the two kernels' predictors would not separate them in ABP22's figure",
                method: "paired Student t",
                resolution,
            },
            &cause,
        )
        .untestable_unless(converged, not_converged)
}

#[cfg(test)]
mod tests {
    use super::first_time;

    /// A time is the first checkpoint past its threshold with the
    /// log-width of its bracket; a crossing at the first step (bracket
    /// from t = 0) or none at all is not timed.
    #[test]
    fn first_times_carry_their_bracket() {
        let time = [0.0, 0.1, 0.2, 0.4, 0.8];
        let (t, width) = first_time(&time, |k| k >= 3).unwrap();
        assert_eq!(t, 0.4);
        assert!((width - 2f64.ln()).abs() < 1e-15);
        assert_eq!(first_time(&time, |k| k >= 1), None);
        assert_eq!(first_time(&time, |_| false), None);
        assert_eq!(first_time(&time, |k| k == 0), None);
    }
}
