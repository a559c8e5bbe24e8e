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
//! The grid is the Cartesian product of the lists, axes in alphabetical
//! order of their paths, the last varying fastest. Each point replaces the
//! fields at its paths in the base's TOML (creating a field the base left
//! at its default) and is then read and validated as any experiment
//! config, before anything runs: a path that names no field is one line
//! naming it, exit status 2. A point is named by its values
//! (`learning_rate=0.01,seed=1`: the last component of each path, or the
//! whole path where two axes share it).
//!
//! Outputs in `--out DIR`: `trajectories/POINT.csv` and `.json` per grid
//! point (the columns of `run`), `summary.csv` and `summary.md` (one row
//! per point: its values, whether it ran, checkpoints, steps, final time,
//! initial and final loss, and the last checkpoint's `cosine` and α̂ by
//! `corr`; an undefined value is an empty cell). A grid point is a unit of work: `--shard I/N` (or a Slurm array
//! task) stores the points of one shard as unit records and `merge DIR`
//! writes the same files, byte for byte, as one process.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use executor::{Measured, Unit};
use experiment::{Experiment, ExperimentConfig};
use serde_json::{Value, json};
use toml::{Table, Value as Toml};

use crate::records::{self, Job, Origin};
use crate::render::{Precision, number};
use crate::shard;
use crate::{CliError, SweepArgs, create_dir, progress, write_file};

/// One grid point: its name, values (one per axis) and experiment.
#[derive(Debug, Clone)]
struct Point {
    name: String,
    values: Vec<Toml>,
    experiment: Experiment,
}

/// A parsed and validated sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The base config's `name`, or the file's stem.
    pub name: String,
    /// The axes: dotted path and values, in alphabetical order of paths.
    axes: Vec<(String, Vec<Toml>)>,
    /// Column names of the axes (last path component when unique).
    columns: Vec<String>,
    /// Every grid point, the last axis varying fastest.
    points: Vec<Point>,
}

/// Flatten `[grid]` into (dotted path, values).
fn axes(grid: &Table, prefix: &str, out: &mut Vec<(String, Vec<Toml>)>) -> Result<(), String> {
    for (key, value) in grid {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Toml::Table(t) => axes(t, &path, out)?,
            Toml::Array(values) if !values.is_empty() => out.push((path, values.clone())),
            Toml::Array(_) => return Err(format!("grid.{path}: the list of values is empty")),
            other => {
                return Err(format!(
                    "grid.{path}: expected a list of values, e.g. [{other}]"
                ));
            }
        }
    }
    Ok(())
}

/// Replace the field at the dotted `path` of `table` (creating it and its
/// parent tables when absent).
fn set(table: &mut Table, path: &str, value: Toml) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut here = table;
    for (k, part) in parts[..parts.len() - 1].iter().enumerate() {
        here = here
            .entry(*part)
            .or_insert_with(|| Toml::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| {
                format!(
                    "grid.{path}: `{}` is a value, not a table of fields",
                    parts[..=k].join(".")
                )
            })?;
    }
    here.insert(parts[parts.len() - 1].to_owned(), value);
    Ok(())
}

/// A value as shown in names and tables: strings without quotes, floats
/// in Rust's shortest round-trip form (`0.01`, `1e-5`).
fn show(v: &Toml) -> String {
    match v {
        Toml::String(s) => s.clone(),
        Toml::Float(x) => format!("{x:?}"),
        other => other.to_string(),
    }
}

/// Read `table` as an experiment config; the message of the error on one
/// line.
fn config(table: &Table) -> Result<ExperimentConfig, String> {
    Toml::Table(table.clone())
        .try_into::<ExperimentConfig>()
        .map_err(|e| e.message().replace('\n', " ").trim().to_owned())
}

/// A rough cost in seconds on one core, for balancing shards only:
/// `6·n·P` flops per update (forward and backward over n samples and P
/// weights) at 10 Gflop/s, over the updates of a discrete optimiser or, for
/// gradient flow, a stand-in of 100 steps per checkpoint.
fn estimated_seconds(exp: &Experiment) -> f64 {
    let weights = exp.weight_count();
    let steps = exp
        .updates()
        .unwrap_or(100 * experiment::run::checkpoint_count(exp));
    6.0 * exp.data.samples() as f64 * weights as f64 * steps.max(1) as f64 * 1e-10 + 1e-3
}

impl Sweep {
    /// Parse and validate a sweep file's `text`; `source` names it in
    /// errors (usage errors, one line), `default_name` is the name when
    /// the base has none.
    pub fn parse(text: &str, source: &str, default_name: &str) -> Result<Sweep, CliError> {
        let fail = |m: String| CliError::usage(format!("{source}: {m}"));
        let mut base: Table = toml::from_str(text)
            .map_err(|e| fail(experiment::config::parse_error(text, &e).to_string()))?;
        let grid = match base.remove("grid") {
            Some(Toml::Table(g)) => g,
            Some(_) => return Err(fail("grid: expected a table, `[grid]`".into())),
            None => {
                return Err(fail(
                    "no [grid]: add one with a field and its values, e.g. `[grid]` `seed = [1, 2, 3]`"
                        .into(),
                ));
            }
        };
        let mut axes_ = Vec::new();
        axes(&grid, "", &mut axes_).map_err(fail)?;
        axes_.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = axes_.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(fail(format!("grid.{}: given twice", w[0].0)));
        }
        if axes_.is_empty() {
            return Err(fail("[grid] is empty: give a field and its values".into()));
        }
        config(&base).map_err(|m| fail(format!("the base config: {m}")))?;
        // Each axis alone, at its first value: an error here is the axis's.
        for (path, values) in &axes_ {
            let mut one = base.clone();
            set(&mut one, path, values[0].clone()).map_err(&fail)?;
            config(&one).map_err(|m| fail(format!("grid.{path}: {m}")))?;
        }
        let name = match base.get("name") {
            Some(Toml::String(n)) => n.clone(),
            _ => default_name.to_owned(),
        };
        let leaves: Vec<&str> = axes_
            .iter()
            .map(|(p, _)| p.rsplit('.').next().unwrap_or(p))
            .collect();
        let columns: Vec<String> = axes_
            .iter()
            .zip(&leaves)
            .map(|((path, _), leaf)| {
                if leaves.iter().filter(|l| *l == leaf).count() == 1 {
                    (*leaf).to_owned()
                } else {
                    path.clone()
                }
            })
            .collect();
        let mut points = Vec::new();
        let total: usize = axes_.iter().map(|(_, v)| v.len()).product();
        for k in 0..total {
            // Mixed radix, the last axis fastest.
            let mut rest = k;
            let mut values = vec![Toml::Boolean(false); axes_.len()];
            for (a, (_, vals)) in axes_.iter().enumerate().rev() {
                values[a] = vals[rest % vals.len()].clone();
                rest /= vals.len();
            }
            let point_name = columns
                .iter()
                .zip(&values)
                .map(|(c, v)| format!("{c}={}", show(v)))
                .collect::<Vec<_>>()
                .join(",");
            let mut table = base.clone();
            for ((path, _), v) in axes_.iter().zip(&values) {
                set(&mut table, path, v.clone()).map_err(&fail)?;
            }
            table.insert("name".into(), Toml::String(format!("{name}/{point_name}")));
            let experiment = config(&table)
                .map_err(|m| m.to_string())
                .and_then(|c| c.validate().map_err(|e| e.to_string()))
                .map_err(|m| fail(format!("grid point {point_name}: {m}")))?;
            points.push(Point {
                name: point_name,
                values,
                experiment,
            });
        }
        Ok(Sweep {
            name,
            axes: axes_,
            columns,
            points,
        })
    }

    /// The grid points as units of work, in grid order: id
    /// `NAME/POINT`, the sweep's name as family, the point's values by
    /// path.
    pub fn units(&self) -> Vec<Unit> {
        self.points
            .iter()
            .map(|p| Unit {
                id: p.experiment.name.clone(),
                family: self.name.clone(),
                cost: estimated_seconds(&p.experiment),
                point: Value::Object(
                    self.axes
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
        let run = |unit: &Unit| match self.points.iter().find(|p| p.experiment.name == unit.id) {
            Some(p) => run_point(&p.experiment),
            None => Err(format!("no grid point `{}`", unit.id)),
        };
        executor::execute(units, &run, None, &|_, unit, m| on_done(unit, m));
    }
}

/// One grid point's run: `{"csv": …, "trajectory": …}` as `run` writes
/// them, or why it failed.
fn run_point(exp: &Experiment) -> Result<Value, String> {
    let prepared = experiment::prepare(exp).map_err(|e| e.to_string())?;
    let trajectory = experiment::run::run_prepared(exp, &prepared).map_err(|e| e.to_string())?;
    let (csv, json) = crate::run_experiment::measured_trajectory(exp, &prepared, &trajectory)
        .map_err(|e| e.to_string())?;
    Ok(json!({ "csv": csv, "trajectory": json }))
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
        .unwrap_or_else(|| PathBuf::from("target/sweeps").join(&sweep.name));
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
                name: sweep.name.clone(),
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
    let mut header: Vec<String> = sweep.columns.clone();
    header.extend(COLUMNS.iter().map(|c| (*c).to_owned()));
    let mut csv_rows = vec![header.clone()];
    let mut md = format!(
        "# Sweep `{}`: {} grid points\n\nAxes: {}. `cosine` and `alpha_corr` are the last checkpoint's (`run`'s columns: layer 1, α = 1/L for a deep linear network, α = 1 otherwise; α̂ by `corr`). Trajectories in `trajectories/`.\n\n| {} |\n|{}\n",
        sweep.name,
        sweep.points.len(),
        sweep
            .axes
            .iter()
            .map(|(p, v)| format!("`{p}` ({} values)", v.len()))
            .collect::<Vec<_>>()
            .join(", "),
        header.join(" | "),
        "---|".repeat(header.len())
    );
    let (mut failed, mut written) = (0, 0);
    for ((_, result), point) in measured.iter().zip(&sweep.points) {
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
                let stem = records::file_stem(&point.name);
                written += 1;
                let traj_csv = m["csv"].as_str().unwrap_or_default();
                write_file(&traj_dir.join(format!("{stem}.csv")), traj_csv)?;
                let pretty = serde_json::to_string_pretty(&m["trajectory"])
                    .map_err(|e| CliError::failure(format!("{}: {e}", point.name)))?;
                write_file(&traj_dir.join(format!("{stem}.json")), &pretty)?;
                let checkpoints = m["trajectory"]["checkpoints"].as_array();
                let first = checkpoints.and_then(|c| c.first());
                let last = checkpoints.and_then(|c| c.last());
                let get = |c: Option<&Value>, path: &[&str]| -> Option<f64> {
                    path.iter()
                        .try_fold(c?, |v, k| v.get(k))
                        .and_then(Value::as_f64)
                };
                let numbers = [
                    get(last, &["time"]),
                    get(first, &["loss"]),
                    get(last, &["loss"]),
                    get(last, &["cosine"]),
                    get(last, &["alpha", "corr"]),
                ];
                let count = checkpoints.map_or(0, Vec::len).to_string();
                let steps = last
                    .and_then(|c| c["step"].as_u64())
                    .map_or(String::new(), |s| s.to_string());
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
        sweep.name,
        sweep.points.len(),
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

    fn parse(grid: &str) -> Result<Sweep, CliError> {
        Sweep::parse(&format!("{BASE}[grid]\n{grid}"), "s.toml", "s")
    }

    #[test]
    fn the_grid_is_the_product_of_its_axes_in_path_order() {
        let s =
            parse("seed = [1, 2]\ndynamics.learning_rate = [0.01, 1e-5]\n\"network.width\" = [3]")
                .unwrap();
        let names: Vec<&str> = s.points.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "learning_rate=0.01,width=3,seed=1",
                "learning_rate=0.01,width=3,seed=2",
                "learning_rate=1e-5,width=3,seed=1",
                "learning_rate=1e-5,width=3,seed=2",
            ]
        );
        let last = &s.points[3].experiment;
        assert_eq!(last.seed, 2);
        assert_eq!(last.dynamics.weight_decay(), 0.0);
        assert_eq!(last.name, "t/learning_rate=1e-5,width=3,seed=2");
        let units = s.units();
        assert_eq!(
            units[3].point,
            json!({"dynamics.learning_rate": 1e-5, "network.width": 3, "seed": 2})
        );
    }

    #[test]
    fn an_axis_that_is_no_field_is_an_error_naming_it() {
        for (grid, needle) in [
            (
                "\"dynamics.lr\" = [0.1]",
                "grid.dynamics.lr: unknown field `lr`",
            ),
            (
                "optimizer.lr = [0.1]",
                "grid.optimizer.lr: unknown field `optimizer`",
            ),
            ("\"seed.x\" = [1]", "grid.seed.x: `seed` is a value"),
            ("seed = []", "grid.seed: the list of values is empty"),
            ("seed = 3", "grid.seed: expected a list of values"),
            (
                "\"dynamics.learning_rate\" = [0.1, -1.0]",
                "grid point learning_rate=-1.0: dynamics.learning_rate",
            ),
        ] {
            let e = parse(grid).unwrap_err();
            assert_eq!(e.code, CliError::USAGE);
            assert!(e.message.starts_with("s.toml: "), "{e}");
            assert!(e.message.contains(needle), "{grid}: {e}");
            assert!(!e.message.contains('\n'), "{e}");
        }
        let e = Sweep::parse(BASE, "s.toml", "s").unwrap_err();
        assert!(e.message.contains("no [grid]"), "{e}");
    }

    /// Two axes with the same last component are named by their paths; a
    /// path given twice (quoted and as nested keys) is an error.
    #[test]
    fn shared_leaf_names_use_the_whole_path() {
        let s = parse("\"dynamics.kind\" = [\"gd\", \"momentum\"]\n\"init.kind\" = [\"gaussian\"]\n\"data.samples\" = [16]")
            .unwrap();
        assert_eq!(s.columns, ["samples", "dynamics.kind", "init.kind"]);
        assert_eq!(
            s.points[1].name,
            "samples=16,dynamics.kind=momentum,init.kind=gaussian"
        );
        let e = parse("\"network.width\" = [3]\nnetwork.width = [4]").unwrap_err();
        assert!(e.message.contains("grid.network.width: given twice"), "{e}");
    }
}
