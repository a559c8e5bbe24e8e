//! `sweep FILE.toml`: one experiment config and a grid over any of its
//! fields; one run (a trajectory, as `run` writes it) per grid point and a
//! summary table.
//!
//! A sweep file is an experiment config (the schema of `run`, the *base*)
//! with one more table, `[grid]`: each key is the dotted path of a field of
//! the base and its value the list of values to try, e.g.
//!
//! ```toml
//! [grid]
//! seed = [1, 2, 3]
//! "dynamics.learning_rate" = [0.01, 0.1]
//! "network.width" = [16, 64]
//! "dynamics.kind" = ["momentum", "adamw"]   # the optimiser
//! ```
//!
//! (unquoted dotted keys, `dynamics.learning_rate = […]`, mean the same).
//! The grid is the Cartesian product of the lists ([`experiment::Grid`]:
//! axes in alphabetical order of their paths, the last varying fastest,
//! every point validated before anything runs; a path that names no field
//! is one line naming it, exit status 2).
//!
//! Outputs in `--out DIR`: `trajectories/POINT.csv` and `.json` per grid
//! point (the columns of `run`), `summary.csv` and `summary.md` (one row
//! per point: its values, whether it ran, checkpoints, steps, final time,
//! initial and final loss, and the last checkpoint's `cosine` and α̂ by
//! `corr`; an undefined value is an empty cell). A grid point is a unit of
//! work: `--shard I/N` (or a Slurm array task) stores the points of one
//! shard as unit records and `merge DIR` writes the same files, byte for
//! byte, as one process.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use executor::{Measured, Unit};
use experiment::grid::show;
use experiment::{Experiment, Grid};
use serde_json::{Value, json};

use crate::records::{self, Job, Origin};
use crate::render::{Precision, number};
use crate::shard;
use crate::trajectory::TrajectoryFiles;
use crate::{CliError, SweepArgs, create_dir, progress, write_file};

/// A parsed and validated sweep: a grid of experiments
/// ([`experiment::Grid`]).
#[derive(Debug, Clone)]
pub struct Sweep {
    grid: Grid,
}

impl Sweep {
    /// Parse and validate a sweep file's `text`; `source` names it in
    /// errors (usage errors, one line), `default_name` is the name when
    /// the base has none.
    pub fn parse(text: &str, source: &str, default_name: &str) -> Result<Sweep, CliError> {
        Grid::parse(text, default_name)
            .map(|grid| Sweep { grid })
            .map_err(|e| CliError::usage(format!("{source}: {e}")))
    }

    /// The sweep's name: its base config's `name`, or the file's stem.
    pub fn name(&self) -> &str {
        &self.grid.name
    }

    /// The grid points as units of work, in grid order: id
    /// `NAME/POINT`, the sweep's name as family, the point's values by
    /// path.
    pub fn units(&self) -> Vec<Unit> {
        self.grid
            .points
            .iter()
            .map(|p| Unit {
                id: p.experiment.name.clone(),
                family: self.grid.name.clone(),
                cost: p.experiment.estimated_seconds(),
                point: Value::Object(
                    self.grid
                        .axes
                        .iter()
                        .zip(&p.values)
                        .map(|((path, _), v)| (path.clone(), json!(v)))
                        .collect(),
                ),
            })
            .collect()
    }

    /// Run `units` (of [`Sweep::units`]) through [`executor::execute`],
    /// handing each run's measurement (its trajectory's CSV and JSON, or
    /// why it failed) to `on_done`.
    fn run_units(&self, units: &[Unit], on_done: &(dyn Fn(&Unit, Measured) + Sync)) {
        let run = |unit: &Unit| match self
            .grid
            .points
            .iter()
            .find(|p| p.experiment.name == unit.id)
        {
            Some(p) => run_point(&p.experiment),
            None => Err(format!("no grid point `{}`", unit.id)),
        };
        executor::execute(units, &run, None, &|_, unit, m| on_done(unit, m));
    }
}

/// One grid point's run: its trajectory as `run` writes it and its ends
/// ([`TrajectoryFiles`]), or why it failed.
fn run_point(exp: &Experiment) -> Result<Value, String> {
    let prepared = experiment::prepare(exp).map_err(|e| e.to_string())?;
    let trajectory = experiment::run::run_prepared(exp, &prepared).map_err(|e| e.to_string())?;
    let measured = crate::run_experiment::measured_trajectory(exp, &prepared, &trajectory)
        .map_err(|e| e.to_string())?;
    serde_json::to_value(measured).map_err(|e| e.to_string())
}

/// Run the command: the whole grid in this process, or with a shard
/// (`--shard`, a Slurm array task) its share as unit records. Exit status
/// 2 for a sweep file that cannot be read or is invalid, 1 when a grid
/// point's run fails (everything else is still written).
pub(crate) fn sweep(args: &SweepArgs) -> Result<ExitCode, CliError> {
    let file = &args.file;
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("sweep");
    let sweep = Sweep::parse(&text, &file.display().to_string(), stem)?;
    let env = &shard::process_env;
    let shard = shard::resolve(args.units.shard, env)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/sweeps").join(&sweep.grid.name));
    let mut units = sweep.units();
    if args.units.plan {
        if let Some(shard) = shard {
            units = executor::select(&units, |u| u.cost, shard);
        }
        for u in &units {
            println!("{}\t{}\t{:.2}", u.id, u.family, u.cost);
        }
        eprintln!("{} grid points", units.len());
        return Ok(ExitCode::SUCCESS);
    }
    let threads = shard::slurm_threads(env)?;
    shard::with_threads(threads, || match shard {
        Some(shard) => {
            let origin = Origin::current(Job::Sweep {
                name: sweep.grid.name.clone(),
                config: text.clone(),
            });
            records::run_shard(
                &out,
                shard,
                &origin,
                &units,
                args.units.quiet,
                &|todo, done| sweep.run_units(todo, done),
            )
        }
        None => {
            let start = Instant::now();
            let bar = progress::bar(units.len() as u64, "grid points", args.units.quiet);
            let measured = Mutex::new(Vec::new());
            sweep.run_units(&units, &|unit, m| {
                bar.inc(1);
                bar.set_message(format!("{} done ({:.1} s)", unit.id, m.seconds));
                if let Ok(mut all) = measured.lock() {
                    all.push((unit.id.clone(), m.value));
                }
            });
            bar.finish_and_clear();
            let mut measured = measured.into_inner().unwrap_or_default();
            let in_order = units
                .iter()
                .map(|u| {
                    let k = measured.iter().position(|(id, _)| *id == u.id);
                    let value = k.map_or_else(
                        || Err("the run did not finish".to_owned()),
                        |k| measured.swap_remove(k).1,
                    );
                    (u.clone(), value)
                })
                .collect();
            publish(
                &out,
                &sweep,
                in_order,
                start.elapsed().as_secs_f64(),
                args.units.quiet,
            )
        }
    })?
}

/// The summary columns after the axes.
const COLUMNS: [&str; 9] = [
    "status",
    "checkpoints",
    "steps",
    "final_time",
    "initial_loss",
    "final_loss",
    "cosine",
    "alpha_corr",
    "trajectory",
];

/// Write the trajectories and summaries of `measured` (every grid point,
/// in grid order) into `out`; print the markdown summary (unless quiet)
/// and one line on stderr. Exit status 1 when a run failed.
pub(crate) fn publish(
    out: &Path,
    sweep: &Sweep,
    measured: Vec<(Unit, Result<Value, String>)>,
    wall_seconds: f64,
    quiet: bool,
) -> Result<ExitCode, CliError> {
    let traj_dir = out.join("trajectories");
    create_dir(&traj_dir)?;
    let mut header: Vec<String> = sweep.grid.columns.clone();
    header.extend(COLUMNS.iter().map(|c| (*c).to_owned()));
    let mut csv_rows = vec![header.clone()];
    let mut md = format!(
        "# Sweep `{}`: {} grid points\n\nAxes: {}. `cosine` and `alpha_corr` are the last checkpoint's (`run`'s columns: layer 1, α = 1/L for a deep linear network, α = 1 otherwise; α̂ by `corr`). Trajectories in `trajectories/`.\n\n| {} |\n|{}\n",
        sweep.grid.name,
        sweep.grid.points.len(),
        sweep
            .grid
            .axes
            .iter()
            .map(|(p, v)| format!("`{p}` ({} values)", v.len()))
            .collect::<Vec<_>>()
            .join(", "),
        header.join(" | "),
        "---|".repeat(header.len())
    );
    let (mut failed, mut written) = (0, 0);
    for ((_, result), point) in measured.iter().zip(&sweep.grid.points) {
        let mut cells: Vec<String> = point.values.iter().map(show).collect();
        match result {
            Err(why) => {
                failed += 1;
                cells.push(format!("failed: {why}"));
                cells.extend(std::iter::repeat_n(String::new(), COLUMNS.len() - 1));
                csv_rows.push(cells.clone());
                let _ = writeln!(md, "| {} |", cells.join(" | "));
            }
            Ok(m) => {
                let TrajectoryFiles {
                    csv: traj_csv,
                    trajectory,
                    ends,
                } = serde_json::from_value(m.clone())
                    .map_err(|e| CliError::usage(format!("{}: {e}", point.name)))?;
                let stem = executor::store::file_stem(&point.name);
                written += 1;
                write_file(&traj_dir.join(format!("{stem}.csv")), &traj_csv)?;
                let pretty = serde_json::to_string_pretty(&trajectory)
                    .map_err(|e| CliError::failure(format!("{}: {e}", point.name)))?;
                write_file(&traj_dir.join(format!("{stem}.json")), &pretty)?;
                let numbers = [
                    ends.final_time,
                    ends.initial_loss,
                    ends.final_loss,
                    ends.cosine,
                    ends.alpha_corr,
                ];
                let count = ends.checkpoints.to_string();
                let steps = ends.steps.map_or(String::new(), |s| s.to_string());
                let mut csv_cells = cells.clone();
                csv_cells.extend(["ok".to_owned(), count.clone(), steps.clone()]);
                csv_cells.extend(
                    numbers
                        .iter()
                        .map(|x| x.map_or(String::new(), |v| format!("{v:e}"))),
                );
                csv_cells.push(format!("trajectories/{stem}.csv"));
                csv_rows.push(csv_cells);
                cells.extend(["ok".to_owned(), count, steps]);
                cells.extend(
                    numbers
                        .iter()
                        .map(|x| x.map_or("—".into(), |v| number(v, Precision::Display))),
                );
                cells.push(format!("[csv](trajectories/{stem}.csv)"));
                let _ = writeln!(md, "| {} |", cells.join(" | "));
            }
        }
    }
    write_file(
        &out.join("summary.csv"),
        &crate::trajectory::csv_text(csv_rows),
    )?;
    write_file(&out.join("summary.md"), &md)?;
    if !quiet {
        print!("{md}");
    }
    eprintln!(
        "sweep {}: {} grid points · failed {failed} · wall time {wall_seconds:.1} s · wrote summary.csv, summary.md and {} trajectories in {}",
        sweep.grid.name,
        sweep.grid.points.len(),
        written,
        out.display()
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
name = "t"
seed = 1
[data]
kind = "teacher"
samples = 16
input_dim = 4
outputs = 2
[network]
depth = 2
width = 3
[init]
kind = "gaussian"
sigma = 1.0
[dynamics]
kind = "gd"
learning_rate = 0.1
[checkpoints]
kind = "steps"
steps = [0, 5]
"#;

    /// A sweep's units are its grid points in grid order, each with the
    /// point's values by path; a grid error names the file and exits 2.
    #[test]
    fn units_are_the_grid_points_and_errors_name_the_file() {
        let s = Sweep::parse(
            &format!("{BASE}[grid]\nseed = [1, 2]\ndynamics.learning_rate = [0.01, 1e-5]"),
            "s.toml",
            "s",
        )
        .unwrap();
        let units = s.units();
        assert_eq!(units.len(), 4);
        assert_eq!(units[3].id, "t/learning_rate=1e-5,seed=2");
        assert_eq!(units[3].family, "t");
        assert_eq!(
            units[3].point,
            json!({"dynamics.learning_rate": 1e-5, "seed": 2})
        );
        let e = Sweep::parse(&format!("{BASE}[grid]\nseed = []"), "s.toml", "s").unwrap_err();
        assert_eq!(e.code, CliError::USAGE);
        assert!(e.message.starts_with("s.toml: grid.seed:"), "{e}");
    }
}
