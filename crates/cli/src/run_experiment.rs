//! `run FILE.toml`: run one experiment config and write its trajectory as
//! `NAME.csv` and `NAME.json`.

use std::path::Path;
use std::process::ExitCode;

use rayon::prelude::*;

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
    // Checkpoints are measured independently (each single-threaded): in
    // parallel, collected in order.
    let rows: Vec<_> = trajectory
        .snapshots
        .par_iter()
        .map(experiment::measure)
        .collect();
    create_dir(out)?;
    let csv_path = out.join(format!("{}.csv", exp.name));
    let json_path = out.join(format!("{}.json", exp.name));
    write_file(&csv_path, &crate::trajectory::csv(&rows))?;
    let json = crate::trajectory::json(&exp.name, &exp.widths, &rows);
    write_file(
        &json_path,
        &serde_json::to_string_pretty(&json).expect("trajectory serialises"),
    )?;
    eprintln!(
        "{}: {} checkpoints, {} steps; wrote {} and {}",
        exp.name,
        rows.len(),
        trajectory.stats.steps,
        csv_path.display(),
        json_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
