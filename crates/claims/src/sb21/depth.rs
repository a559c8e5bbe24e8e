//! SB21's depth claims (module docs of [`super`]): NTK–target alignment gain
//! and speed by depth, judged over paired seeds.

use serde::{Deserialize, Serialize};

use super::{Config, Data, Depth, Point, Records, Trained, point_cost, records, trained};
use crate::claim::{Claim, Direction, Statement, Test};
use crate::details::{Details, Series, Summary, interval_text};
use crate::study::{Cells, Runs};
use crate::{ClaimResult, RunOptions, UnitError};

/// The depth claims' units: a data set and a depth × seeds.
pub(super) struct DepthStudy;

impl Cells for DepthStudy {
    type Config = Config;
    type Cell = (Data, usize);
    type Measurement = Result<DepthRun, UnitError>;

    fn cells(&self, cfg: &Config, options: &RunOptions) -> Vec<((Data, usize), Vec<u64>)> {
        let depths = cfg.depth.depths.get(options.mode);
        Data::ALL
            .iter()
            .flat_map(|&d| depths.iter().map(move |&l| (d, l)))
            .map(|cell| (cell, cfg.depth.seeds.clone()))
            .collect()
    }

    fn name(&self, (data, depth): &(Data, usize)) -> String {
        format!("data={},L={depth}", data.name())
    }

    fn cost(&self, cfg: &Config, options: &RunOptions, &(data, depth): &(Data, usize)) -> f64 {
        point_cost(
            cfg,
            options,
            Point::Depth {
                data,
                depth,
                seed: 0,
            },
        )
    }

    fn measure(
        &self,
        cfg: &Config,
        options: &RunOptions,
        &(data, depth): &(Data, usize),
        seed: u64,
    ) -> Self::Measurement {
        trained(cfg, options, Point::Depth { data, depth, seed }).and_then(|r| depth_run(&r))
    }

    fn conclude_cells(
        &self,
        cfg: &Config,
        options: &RunOptions,
        cells: Vec<Runs<(Data, usize), Self::Measurement>>,
    ) -> Vec<ClaimResult> {
        let runs: Vec<_> = records(cells)
            .into_iter()
            .map(|(((data, depth), seed), r)| ((data, depth, seed), r))
            .collect();
        depth_claims(&cfg.depth, options, &runs)
    }
}

/// Alignment measurements of one depth run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct DepthRun {
    initial: f64,
    last: f64,
    t_half: Option<f64>,
    /// The step η (time per step), for the time to half the gain in steps.
    step: f64,
    at_half_loss: Option<f64>,
    final_loss_ratio: f64,
    times: Vec<f64>,
    alignment: Vec<f64>,
    losses: Vec<f64>,
}

/// First time a series reaches `level`, interpolated linearly in log t.
fn first_crossing(times: &[f64], values: &[f64], level: f64, rising: bool) -> Option<f64> {
    let hit = |v: f64| if rising { v >= level } else { v <= level };
    let k = (0..values.len()).find(|&k| hit(values[k]))?;
    if k == 0 || times[k - 1] <= 0.0 {
        return Some(times[k]);
    }
    let (a, b) = (values[k - 1], values[k]);
    let w = if b != a { (level - a) / (b - a) } else { 1.0 };
    Some((times[k - 1].ln() + w * (times[k].ln() - times[k - 1].ln())).exp())
}

fn depth_run(run: &Trained) -> Result<DepthRun, UnitError> {
    let (x, y) = (run.prepared.data.x.as_ref(), run.prepared.data.y.as_ref());
    let arch = run.exp.architecture();
    let alignment: Vec<f64> = (run.traj.snapshots.iter())
        .map(|s| {
            ntk::KernelStatistics::compute(&arch, &s.weights, x, y)
                .and_then(|s| Ok(s.alignment(0, 0)?))
        })
        .collect::<Result<_, _>>()?;
    let (times, losses) = (run.times(), run.losses());
    let (initial, last) = (alignment[0], alignment[alignment.len() - 1]);
    let l0 = losses[0];
    let at_half_loss = (0..losses.len())
        .find(|&k| losses[k] <= 0.5 * l0)
        .map(|k| alignment[k]);
    let step = run
        .traj
        .snapshots
        .last()
        .map_or(f64::NAN, |s| s.time / s.step as f64);
    Ok(DepthRun {
        initial,
        last,
        step,
        t_half: first_crossing(
            &times,
            &alignment,
            initial + 0.5 * (last - initial),
            last >= initial,
        ),
        at_half_loss,
        final_loss_ratio: losses[losses.len() - 1] / l0,
        times,
        alignment,
        losses,
    })
}

fn depth_claims(
    d: &Depth,
    options: &RunOptions,
    runs: &Records<(Data, usize, u64), DepthRun>,
) -> Vec<ClaimResult> {
    let seeds = crate::study_seeds(&d.seeds, options.seed);
    let depths = d.depths.get(options.mode);
    let runs_of = |data: Data, l: usize| -> Vec<&Result<DepthRun, UnitError>> {
        runs.iter()
            .filter(|((dt, j, _), _)| *dt == data && *j == l)
            .map(|(_, r)| r)
            .collect()
    };
    // Statistics over seeds at one depth, for every claim's details (the
    // trend across depths).
    let statistics = |data: Data, l: usize| -> Option<Vec<Summary>> {
        let ok: Vec<&DepthRun> = runs_of(data, l)
            .into_iter()
            .map(|r| r.as_ref().ok())
            .collect::<Option<Vec<_>>>()?;
        let col = |name: &str, f: &dyn Fn(&DepthRun) -> Option<f64>| {
            Summary::over_seeds(name, &ok.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
        };
        let positive = |name: &str, f: &dyn Fn(&DepthRun) -> Option<f64>| {
            Summary::positive(name, &ok.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
        };
        Some(vec![
            col("initial_alignment", &|r| Some(r.initial)),
            col("final_alignment", &|r| Some(r.last)),
            col("alignment_gain", &|r| Some(r.last - r.initial)),
            positive("t_half_gain", &|r| r.t_half),
            col("alignment_at_half_loss", &|r| r.at_half_loss),
            positive("final_loss_ratio", &|r| Some(r.final_loss_ratio)),
        ])
    };
    let mut out = Vec::new();
    for data in Data::ALL {
        // Each statistic over L (the depths whose runs all succeeded), mean ± spread.
        let by_depth: Vec<(f64, Vec<Summary>)> = depths
            .iter()
            .filter_map(|&l| Some((l as f64, statistics(data, l)?)))
            .collect();
        let trend: Vec<Series> = by_depth.first().map_or_else(Vec::new, |(_, first)| {
            (0..first.len())
                .map(|k| {
                    Series::new(
                        &first[k].name,
                        "L",
                        by_depth.iter().map(|(l, _)| *l).collect(),
                        by_depth.iter().map(|(_, s)| s[k].mean),
                    )
                    .with_spread(by_depth.iter().map(|(_, s)| s[k].spread))
                })
                .collect()
        });
        for &l in &depths {
            let claim = d.claim(
                options,
                data,
                l,
                "ReLU MLP of depth L, one output (digits: parity ±1), same σ and step convention; measured = mean alignment gain (final − init) of the uncentred kernel–target alignment; t_½ = time to half the gain",
            );
            let mine = runs_of(data, l);
            if let Some(e) = mine.iter().find_map(|r| r.as_ref().err()) {
                out.push(claim.failed(None, e.clone()));
                continue;
            }
            let ok: Vec<&DepthRun> = mine.iter().filter_map(|r| r.as_ref().ok()).collect();
            let mut details = statistics(data, l)
                .into_iter()
                .flatten()
                .fold(Details::new(), Details::with_statistic);
            details = trend.iter().cloned().fold(details, Details::with_series);
            for (r, s) in ok.iter().zip(&seeds) {
                let seed = format!("seed {s}");
                details = details
                    .with_series(
                        Series::new(
                            "alignment",
                            "t",
                            r.times.clone(),
                            r.alignment.iter().copied(),
                        )
                        .in_group(&seed),
                    )
                    .with_series(
                        Series::new("loss", "t", r.times.clone(), r.losses.iter().copied())
                            .in_group(&seed),
                    );
            }
            let gain = ok.iter().map(|r| r.last - r.initial).sum::<f64>() / ok.len() as f64;
            out.push(claim.details(details).info(
                Some(gain),
                "no theorem: the data of the comparisons between depths (rows with `vs`); the trend over L is in the details",
            ));
        }
        for pair in depths.windows(2) {
            out.extend(depth_comparisons(
                d, options, data, pair[0], pair[1], &runs_of,
            ));
        }
    }
    out
}

impl Depth {
    /// A `depth` claim at depth `l` on `data`, with the study's parameters.
    fn claim(&self, options: &RunOptions, data: Data, l: usize, convention: &str) -> Claim {
        Claim::new(
            "SB21",
            "depth",
            "SB21: feature evolution (NTK alignment with the target) is faster and larger in deeper networks",
            convention,
        )
        .id_param("data", data.name())
        .id_param("L", l)
        .param("seeds", crate::study_seeds(&self.seeds, options.seed))
        .param("width", self.width)
        .param("sigma", self.sigma)
        .param("step_fraction", self.step_fraction)
        .param("n", self.samples.get(options.mode))
        .param("steps", self.steps.get(options.mode))
    }
}

/// SB21's depth trend between depths `shallow` and `deep`, judged over
/// paired seeds (SPEC §8): `quantity=gain`, effect per seed
/// `gain(deep) − gain(shallow)` of the alignment gain (final − init);
/// `quantity=speed`, effect `ln t_½(shallow) − ln t_½(deep)` of the time to
/// half the gain (time `t = kη` with η set from each network's NTK at init,
/// so both depths run on their kernel's fastest time scale). SB21: both
/// positive.
fn depth_comparisons<'a>(
    d: &Depth,
    options: &RunOptions,
    data: Data,
    shallow: usize,
    deep: usize,
    runs_of: &dyn Fn(Data, usize) -> Vec<&'a Result<DepthRun, UnitError>>,
) -> Vec<ClaimResult> {
    let claim = |quantity: &str, convention: &str| {
        d.claim(options, data, deep, convention)
            .id_param("vs", shallow)
            .id_param("quantity", quantity)
    };
    let gain = claim(
        "gain",
        "uncentred kernel–target alignment; effect per seed = gain(L) − gain(vs), gain = final − init alignment, paired over seeds",
    );
    let speed = claim(
        "speed",
        "effect per seed = ln t_½(vs) − ln t_½(L), t_½ = time to half the alignment gain (t = kη, η from each network's NTK at init), paired over seeds",
    );
    let speed_in_steps = claim(
        "speed_steps",
        "effect per seed = ln k_½(vs) − ln k_½(L), k_½ = t_½/η the steps to half the alignment gain, paired over seeds",
    );
    let (a, b) = (runs_of(data, shallow), runs_of(data, deep));
    if let Some(e) = a.iter().chain(&b).find_map(|r| r.as_ref().err()) {
        return [gain, speed, speed_in_steps]
            .map(|c| c.failed(None, e.clone()))
            .into();
    }
    let pairs: Vec<(&DepthRun, &DepthRun)> = a
        .iter()
        .zip(&b)
        .filter_map(|(x, y)| Some((x.as_ref().ok()?, y.as_ref().ok()?)))
        .collect();
    let gains: Vec<f64> = pairs
        .iter()
        .map(|(x, y)| (y.last - y.initial) - (x.last - x.initial))
        .collect();
    let speeds: Vec<f64> = pairs
        .iter()
        .filter_map(|(x, y)| Some(x.t_half?.ln() - y.t_half?.ln()))
        .collect();
    // The same in steps (the other time normalisation): ln(t/η).
    let steps: Vec<f64> = pairs
        .iter()
        .filter_map(|(x, y)| Some((x.t_half? / x.step).ln() - (y.t_half? / y.step).ln()))
        .collect();
    let undefined_speed = pairs.len() - speeds.len();
    let test = |statement: &'static Statement, delta: f64, delta_reason: &'static str| Test {
        statement,
        direction: Direction::Positive,
        delta,
        delta_reason,
        method: "paired Student t",
        resolution: 0.0,
    };
    let speed_delta = "0.1 in ln t: a 10 % shorter time to half the gain, finer than the checkpoints' log-spacing resolves";
    vec![
        gain.judge_per_seed(
            "gain_difference",
            &gains,
            &test(&DEEPER_LARGER, 0.02, "0.02 in kernel–target alignment: a gain difference below it is within one seed's spread of the alignment at init"),
            &format!(
                "the deeper network's alignment gain is not larger at these sizes (L = {deep} vs {shallow})"
            ),
        ),
        speed
            .details(
                Details::new()
                    .with_statistic(Summary::with_per_seed("log_t_half_difference", &speeds))
                    .with_value("seeds_without_t_half", undefined_speed as f64),
            )
            .judge(
                &speeds,
                &test(&DEEPER_FASTER, 0.1, speed_delta),
                &format!("the deeper network does not reach half its alignment gain sooner at these sizes (L = {deep} vs {shallow})"),
            ),
        speed_in_steps
            .details(
                Details::new()
                    .with_statistic(Summary::with_per_seed("log_steps_half_difference", &steps)),
            )
            .info(
                Summary::over_seeds("", &steps).mean,
                format!(
                    "the other time normalisation, as a sensitivity check of the `speed` row (no verdict): ln k_½(vs) − ln k_½(L) = {} (95 % interval) in steps, where the two networks' steps η differ",
                    interval_text(&steps)
                ),
            ),
    ]
}

/// SB21's depth statement (SPEC §6), its "larger" half.
const DEEPER_LARGER: Statement = Statement {
    family: "SB21.depth.larger",
    quote: "feature evolution is faster and larger in deeper networks",
    source: "SB21, as SPEC §6 states it (not verbatim)",
    differs: "'larger' as the alignment gain (final − init) of the deeper of two consecutive depths",
};

/// SB21's depth statement (SPEC §6), its "faster" half.
const DEEPER_FASTER: Statement = Statement {
    family: "SB21.depth.faster",
    quote: "feature evolution is faster and larger in deeper networks",
    source: "SB21, as SPEC §6 states it (not verbatim)",
    differs: "'faster' as the time to half the alignment gain, in time t = kη with η from each network's NTK at init (in steps as an info row beside it)",
};
