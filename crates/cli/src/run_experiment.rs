//! `run FILE.toml`: run one experiment config and write its trajectory as
//! `NAME.csv` and `NAME.json`: the deep-linear measurements
//! ([`experiment::measure`]) for a deep linear network, the network ones
//! ([`experiment::measure_network`]) for any other, fully connected or
//! convolutional (columns in [`crate::trajectory`]).

use std::path::Path;
use std::process::ExitCode;

use rayon::prelude::*;

use crate::trajectory::{Ends, TrajectoryFiles};
use crate::{CliError, create_dir, progress, write_file};

/// Run the command: exit status 2 for a config that cannot be read or is
/// invalid, 1 for a run that fails or output that cannot be written.
pub(crate) fn run(file: &Path, out: &Path, quiet: bool) -> Result<ExitCode, CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
    let exp = experiment::Experiment::from_toml(&text)
        .map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
    let failed = |e: &dyn std::fmt::Display| CliError::failure(format!("{}: {e}", file.display()));
    let prepared = experiment::prepare(&exp).map_err(|e| failed(&e))?;
    let bar = progress::bar(
        experiment::run::checkpoint_count(&exp) as u64,
        "checkpoints",
        quiet,
    );
    let trajectory = experiment::run::run_prepared_observed(&exp, &prepared, |s| {
        bar.inc(1);
        bar.set_message(format!("t = {:.3e}, loss {:.3e}", s.time, s.loss));
    })
    .map_err(|e| failed(&e))?;
    bar.finish_and_clear();
    let TrajectoryFiles {
        csv,
        trajectory: json,
        ..
    } = measured_trajectory(&exp, &prepared, &trajectory).map_err(|e| failed(&e))?;
    create_dir(out)?;
    let csv_path = out.join(format!("{}.csv", exp.name));
    let json_path = out.join(format!("{}.json", exp.name));
    write_file(&csv_path, &csv)?;
    write_file(
        &json_path,
        &serde_json::to_string_pretty(&json).expect("trajectory serialises"),
    )?;
    eprintln!(
        "{}: {} checkpoints, {} steps; wrote {} and {}",
        exp.name,
        trajectory.snapshots.len(),
        trajectory.stats.steps,
        csv_path.display(),
        json_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The trajectory's CSV, JSON and ends: every checkpoint measured with
/// [`experiment::measure`] (a deep linear network) or
/// [`experiment::measure_network`] (any other), independently and in parallel,
/// collected in order.
pub(crate) fn measured_trajectory(
    exp: &experiment::Experiment,
    prepared: &experiment::Prepared,
    trajectory: &experiment::Trajectory,
) -> Result<TrajectoryFiles, networks::NetworkError> {
    Ok(if exp.is_deep_linear() {
        let rows: Vec<_> = trajectory
            .snapshots
            .par_iter()
            .map(experiment::measure)
            .collect();
        TrajectoryFiles {
            csv: crate::trajectory::csv(&rows),
            trajectory: crate::trajectory::json(&exp.name, &exp.widths, &rows),
            ends: Ends::of(
                rows.iter()
                    .map(|r| (r.time, r.step, r.loss, &r.cosine, &r.alpha[..])),
            ),
        }
    } else {
        let network = exp.network();
        let init = experiment::initial_params(exp, prepared);
        let x = prepared.data.x.as_ref();
        let rows: Vec<_> = trajectory
            .snapshots
            .par_iter()
            .map(|s| experiment::measure_network(&network, s, &init, x))
            .collect::<Result<_, _>>()?;
        TrajectoryFiles {
            csv: crate::trajectory::network_csv(&rows),
            trajectory: crate::trajectory::network_json(exp, &rows),
            ends: Ends::of(
                rows.iter()
                    .map(|r| (r.time, r.step, r.loss, &r.cosine, &r.alpha[..])),
            ),
        }
    })
}
