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

use common::gaussian_matrix;
use common::seed::{Stream, rng};
use common::stats::slope;
use datasets::partially_whiten;
use deep_linear::{LinearObjective, RegressionStats};
use faer::{Mat, Par};
use mlp::{Activation, Architecture};
use optim::{GradientFlow, run_gradient_flow};
use rayon::prelude::*;
use serde::Deserialize;

use crate::PerMode;
use crate::claim::{Claim, Comparison};
use crate::details::{Details, Series};
use crate::{ClaimResult, Family, Mode, RunOptions};

/// The fixture that configures this family.
pub const FIXTURE: &str = include_str!("../../../fixtures/claims/abp22.toml");

const KEYS: &[&str] = &[
    "qr_closed_form",
    "final_alignment",
    "t_half_scaling",
    "kernel_regression",
    "silent_timing",
];

/// The ABP22 family.
pub const FAMILY: Family = Family::new(
    "ABP22",
    KEYS,
    "abp22.toml",
    FIXTURE,
    &crate::study::WholeFamily {
        run,
        cost: [1.0, 1.0],
    },
);

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

/// Integrator tolerance: the measured quantities are compared with O(σ²)
/// and percent-level predictions, so 1e-10 per step is ample.
const FLOW: GradientFlow = GradientFlow {
    rtol: 1e-10,
    atol: 1e-16,
    weight_decay: 0.0,
    max_steps: 2_000_000,
};

/// Runs stop at the end of the first decade of time in which the loss is
/// below this fraction of its initial value (converged for every claim).
const CONVERGED: f64 = 1e-10;

/// A whitened (γ = 0) or partially whitened teacher task.
struct TaskData {
    x: Mat<f64>,
    y: Mat<f64>,
    beta: Mat<f64>,
}

fn task_data(task: &Task, gamma: f64, anisotropy: f64) -> Result<TaskData, String> {
    let mut r = rng(task.seed, Stream::Data);
    let raw = gaussian_matrix(task.samples, task.input_dim, &mut r);
    let raw = Mat::from_fn(raw.nrows(), raw.ncols(), |i, k| {
        raw[(i, k)] * ((k + 1) as f64).powf(-anisotropy)
    });
    let x = partially_whiten(&raw, gamma).map_err(|e| e.to_string())?;
    let beta = gaussian_matrix(task.input_dim, 1, &mut r);
    let beta = &beta * faer::Scale(1.0 / beta.norm_l2());
    let y = &x * &beta * faer::Scale(task.signal);
    Ok(TaskData { x, y, beta })
}

/// `W_l = σ/√d_{l−1} · G_l` with the same Gaussian `G_l` for every σ.
fn small_init(task: &Task, depth: usize, sigma: f64) -> (Vec<usize>, Vec<Mat<f64>>) {
    let widths = widths(task, depth);
    let mut r = rng(task.seed, Stream::Init);
    let params = widths
        .windows(2)
        .map(|w| gaussian_matrix(w[1], w[0], &mut r) * faer::Scale(sigma / (w[0] as f64).sqrt()))
        .collect();
    (widths, params)
}

fn widths(task: &Task, depth: usize) -> Vec<usize> {
    let mut w = vec![task.input_dim];
    w.extend(std::iter::repeat_n(task.hidden, depth - 1));
    w.push(1);
    w
}

/// Gradient flow from `theta0`, observed at t = 0, at `t_first` and then
/// at times growing by `10^{1/per_decade}`, until the loss is below
/// [`CONVERGED`]·ℒ(0). Each interval is a separate integration from the
/// last state (the flow is autonomous, so this is exact up to the
/// integrator's tolerance) so that the run stops within one interval of
/// convergence: deep networks leave their plateau abruptly, and integrating
/// a converged network over a long interval costs steps bounded by
/// stability, not accuracy. Returns the final weights.
fn flow(
    stats: &RegressionStats,
    widths: &[usize],
    theta0: &[Mat<f64>],
    t_first: f64,
    per_decade: usize,
    mut observe: impl FnMut(f64, f64, &[Mat<f64>]),
) -> Result<Vec<Mat<f64>>, String> {
    let mut objective = LinearObjective::new(stats, widths).map_err(|e| e.to_string())?;
    let growth = 10f64.powf(1.0 / per_decade.max(1) as f64);
    let mut theta = theta0.to_vec();
    let (mut t, mut loss0) = (0.0, f64::NAN);
    // Ample for 10 decades of time beyond t_first.
    for _ in 0..10 * per_decade + 2 {
        let step = if t == 0.0 {
            t_first
        } else {
            t * (growth - 1.0)
        };
        let times = if t == 0.0 {
            vec![0.0, step]
        } else {
            vec![step]
        };
        let (mut at, mut loss) = (t, f64::NAN);
        let (next, _) = run_gradient_flow(&FLOW, &mut objective, &theta, &times, |cp| {
            if at == 0.0 && cp.index == 0 {
                loss0 = cp.loss;
            }
            loss = cp.loss;
            observe(at + cp.time, cp.loss, cp.params);
        })
        .map_err(|e| e.to_string())?;
        at += step;
        t = at;
        theta = next;
        if loss <= CONVERGED * loss0 {
            return Ok(theta);
        }
    }
    Err(format!(
        "not converged by t = {t:.3e} (initial loss {loss0:.3e})"
    ))
}

fn linear_arch(widths: &[usize]) -> Architecture {
    Architecture::new(widths.to_vec(), Activation::Identity)
}

/// `A(K(θ), y)` of the empirical NTK on the training inputs, from the tiled
/// kernel statistics (no n × n kernel).
fn ntk_alignment(widths: &[usize], params: &[Mat<f64>], d: &TaskData) -> Result<f64, String> {
    ntk::KernelStatistics::compute(&linear_arch(widths), params, d.x.as_ref(), d.y.as_ref())
        .and_then(|s| Ok(s.alignment(0, 0)?))
        .map_err(|e| e.to_string())
}

fn run(options: &RunOptions) -> Vec<ClaimResult> {
    let cfg = match config() {
        Ok(c) => c,
        Err(e) => return crate::fixture_failure("ABP22", KEYS, "abp22.toml", &e),
    };
    let seed = |t: &Task| Task {
        seed: options.seed.unwrap_or(t.seed),
        ..*t
    };
    let jobs: Vec<Box<dyn Fn() -> Vec<ClaimResult> + Sync + Send>> = vec![
        Box::new(|| qr_closed_form(&cfg.qr, &seed(&cfg.qr.task))),
        Box::new(|| final_alignment(&cfg.alignment, &seed(&cfg.alignment.task), options.mode)),
        Box::new(|| t_half_scaling(&cfg.t_half, &seed(&cfg.t_half.task), options.mode)),
        Box::new(|| kernel_regression(&cfg.regression, &seed(&cfg.regression.task))),
        Box::new(|| silent_timing(&cfg.silent, &seed(&cfg.silent.task))),
    ];
    jobs.par_iter().flat_map_iter(|job| job()).collect()
}

/// `(q(t), r(t))` of the closed form, written with `e^{−2st}` so that it
/// stays finite at large t.
fn qr_closed(s: f64, q0: f64, t: f64) -> (f64, f64) {
    let e = (-2.0 * s * t).exp();
    let denom = 1.0 - e * (1.0 - 2.0 * s / q0);
    (s * (1.0 + e * e) / denom, s * (1.0 - e * e) / denom)
}

fn qr_closed_form(cfg: &Qr, task: &Task) -> Vec<ClaimResult> {
    cfg.sigmas
        .par_iter()
        .map(|&sigma| {
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
        })
        .collect()
}

fn qr_run(cfg: &Qr, task: &Task, sigma: f64) -> Result<(f64, Details), String> {
    let data = task_data(task, 0.0, 0.0)?;
    let (widths, mut params) = small_init(task, 2, sigma);
    let beta = data.beta.as_ref();
    // r_0 = 0: remove from a its component along v = Wβ.
    let v = &params[0] * beta;
    let a = params[1].transpose().to_owned();
    let coef = (a.transpose() * &v)[(0, 0)] / v.squared_norm_l2();
    params[1] = (a - &v * faer::Scale(coef)).transpose().to_owned();
    let order = |p: &[Mat<f64>]| {
        let v = &p[0] * beta;
        let r = (&p[1] * &v)[(0, 0)];
        (0.5 * (p[1].squared_norm_l2() + v.squared_norm_l2()), r)
    };
    let (q0, _) = order(&params);
    let s = task.signal;
    let stats =
        RegressionStats::new(data.x.as_ref(), data.y.as_ref()).map_err(|e| e.to_string())?;
    let mut worst = 0.0f64;
    let (mut ts, mut qs, mut rs) = (Vec::new(), Vec::new(), Vec::new());
    flow(
        &stats,
        &widths,
        &params,
        1e-2 / s,
        cfg.per_decade,
        |t, _, p| {
            let (q, r) = order(p);
            let (qc, rc) = qr_closed(s, q0, t);
            worst = worst.max((q - qc).abs() / qc).max((r - rc).abs() / qc);
            ts.push(t);
            qs.push(q);
            rs.push(r);
        },
    )?;
    let details = Details::new()
        .with_series(Series::new("q", "t", ts.clone(), qs))
        .with_series(Series::new("r", "t", ts, rs))
        .with_value("q0", q0);
    Ok((worst, details))
}

fn final_alignment(cfg: &AlignmentCfg, task: &Task, mode: Mode) -> Vec<ClaimResult> {
    let depths = cfg.depths.get(mode);
    let grid: Vec<(usize, f64)> = depths
        .iter()
        .flat_map(|&l| cfg.sigmas.iter().map(move |&s| (l, s)))
        .collect();
    let rank = task.samples.min(task.input_dim) as f64;
    grid.par_iter()
        .map(|&(depth, sigma)| {
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
            let run = || -> Result<(f64, f64), String> {
                let data = task_data(task, 0.0, 0.0)?;
                let (widths, params) = small_init(task, depth, sigma);
                let a0 = ntk_alignment(&widths, &params, &data)?;
                let stats = RegressionStats::new(data.x.as_ref(), data.y.as_ref())
                    .map_err(|e| e.to_string())?;
                let end = flow(&stats, &widths, &params, 1e-2, cfg.per_decade, |_, _, _| {})?;
                Ok((a0, ntk_alignment(&widths, &end, &data)?))
            };
            match run() {
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
        })
        .collect()
}

/// The time at which the loss first reaches half its initial value: the
/// run is recorded at its checkpoints (growth `10^{1/per_decade}`), then the
/// bracketing interval is integrated again from its start with 1000 equal
/// sub-intervals and the crossing is interpolated linearly in t inside the
/// sub-interval. Deep networks leave their plateau within one checkpoint
/// interval, so the coarse grid alone would resolve t_½ only to ~5%.
fn half_time(
    stats: &RegressionStats,
    widths: &[usize],
    theta0: &[Mat<f64>],
    per_decade: usize,
) -> Result<f64, String> {
    let mut record: Vec<(f64, f64, Vec<Mat<f64>>)> = Vec::new();
    flow(stats, widths, theta0, 1e-2, per_decade, |t, l, p| {
        record.push((t, l, p.to_vec()))
    })?;
    let target = 0.5 * record[0].1;
    let k = record
        .iter()
        .position(|r| r.1 <= target)
        .ok_or("the loss never halved")?;
    if k == 0 {
        return Err("the initial loss is zero".into());
    }
    let (t0, t1) = (record[k - 1].0, record[k].0);
    let sub = 1000;
    let times: Vec<f64> = (0..=sub)
        .map(|i| (t1 - t0) * i as f64 / sub as f64)
        .collect();
    let mut fine: Vec<(f64, f64)> = Vec::with_capacity(sub + 1);
    let mut objective = LinearObjective::new(stats, widths).map_err(|e| e.to_string())?;
    run_gradient_flow(&FLOW, &mut objective, &record[k - 1].2, &times, |cp| {
        fine.push((t0 + cp.time, cp.loss))
    })
    .map_err(|e| e.to_string())?;
    let j = fine
        .iter()
        .position(|f| f.1 <= target)
        .filter(|&j| j > 0)
        .ok_or("the refined run does not cross half the loss")?;
    let ((ta, la), (tb, lb)) = (fine[j - 1], fine[j]);
    Ok(ta + (tb - ta) * (la - target) / (la - lb))
}

fn t_half_scaling(cfg: &THalf, task: &Task, mode: Mode) -> Vec<ClaimResult> {
    let grids: Vec<&THalfGrid> = cfg
        .grid
        .iter()
        .filter(|g| mode == Mode::Full || cfg.depths_quick.contains(&g.depth))
        .collect();
    grids
        .par_iter()
        .map(|g| {
            let depth = g.depth;
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
            .param("sigmas", g.sigmas.clone());
            let halves: Result<Vec<f64>, String> = g
                .sigmas
                .par_iter()
                .map(|&sigma| {
                    let data = task_data(task, 0.0, 0.0)?;
                    let (widths, params) = small_init(task, depth, sigma);
                    let stats = RegressionStats::new(data.x.as_ref(), data.y.as_ref())
                        .map_err(|e| e.to_string())?;
                    half_time(&stats, &widths, &params, cfg.per_decade)
                })
                .collect();
            match halves {
                Ok(t) => {
                    let measured = if depth == 2 {
                        let x: Vec<f64> = g.sigmas.iter().map(|s| (1.0 / s).ln()).collect();
                        slope(&x, &t)
                    } else {
                        let x: Vec<f64> = g.sigmas.iter().map(|s| s.ln()).collect();
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
        })
        .collect()
}

/// Held-out relative errors of kernel regression with the final and the
/// initial NTK against the trained network's `f − f_0`.
fn regression_errors(
    cfg: &Regression,
    task: &Task,
    depth: usize,
    sigma: f64,
) -> Result<(f64, f64), String> {
    let data = task_data(task, 0.0, 0.0)?;
    let mut r = rng(task.seed, Stream::LabelNoise);
    let x_test = gaussian_matrix(cfg.test_samples, task.input_dim, &mut r);
    let (widths, params) = small_init(task, depth, sigma);
    let stats =
        RegressionStats::new(data.x.as_ref(), data.y.as_ref()).map_err(|e| e.to_string())?;
    let end = flow(&stats, &widths, &params, 1e-2, cfg.per_decade, |_, _, _| {})?;
    let arch = linear_arch(&widths);
    let f = |p: &[Mat<f64>]| deep_linear::forward(p, x_test.as_ref()).map_err(|e| e.to_string());
    let change = f(&end)? - f(&params)?;
    let krr_error = |p: &[Mat<f64>]| -> Result<f64, String> {
        let k =
            ntk::per_output_ntk(&arch, p, data.x.as_ref(), Par::Seq).map_err(|e| e.to_string())?;
        let cross =
            ntk::per_output_ntk_between(&arch, p, x_test.as_ref(), data.x.as_ref(), Par::Seq)
                .map_err(|e| e.to_string())?;
        // λ = 0 (absolute): K is positive definite for P < D with X of full
        // row rank; a singular K is reported as an error, not regularised.
        let fit = ntk::KernelRidge::fit(k[0].as_ref(), data.y.as_ref(), 0.0, Par::Seq)
            .map_err(|e| e.to_string())?;
        let pred = fit.predict(cross[0].as_ref()).map_err(|e| e.to_string())?;
        Ok((&pred - &change).norm_l2() / change.norm_l2())
    };
    Ok((krr_error(&end)?, krr_error(&params)?))
}

fn kernel_regression(cfg: &Regression, task: &Task) -> Vec<ClaimResult> {
    cfg.depths
        .par_iter()
        .map(|&depth| {
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
            let errors: Result<Vec<(f64, f64)>, String> = cfg
                .sigmas
                .par_iter()
                .map(|&s| regression_errors(cfg, task, depth, s))
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
        })
        .collect()
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

fn silent_run(cfg: &Silent, task: &Task, gamma: f64) -> Result<SilentRun, String> {
    let data = task_data(task, gamma, cfg.anisotropy)?;
    let (widths, params) = small_init(task, cfg.depth, cfg.sigma);
    let stats =
        RegressionStats::new(data.x.as_ref(), data.y.as_ref()).map_err(|e| e.to_string())?;
    let (mut time, mut loss, mut alignment) = (Vec::new(), Vec::new(), Vec::new());
    let mut failure = None;
    flow(&stats, &widths, &params, 1e-2, cfg.per_decade, |t, l, p| {
        time.push(t);
        loss.push(l);
        match ntk_alignment(&widths, p, &data) {
            Ok(a) => alignment.push(a),
            Err(e) => failure = Some(e),
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let a_final = *alignment.last().ok_or("no checkpoints")?;
    let first = |ok: &dyn Fn(usize) -> bool| (0..time.len()).find(|&k| ok(k)).map(|k| time[k]);
    let t_align = first(&|k| alignment[k] >= 0.9 * a_final).ok_or("alignment never at 90%")?;
    let t_loss = first(&|k| loss[k] <= 0.9 * loss[0]).ok_or("loss never fell 10%")?;
    Ok(SilentRun {
        time,
        loss,
        alignment,
        t_align,
        t_loss,
    })
}

fn silent_timing(cfg: &Silent, task: &Task) -> Vec<ClaimResult> {
    cfg.gammas
        .par_iter()
        .map(|&gamma| {
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
        })
        .collect()
}
