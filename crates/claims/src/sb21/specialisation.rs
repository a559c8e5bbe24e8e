//! SB21's kernel specialisation (module docs of [`super`]): per-output kernels'
//! alignment with their own targets, in four conventions.

use faer::{Mat, Par};
use networks::Architecture;
use serde::{Deserialize, Serialize};

use super::{
    Config, Data, Net, Point, Records, RegimeKind, SETTINGS, Specialisation, Step, Task, Trained,
    figures, kernels, point_cost, product, records, trained,
};
use crate::claim::{Claim, Comparison, Direction, Precondition, Statement, Test};
use crate::details::{Details, Matrix, Summary};
use crate::study::{Cells, Runs};
use crate::{ClaimResult, RunOptions, UnitError};

/// The specialisation claims' units: a setting × seeds.
pub(super) struct SpecialisationStudy;

/// A specialisation setting: regime, task and network.
type Setting = (RegimeKind, Task, Net);

impl Cells for SpecialisationStudy {
    type Config = Config;
    type Cell = Setting;
    type Measurement = Result<SpecRun, UnitError>;

    fn cells(&self, cfg: &Config, options: &RunOptions) -> Vec<(Setting, Vec<u64>)> {
        let seeds = cfg.specialisation.seeds.get(options.mode);
        SETTINGS.map(|s| (s, seeds.clone())).to_vec()
    }

    fn name(&self, (regime, task, net): &Setting) -> String {
        format!(
            "{},net={},kernel_motion={}",
            task.id(),
            net.name(),
            regime.name()
        )
    }

    fn cost(&self, cfg: &Config, options: &RunOptions, &(regime, task, net): &Setting) -> f64 {
        let seed = 0;
        point_cost(
            cfg,
            options,
            Point::Specialisation {
                regime,
                task,
                net,
                seed,
            },
        )
    }

    fn measure(
        &self,
        cfg: &Config,
        options: &RunOptions,
        &(regime, task, net): &Setting,
        seed: u64,
    ) -> Self::Measurement {
        let point = Point::Specialisation {
            regime,
            task,
            net,
            seed,
        };
        trained(cfg, options, point).and_then(|r| spec_run(&r, net))
    }

    fn conclude_cells(
        &self,
        cfg: &Config,
        options: &RunOptions,
        cells: Vec<Runs<Setting, Self::Measurement>>,
    ) -> Vec<ClaimResult> {
        specialisation_claims(&cfg.specialisation, options, &records(cells))
    }

    fn declare_figures(
        &self,
        _: &Config,
        _: &RunOptions,
        claims: &[ClaimResult],
    ) -> Vec<figure::Declared> {
        figures::declared(claims)
    }
}

/// Which per-output kernel S is computed from (SPEC §8): the full
/// `K_c`, or its hidden-layer part `K_c − G` without the readout block
/// `G = φ(H_{L−1})φ(H_{L−1})ᵀ` that every output's kernel contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Full,
    Hidden,
}

/// The alignment S is computed with: uncentred `A(K, y)` (SB21) or
/// centred `A(HKH, Hy)` (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alignment {
    Uncentred,
    Centred,
}

/// The four conventions of S, in the order of [`SpecRun::matrices`].
const CONVENTIONS: [(Part, Alignment); 4] = [
    (Part::Full, Alignment::Uncentred),
    (Part::Full, Alignment::Centred),
    (Part::Hidden, Alignment::Uncentred),
    (Part::Hidden, Alignment::Centred),
];

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Full => "full",
            Part::Hidden => "hidden",
        }
    }
}

impl Alignment {
    fn name(self) -> &'static str {
        match self {
            Alignment::Uncentred => "uncentred",
            Alignment::Centred => "centred",
        }
    }
}

/// One specialisation run: S after training and at init in every
/// convention, the per-output kernels' mutual alignment and their motion,
/// and for the linear network the bounds of the module docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SpecRun {
    /// `S_{cc'}` after training in each of [`CONVENTIONS`], by rows.
    matrices: Vec<Vec<Vec<f64>>>,
    /// The same at init.
    matrices_init: Vec<Vec<Vec<f64>>>,
    /// `mean_{c≠c'} A(K_c, K_c')` after training: full and hidden kernels.
    kernel_alignment_mean: [f64; 2],
    /// The same at init.
    kernel_alignment_mean_init: [f64; 2],
    /// `min_{c≠c'} A(K_c, K_c')` after training: full and hidden kernels.
    kernel_alignment_min: [f64; 2],
    /// The same at init.
    kernel_alignment_min_init: [f64; 2],
    /// Kernel motion `mean_c (1 − A(K_c(0), K_c(T)))`: full and hidden.
    kernel_motion: [f64; 2],
    linear_bounds: Option<[f64; 2]>,
    final_loss_ratio: f64,
    /// `max_l ‖W_l − W_l(0)‖_F / ‖W_l(0)‖_F` after training.
    weight_change: f64,
}

/// A statistic of S (after training or at init).
type OfS = fn(&Mat<f64>) -> f64;

/// The diagonal contrast `mean_c S_cc − mean_{c≠c'} S_cc'` (0 without
/// specialisation; [`ntk::diagonal_contrast`]).
fn contrast(s: &Mat<f64>) -> f64 {
    ntk::diagonal_contrast(s.as_ref()).unwrap_or(f64::NAN)
}

/// The mean row margin `mean_c (S_cc − max_{c'≠c} S_cc')`.
fn mean_row_margin(s: &Mat<f64>) -> f64 {
    let m = ntk::diagonal_margins(s.as_ref()).unwrap_or_default();
    m.iter().sum::<f64>() / m.len().max(1) as f64
}

/// The fraction of rows with a positive margin.
fn positive_rows(s: &Mat<f64>) -> f64 {
    let m = ntk::diagonal_margins(s.as_ref()).unwrap_or_default();
    m.iter().filter(|&&v| v > 0.0).count() as f64 / m.len().max(1) as f64
}

/// The mean column margin `mean_c (S_cc − max_{c'≠c} S_c'c)` (details only:
/// the maximum over rows biases it below 0 where the kernels differ).
fn mean_column_margin(s: &Mat<f64>) -> f64 {
    column_mean_margin(s).unwrap_or(f64::NAN)
}

/// The fraction of targets c whose own kernel aligns best with them,
/// `S_cc > max_{c'≠c} S_c'c`.
fn own_kernel_wins(s: &Mat<f64>) -> f64 {
    positive_rows(&s.transpose().to_owned())
}

fn to_mat(m: &[Vec<f64>]) -> Mat<f64> {
    Mat::from_fn(m.len(), m.len(), |i, j| m[i][j])
}

impl SpecRun {
    fn index(part: Part, alignment: Alignment) -> usize {
        CONVENTIONS
            .iter()
            .position(|&c| c == (part, alignment))
            .expect("every convention is computed")
    }

    /// S after training in a convention.
    fn matrix(&self, part: Part, alignment: Alignment) -> Mat<f64> {
        to_mat(&self.matrices[Self::index(part, alignment)])
    }

    /// S at init in a convention.
    fn matrix_init(&self, part: Part, alignment: Alignment) -> Mat<f64> {
        to_mat(&self.matrices_init[Self::index(part, alignment)])
    }

    /// A statistic of S after training minus the same at init.
    fn change(&self, part: Part, alignment: Alignment, f: OfS) -> f64 {
        f(&self.matrix(part, alignment)) - f(&self.matrix_init(part, alignment))
    }

    /// The row-wise diagonal excess `min_c (S_cc − max_{c'≠c} S_cc')`
    /// (the linear network's bound is on it).
    fn row_excess(&self, part: Part, alignment: Alignment) -> f64 {
        ntk::diagonal_excess(self.matrix(part, alignment).as_ref()).unwrap_or(f64::NAN)
    }
}

/// The two bounds of the module docs for a two-layer linear network:
/// rows, `min_{c≠m} |u_c − ū| |β^1_c − β^1_m| / ‖K_c‖_F`; columns,
/// `min_{c'} min_{m≠c'} (|a_{c'} − a_m| β^1_{c'} + |b_{c'} − b_m| β^2_{c'})`
/// with `a_c = u_c/‖K_c‖_F`, `b_c = 1/‖K_c‖_F`.
fn linear_bounds(params: &[Mat<f64>], x: &Mat<f64>, y: &Mat<f64>, norm: &[f64]) -> [f64; 2] {
    let (w, a) = (&params[0], &params[1]);
    let c = y.ncols();
    let u: Vec<f64> = (0..c).map(|i| a.row(i).squared_norm_l2()).collect();
    let ubar = u.iter().sum::<f64>() / c as f64;
    let xw = product(x.as_ref(), w.transpose());
    let beta = |m: &Mat<f64>, j: usize| m.col(j).squared_norm_l2() / y.col(j).squared_norm_l2();
    let xty = product(x.transpose(), y.as_ref());
    let wxy = product(xw.transpose(), y.as_ref());
    let b1: Vec<f64> = (0..c).map(|j| beta(&xty, j)).collect();
    let b2: Vec<f64> = (0..c).map(|j| beta(&wxy, j)).collect();
    let sbar: Vec<f64> = (0..c).map(|j| ubar * b1[j] + b2[j]).collect();
    let m = (0..c)
        .max_by(|&i, &j| sbar[i].total_cmp(&sbar[j]))
        .unwrap_or(0);
    let rows = (0..c)
        .filter(|&i| i != m)
        .map(|i| (u[i] - ubar).abs() * (b1[i] - b1[m]).abs() / norm[i])
        .fold(f64::INFINITY, f64::min);
    let mut cols = f64::INFINITY;
    for j in 0..c {
        for i in (0..c).filter(|&i| i != j) {
            let da = (u[j] / norm[j] - u[i] / norm[i]).abs();
            let db = (1.0 / norm[j] - 1.0 / norm[i]).abs();
            cols = cols.min(da * b1[j] + db * b2[j]);
        }
    }
    [rows, cols]
}

/// `mean_c (S_cc − max_{c'≠c} S_c'c)`: the mean of the column margins.
fn column_mean_margin(s: &Mat<f64>) -> Result<f64, metrics::MetricError> {
    let margins = ntk::diagonal_margins(s.transpose())?;
    Ok(margins.iter().sum::<f64>() / margins.len() as f64)
}

/// The per-output kernels of a network on `x`, full and without the
/// readout block, dense (`n × n` each; the tiled statistics do not separate
/// the readout block, and the study's n is a few hundred).
fn kernel_parts(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: &Mat<f64>,
) -> Result<[Vec<Mat<f64>>; 2], UnitError> {
    let full = kernels(arch, params, x)?;
    let fwd = networks::forward(arch, params, x.as_ref(), Par::Seq)?;
    let a = fwd.post.last().ok_or_else(|| {
        UnitError::new("a network without a hidden layer has only the readout block")
    })?;
    let g = product(a.as_ref(), a.transpose());
    let hidden = full
        .iter()
        .map(|k| {
            Mat::from_fn(k.nrows(), k.ncols(), |i, j| {
                k[(i, j)] - 0.5 * (g[(i, j)] + g[(j, i)])
            })
        })
        .collect();
    Ok([full, hidden])
}

/// `S_{cc'} = A(K_c, y_{c'})` with `alignment`.
fn specialisation(
    ks: &[Mat<f64>],
    y: &Mat<f64>,
    alignment: Alignment,
) -> Result<Mat<f64>, metrics::MetricError> {
    match alignment {
        Alignment::Uncentred => ntk::specialisation_matrix(ks, y.as_ref()),
        Alignment::Centred => ntk::centered_specialisation_matrix(ks, y.as_ref()),
    }
}

/// `min_{c≠c'} A(K_c, K_c')`.
fn min_kernel_alignment(ks: &[Mat<f64>]) -> Result<f64, metrics::MetricError> {
    let mut min = f64::INFINITY;
    for i in 0..ks.len() {
        for j in 0..i {
            min = min.min(ntk::kernel_alignment(ks[i].as_ref(), ks[j].as_ref())?);
        }
    }
    Ok(min)
}

/// A statistic of a set of per-output kernels.
type KernelStatistic = dyn Fn(&[Mat<f64>]) -> Result<f64, metrics::MetricError>;

/// `mean_{c≠c'} A(K_c, K_c')`.
fn mean_kernel_alignment(ks: &[Mat<f64>]) -> Result<f64, metrics::MetricError> {
    let (mut sum, mut pairs) = (0.0, 0usize);
    for i in 0..ks.len() {
        for j in 0..i {
            sum += ntk::kernel_alignment(ks[i].as_ref(), ks[j].as_ref())?;
            pairs += 1;
        }
    }
    Ok(sum / pairs.max(1) as f64)
}

/// `mean_c (1 − A(K_c(0), K_c(T)))`.
fn kernel_motion(init: &[Mat<f64>], end: &[Mat<f64>]) -> Result<f64, metrics::MetricError> {
    let mut sum = 0.0;
    for (k0, k) in init.iter().zip(end) {
        sum += 1.0 - ntk::kernel_alignment(k0.as_ref(), k.as_ref())?;
    }
    Ok(sum / init.len().max(1) as f64)
}

fn spec_run(run: &Trained, net: Net) -> Result<SpecRun, UnitError> {
    let (x, y) = (&run.prepared.data.x, &run.prepared.data.y);
    let (init, end) = (&run.traj.snapshots[0], &run.traj.snapshots[1]);
    let arch = run.exp.architecture();
    let parts0 = kernel_parts(&arch, &init.weights, x)?;
    let parts = kernel_parts(&arch, &end.weights, x)?;
    let matrices = |parts: &[Vec<Mat<f64>>; 2]| -> Result<Vec<Vec<Vec<f64>>>, UnitError> {
        CONVENTIONS
            .iter()
            .map(|&(part, alignment)| {
                let ks = &parts[usize::from(part == Part::Hidden)];
                let m = specialisation(ks, y, alignment)?;
                Ok((0..m.nrows())
                    .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
                    .collect())
            })
            .collect()
    };
    let both = |f: &KernelStatistic, parts: &[Vec<Mat<f64>>; 2]| -> Result<[f64; 2], UnitError> {
        Ok([f(&parts[0])?, f(&parts[1])?])
    };
    Ok(SpecRun {
        matrices: matrices(&parts)?,
        matrices_init: matrices(&parts0)?,
        kernel_alignment_mean: both(&mean_kernel_alignment, &parts)?,
        kernel_alignment_mean_init: both(&mean_kernel_alignment, &parts0)?,
        kernel_alignment_min: both(&min_kernel_alignment, &parts)?,
        kernel_alignment_min_init: both(&min_kernel_alignment, &parts0)?,
        kernel_motion: [
            kernel_motion(&parts0[0], &parts[0])?,
            kernel_motion(&parts0[1], &parts[1])?,
        ],
        linear_bounds: (net == Net::Linear).then(|| {
            let norms: Vec<f64> = parts[0].iter().map(|k| k.norm_l2()).collect();
            linear_bounds(&end.weights, x, y, &norms)
        }),
        final_loss_ratio: end.loss / init.loss,
        weight_change: (init.weights.iter().zip(&end.weights))
            .map(|(w0, w)| (w - w0).norm_l2() / w0.norm_l2())
            .fold(0.0, f64::max),
    })
}

/// The bound of the linear network is an identity plus the dropped
/// non-positive term: it holds up to the rounding of n²-term sums of O(1)
/// alignments.
const LINEAR_ROUNDING: f64 = 1e-10;

fn specialisation_claims(
    s: &Specialisation,
    options: &RunOptions,
    runs: &Records<(Setting, u64), SpecRun>,
) -> Vec<ClaimResult> {
    let mode = options.mode;
    let mut out = Vec::new();
    let seeds = s.seeds(options);
    // A setting's runs with their seeds, in plan order.
    let of =
        |regime: RegimeKind, task: Task, net: Net| -> Vec<(u64, &Result<SpecRun, UnitError>)> {
            runs.iter()
                .filter(|((key, _), _)| *key == (regime, task, net))
                .map(|((_, seed), r)| (*seed, r))
                .collect()
        };
    for (regime, task, net) in SETTINGS {
        let r = s.regime(regime);
        let claim = |statement: &str, convention: &str| {
            let mut claim = Claim::new("SB21", "specialisation", statement, convention)
                .id_param("data", task.data().name());
            if let Some(t) = task.target() {
                claim = claim.id_param("target", t.name());
            }
            let n = match task.data() {
                Data::Digits => s.digits_samples.get(mode),
                Data::Synthetic => s.synthetic_samples.get(mode),
            };
            claim
                .id_param("net", net.name())
                .id_param("kernel_motion", regime.name())
                .param("seeds", seeds.clone())
                .param("depth", r.depth)
                .param("width", r.width.get(mode))
                .param("sigma", r.sigma.clone())
                .param(
                    "step",
                    match r.step {
                        Step::Fraction(f) => format!("ηΣ_cλ_max(K_c)/n = {f} at init"),
                        Step::LearningRate(eta) => format!("η = {eta}"),
                    },
                )
                .param("n", n)
                .param("steps", r.steps.get(mode))
        };
        let mine = of(regime, task, net);
        let ok: Vec<&SpecRun> = mine.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
        let error = mine.iter().find_map(|(_, r)| r.as_ref().err());
        if net == Net::Linear {
            let claim = claim(
                "SB21: linear networks do not specialise; derived: K_c = ‖A_c‖²XXᵀ + XWᵀWXᵀ bounds the diagonal excess of S by min_{c≠m}|u_c − ū||β¹_c − β¹_m|/‖K_c‖_F",
                "two-layer linear network f = AWx; measured = max over seeds of (diagonal excess − bound), by rows and by columns",
            );
            if let Some(e) = error {
                out.push(claim.failed(None, e.clone()));
                continue;
            }
            let worst = ok
                .iter()
                .map(|r| {
                    let [row, col] = r.linear_bounds.unwrap_or([f64::NAN; 2]);
                    let s = r.matrix(Part::Full, Alignment::Uncentred);
                    let column_excess = ntk::diagonal_excess(s.transpose()).unwrap_or(f64::NAN);
                    (r.row_excess(Part::Full, Alignment::Uncentred) - row).max(column_excess - col)
                })
                .fold(f64::NEG_INFINITY, f64::max);
            out.push(
                claim
                    .details(spec_details(&ok, Part::Full, Alignment::Uncentred))
                    .check(
                        0.0,
                        worst,
                        LINEAR_ROUNDING,
                        Comparison::AtMost,
                        "exact bounds from the two-layer linear NTK; rounding of O(1) alignments",
                    ),
            );
            continue;
        }
        if let Some(e) = error {
            out.push(
                claim(
                    "SB21: the per-output NTKs of a nonlinear network specialise",
                    "",
                )
                .failed(None, e.clone()),
            );
            continue;
        }
        // The precondition of each kernel part: the per-output kernels
        // move from init (SB21's statement is about kernels that evolve; a
        // frozen kernel's S is its init value).
        let mut holds = [Precondition::Open; 2];
        for part in [Part::Full, Part::Hidden] {
            let k = usize::from(part == Part::Hidden);
            let motion = per_seed(&ok, |r| r.kernel_motion[k]);
            let (row, moved) = claim(
                "precondition of SB21's specialisation rows: the per-output kernels move from init",
                &format!(
                    "{} per-output kernels; effect per seed = mean_c (1 − A(K_c(0), K_c(T))), the kernel motion",
                    part.name()
                ),
            )
            .id_param("by", "precondition")
            .id_param("kernel", part.name())
            .details(
                Details::new()
                    .with_statistic(Summary::with_per_seed("kernel_motion", &motion))
                    .with_statistic(Summary::with_per_seed(
                        "kernels_apart",
                        &per_seed(&ok, |r| {
                            r.kernel_alignment_mean_init[k] - r.kernel_alignment_mean[k]
                        }),
                    ))
                    .with_statistic(Summary::over_seeds(
                        "mean_pairwise_kernel_alignment_init",
                        &per_seed(&ok, |r| r.kernel_alignment_mean_init[k]),
                    ))
                    .with_statistic(Summary::over_seeds(
                        "mean_pairwise_kernel_alignment",
                        &per_seed(&ok, |r| r.kernel_alignment_mean[k]),
                    ))
                    .with_statistic(Summary::over_seeds(
                        "min_pairwise_kernel_alignment",
                        &per_seed(&ok, |r| r.kernel_alignment_min[k]),
                    ))
                    .with_statistic(Summary::over_seeds(
                        "weight_change",
                        &per_seed(&ok, |r| r.weight_change),
                    )),
            )
            .precondition(&motion, Direction::Positive, MOTION_DELTA, "Student t");
            holds[k] = moved;
            out.push(row);
        }
        let untestable = |part: Part| {
            format!(
                "untestable here: the {} per-output kernels do not move from init (see the `by=precondition` row), so S keeps its init value",
                part.name()
            )
        };
        // The linear network of the same data and seeds, where there is one.
        let with_linear = SETTINGS.contains(&(regime, task, Net::Linear));
        let linear: Vec<(u64, &SpecRun)> = if with_linear {
            of(regime, task, Net::Linear)
        } else {
            Vec::new()
        }
        .into_iter()
        .filter_map(|(seed, r)| Some((seed, r.as_ref().ok()?)))
        .collect();
        let relu_by_seed: Vec<(u64, &SpecRun)> = mine
            .iter()
            .filter_map(|(seed, r)| Some((*seed, r.as_ref().ok()?)))
            .collect();
        for (part, alignment) in CONVENTIONS {
            let k = usize::from(part == Part::Hidden);
            let convention = format!(
                "{} alignment of the {} per-output kernels ({})",
                alignment.name(),
                part.name(),
                match part {
                    Part::Full => "K_c",
                    Part::Hidden => "K_c − G without the shared readout block",
                }
            );
            // A row on S's diagonal contrast against the baseline `vs`.
            let contrast_claim = |vs: &str, statement: &str, effect: &str| {
                claim(statement, &format!("{convention}; {effect}"))
                    .id_param("by", "contrast")
                    .id_param("vs", vs)
                    .id_param("kernel", part.name())
                    .id_param("alignment", alignment.name())
            };
            let effect = per_seed(&ok, |r| r.change(part, alignment, contrast));
            let row = contrast_claim(
                "init",
                "kernel specialisation: S's diagonal contrast rises from init",
                "effect per seed = D(S_T) − D(S_0), D(S) = mean_c S_cc − mean_{c≠c'} S_cc' (0 without specialisation), paired",
            )
            .details(contrast_details(&ok, part, alignment))
            .judge(
                &effect,
                &contrast_test("paired Student t"),
                &disagreement(&ok, part, alignment),
            )
            .given(holds[k], &untestable(part));
            out.push(row);
            if !linear.is_empty() {
                let pairs: Vec<(&SpecRun, &SpecRun)> = relu_by_seed
                    .iter()
                    .filter_map(|(seed, a)| {
                        linear
                            .iter()
                            .find(|(s, _)| s == seed)
                            .map(|(_, b)| (*a, *b))
                    })
                    .collect();
                let effect: Vec<f64> = pairs
                    .iter()
                    .map(|(a, b)| {
                        contrast(&a.matrix(part, alignment)) - contrast(&b.matrix(part, alignment))
                    })
                    .collect();
                out.push(
                    contrast_claim(
                        "linear",
                        "kernel specialisation: S's diagonal contrast is above that of a linear network (which cannot specialise) of the same data",
                        "effect per seed = D(S_T) of the ReLU network − D(S_T) of the two-layer linear network, same data and seed, paired",
                    )
                    .judge_per_seed(
                        "contrast_minus_linear",
                        &effect,
                        &contrast_test("paired Student t"),
                        "the ReLU network's diagonal contrast is not above the linear network's on the same data",
                    ),
                );
            }
        }
        let wins = per_seed(&ok, |r| {
            r.change(Part::Full, Alignment::Uncentred, own_kernel_wins)
        });
        out.push(
            claim(
                "kernel specialisation by columns: more targets align best with their own output's kernel than at init",
                "uncentred alignment of the full kernels; effect per seed = W(S_T) − W(S_0), W(S) = the fraction of targets c with S_cc > max_{c'≠c} S_c'c (each column holds one target, so this is free of the targets' difficulty; its change is 0 in expectation for kernels that do not specialise), paired",
            )
            .id_param("by", "column")
            .judge_per_seed(
                "own_kernel_wins_change",
                &wins,
                &Test {
                    delta: 0.1,
                    delta_reason: "one target in ten won by its own kernel",
                    ..contrast_test("paired Student t")
                },
                "no more targets align best with their own output's kernel than at init",
            )
            .given(holds[0], &untestable(Part::Full)),
        );
    }
    out
}

/// SB21's specialisation statement (SPEC §6, §8).
const SPECIALISES: Statement = Statement {
    family: "SB21.specialisation",
    quote: "In nonlinear networks with multiple outputs, we identify the phenomenon of kernel specialization, where the kernel function for each output head preferentially aligns to its own target function.",
    source: "SB21 (v2), abstract",
    differs: "'preferentially aligns to its own target' is measured as the diagonal contrast of S = A(K_c, y_c') (mean diagonal − mean off-diagonal, 0 when the outputs share one kernel) rising from init and exceeding a linear network's, and as the fraction of targets won by their own kernel rising from init; not as 'above every other target in every row', which SB21 does not say",
};

/// The test of every specialisation row: SB21's direction and δ.
fn contrast_test(method: &'static str) -> Test<'static> {
    Test {
        statement: &SPECIALISES,
        direction: Direction::Positive,
        delta: CONTRAST_DELTA,
        delta_reason: "0.01 in kernel–target alignment (which lies in [0, 1]): a diagonal advantage below 1 % of the alignment's range would not show in SB21's specialisation figures",
        method,
        resolution: 0.0,
    }
}

/// δ of the kernel-motion precondition: a motion `1 − A(K_c(0), K_c(T))`
/// below 0.001 leaves S at its init value to within the rounding of the
/// figures.
const MOTION_DELTA: f64 = 1e-3;

/// δ of the specialisation rows, in alignment.
const CONTRAST_DELTA: f64 = 0.01;

/// The likely cause of a disagreement: the rows whose mean margin over
/// seeds is negative (with how hard their own target is) and whether the
/// per-row means support the paper.
fn disagreement(ok: &[&SpecRun], part: Part, alignment: Alignment) -> String {
    let margins = mean_over_seeds(ok, &|r| {
        ntk::diagonal_margins(r.matrix(part, alignment).as_ref()).unwrap_or_default()
    });
    let outputs = margins.len();
    let positive = margins.iter().filter(|&&m| m > 0.0).count();
    format!(
        "the diagonal contrast does not rise from init; {positive} of {outputs} rows have a positive mean margin S_cc − max_{{c'≠c}} S_cc' after training"
    )
}

/// The mean over seeds of a per-output vector.
fn mean_over_seeds(ok: &[&SpecRun], f: &dyn Fn(&SpecRun) -> Vec<f64>) -> Vec<f64> {
    let outputs = ok.first().map_or(0, |r| r.matrices[0].len());
    let mut mean = vec![0.0; outputs];
    for r in ok {
        for (m, v) in mean.iter_mut().zip(f(r)) {
            *m += v / ok.len() as f64;
        }
    }
    mean
}

/// The double-centred `S̃ = S − row means − column means + grand mean`.
fn double_centred(s: &Mat<f64>) -> Mat<f64> {
    let c = s.nrows();
    let grand = s.sum() / (c * c) as f64;
    let row: Vec<f64> = (0..c).map(|i| s.row(i).sum() / c as f64).collect();
    let col: Vec<f64> = (0..c).map(|j| s.col(j).sum() / c as f64).collect();
    Mat::from_fn(c, c, |i, j| s[(i, j)] - row[i] - col[j] + grand)
}

/// The details of a contrast row: the statistic after training and at
/// init per seed, the mean and fraction-positive row margins, the
/// double-centred S's row margins, and the mean S (for the heat map).
fn contrast_details(ok: &[&SpecRun], part: Part, alignment: Alignment) -> Details {
    let final_and_init = |name: &str, f: OfS| {
        [
            Summary::with_per_seed(name, &per_seed(ok, |r| f(&r.matrix(part, alignment)))),
            Summary::with_per_seed(
                &format!("{name}_init"),
                &per_seed(ok, |r| f(&r.matrix_init(part, alignment))),
            ),
        ]
    };
    let mut details = spec_details(ok, part, alignment);
    for name_f in [
        ("diagonal_contrast", contrast as OfS),
        ("mean_row_margin", mean_row_margin as OfS),
        ("fraction_positive_rows", positive_rows as OfS),
        ("mean_column_margin", mean_column_margin as OfS),
    ] {
        for summary in final_and_init(name_f.0, name_f.1) {
            details = details.with_statistic(summary);
        }
    }
    let margins = |f: &dyn Fn(&SpecRun) -> Mat<f64>| {
        mean_over_seeds(ok, &|r| {
            ntk::diagonal_margins(f(r).as_ref()).unwrap_or_default()
        })
    };
    details
        .with_list(
            "mean_row_margin_per_output",
            margins(&|r| r.matrix(part, alignment)),
        )
        .with_list(
            "double_centred_row_margin_per_output",
            margins(&|r| double_centred(&r.matrix(part, alignment))),
        )
        .with_list(
            "mean_diagonal_per_output",
            mean_over_seeds(ok, &|r| {
                let m = r.matrix(part, alignment);
                (0..m.nrows()).map(|c| m[(c, c)]).collect()
            }),
        )
}

/// One value of every seed's run.
fn per_seed(runs: &[&SpecRun], f: impl Fn(&SpecRun) -> f64) -> Vec<f64> {
    runs.iter().map(|r| f(r)).collect()
}

/// The mean over seeds of S in a convention, for the heat map.
fn mean_matrix(ok: &[&SpecRun], part: Part, alignment: Alignment) -> Matrix {
    let outputs = ok.first().map_or(0, |r| r.matrices[0].len());
    let mut mean = vec![vec![0.0; outputs]; outputs];
    for r in ok {
        let m = r.matrix(part, alignment);
        for (i, row) in mean.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v += m[(i, j)] / ok.len() as f64;
            }
        }
    }
    let labels = |prefix: &str| (0..outputs).map(|i| format!("{prefix}_{i}")).collect();
    Matrix::new(
        &format!(
            "mean over seeds of S_{{cc'}} = A(K_c, y_{{c'}}) after training ({} alignment, {} kernels)",
            alignment.name(),
            part.name()
        ),
        labels("K"),
        labels("y"),
        &mean,
    )
}

/// The details every specialisation row shares: the mean S over seeds (for
/// the heat map), the kernels' mutual alignment and motion, the loss and
/// the weights' change, and the linear network's bounds per seed.
fn spec_details(ok: &[&SpecRun], part: Part, alignment: Alignment) -> Details {
    let k = usize::from(part == Part::Hidden);
    let over_seeds =
        |name: &str, f: &dyn Fn(&SpecRun) -> f64| Summary::over_seeds(name, &per_seed(ok, f));
    let details = Details::new()
        .with_matrix(mean_matrix(ok, part, alignment))
        .with_statistic(over_seeds("mean_pairwise_kernel_alignment", &|r| {
            r.kernel_alignment_mean[k]
        }))
        .with_statistic(over_seeds("mean_pairwise_kernel_alignment_init", &|r| {
            r.kernel_alignment_mean_init[k]
        }))
        .with_statistic(over_seeds("min_pairwise_kernel_alignment", &|r| {
            r.kernel_alignment_min[k]
        }))
        .with_statistic(over_seeds("min_pairwise_kernel_alignment_init", &|r| {
            r.kernel_alignment_min_init[k]
        }))
        .with_statistic(over_seeds("kernel_motion", &|r| r.kernel_motion[k]))
        .with_statistic(Summary::positive(
            "final_loss_ratio",
            &per_seed(ok, |r| r.final_loss_ratio),
        ))
        .with_statistic(over_seeds("weight_change", &|r| r.weight_change));
    // The linear network's bounds of the module docs (rows, columns), per seed.
    match ok
        .iter()
        .map(|r| r.linear_bounds)
        .collect::<Option<Vec<_>>>()
    {
        Some(bounds) => details
            .with_list("linear_bound_row_per_seed", bounds.iter().map(|b| b[0]))
            .with_list("linear_bound_column_per_seed", bounds.iter().map(|b| b[1])),
        None => details,
    }
}
