//! The command line of the toolkit, installed as `feature-learning-checks`
//! and run in the workspace as `cargo xtask`: `report` runs every claim and
//! renders the summary tables (markdown tables and `report.json`), `run`
//! runs one experiment config and writes its trajectory (CSV and JSON),
//! `sweep` runs a grid of experiment configs, `merge` builds the outputs of
//! a `report` or `sweep` split into shards (`--shard I/N`, Slurm job
//! arrays), and `analyze` computes the metrics of a saved network.
//!
//! [`main_with`] parses the arguments, runs the command, prints a failure
//! as one line `error: …` on stderr and returns the exit status: 0 on
//! success, 1 when a claim fails or a result cannot be written, 2 for a
//! usage error or bad input. This crate is the only one that prints or
//! chooses an exit status; the libraries it calls return typed errors.
#![warn(missing_docs)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use claims::Mode;
use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

pub mod analyze;
pub mod figures;
mod merge;
pub mod progress;
pub mod records;
pub mod render;
mod report;
mod run_experiment;
pub mod shard;
pub mod sweep;
pub mod trajectory;

use executor::Shard;

/// The parsed command line.
#[derive(Debug, Parser)]
#[command(
    name = "feature-learning-checks",
    about = "Numerical checks of feature-learning theory (TMC25, BMA24, ABP22, SB21)"
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every claim and print the summary tables; write report.md (with
    /// its SVG figures) and report.json. Exits with status 1 when a claim
    /// fails.
    Report(ReportArgs),
    /// Run one experiment config and write its trajectory as CSV and JSON.
    Run {
        /// The experiment config (TOML).
        file: PathBuf,
        /// Output directory.
        #[arg(long, value_name = "DIR", default_value = "target/runs")]
        out: PathBuf,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Run a grid of experiments: a base config with a [grid] of values for
    /// any of its fields; one trajectory per grid point, summary.csv and
    /// summary.md.
    Sweep(SweepArgs),
    /// Build the outputs of a sharded `report` (report.md, its figures,
    /// report.json) or `sweep` (trajectories and summaries) in DIR from the
    /// unit records under DIR/units/. Refuses (exit status 2) missing units,
    /// records of different commits or modes, and duplicated units with
    /// different values.
    Merge(MergeArgs),
    /// Analyse a saved network: per-layer NFM, AGOP, PTK, NFA, UC/C-NFA and NTK alignment.
    Analyze(Box<analyze::AnalyzeArgs>),
}

/// The options of `sweep`.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// The sweep file: an experiment config (as for `run`) plus a [grid].
    pub file: PathBuf,
    /// Output directory [default: target/sweeps/NAME].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Sharding, planning and output of the grid points.
    #[command(flatten)]
    pub units: UnitArgs,
}

/// The options that `report` and `sweep` share: how their units of work
/// (a report's claim units, a sweep's grid points) are planned, sharded
/// and shown.
#[derive(Debug, Clone, Args)]
pub struct UnitArgs {
    /// Run shard I of N (0 ≤ I < N) of the units of work, balanced by
    /// estimated cost, and store each finished unit as a record under
    /// DIR/units/ instead of writing the outputs (`merge DIR` writes them);
    /// units already stored are skipped, so running a shard again resumes
    /// it. Inside a Slurm array task the shard is SLURM_ARRAY_TASK_ID −
    /// SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT, and inside any Slurm
    /// job SLURM_CPUS_PER_TASK sets the threads.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Print the units of work (id, group, estimated seconds on one core),
    /// one per line, and run nothing.
    #[arg(long)]
    pub plan: bool,
    /// No progress bar and no tables on stdout (the summary line stays).
    #[arg(long)]
    pub quiet: bool,
}

/// The options of `merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The `--out DIR` of the shards.
    pub dir: PathBuf,
    /// For a report: the files to write, as `report --format`.
    #[arg(long, value_enum, default_value_t = Format::Both)]
    pub format: Format,
    /// No tables on stdout (the summary line stays).
    #[arg(long)]
    pub quiet: bool,
    /// For a report: exit status 1 also when an empirical claim is not
    /// reproduced, as `report --strict`.
    #[arg(long)]
    pub strict: bool,
}

/// Which report files `--format` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// report.json only.
    Json,
    /// report.md and its figures only.
    Md,
    /// Both.
    Both,
}

/// The options of `report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Smaller problem sizes (for tests and CI).
    #[arg(long)]
    pub quick: bool,
    /// Only claims whose id starts with PREFIX (e.g. `TMC25.A.alpha`).
    #[arg(long, value_name = "PREFIX")]
    pub only: Option<String>,
    /// Replace every fixture's seeds by the block of N: `1000·N + 1, …,
    /// 1000·N + k` for a study over k seeds, `1000·N + 1` for a single-seed
    /// experiment (disjoint from every fixture seed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "target/report")]
    pub out: PathBuf,
    /// Files to write: report.json, report.md and its figures, or both.
    #[arg(long, value_enum, default_value_t = Format::Both)]
    pub format: Format,
    /// Run every family even after a claim fails (without it, no new
    /// family starts after the first failure; either way the exit
    /// status is 1 on failure and everything that ran is written).
    #[arg(long)]
    pub keep_going: bool,
    /// Exit with status 1 also when an empirical claim is not reproduced
    /// (contradicted, negligible, inconclusive or untestable; by default
    /// they are findings, listed first in report.md, exit status 0).
    #[arg(long)]
    pub strict: bool,
    /// Sharding, planning and output of the units of work.
    #[command(flatten)]
    pub units: UnitArgs,
}

impl ReportArgs {
    /// The claims' problem sizes: quick with `--quick`, full otherwise.
    pub fn mode(&self) -> Mode {
        if self.quick { Mode::Quick } else { Mode::Full }
    }
}

/// A failure of a command, reported as one line; `code` is the exit status.
///
/// A failing claim is not a `CliError`: `report` still writes everything
/// and returns exit status 1 as its result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    /// Exit status: [`CliError::USAGE`] or [`CliError::FAILURE`].
    pub code: u8,
    /// One-line message, without the `error: ` prefix.
    pub message: String,
}

impl CliError {
    /// Exit status of a usage error or bad input (arguments, configs, files
    /// read).
    pub const USAGE: u8 = 2;
    /// Exit status of a failure to produce the results (a file that cannot
    /// be written, an experiment that fails to run).
    pub const FAILURE: u8 = 1;

    /// A usage error or bad input: exit status 2.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: Self::USAGE,
            message: message.into(),
        }
    }

    /// A failure to produce the results: exit status 1.
    pub fn failure(message: impl Into<String>) -> Self {
        CliError {
            code: Self::FAILURE,
            message: message.into(),
        }
    }

    /// `code` as the process exit status.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }

    /// An I/O failure on `path`: exit status 1, the path and the error.
    fn io(path: &Path, e: std::io::Error) -> Self {
        Self::failure(format!("{}: {e}", path.display()))
    }
}

/// The clap command of [`Cli`], with `bin_name` in its usage lines (e.g.
/// `feature-learning-checks` or `cargo xtask`).
pub fn command(bin_name: &str) -> clap::Command {
    Cli::command().bin_name(bin_name.to_owned())
}

/// Run a parsed command line. Tables go to stdout, the summary line and
/// progress bars to stderr; the returned exit status is 1 when `report` has
/// a failing claim, success otherwise.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Report(args) => report::report(&args),
        Command::Run { file, out, quiet } => run_experiment::run(&file, &out, quiet),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Analyze(args) => analyze::run(&args).map(|(markdown, status)| {
            print!("{markdown}");
            status
        }),
    }
}

/// The whole program: parse `args` (the first is the program path, which
/// is ignored: usage lines show `bin_name`), run the command, print a
/// failure as `error: <message>` on stderr, and return the exit status.
/// Help and argument errors are printed by clap (status 0 and 2).
pub fn main_with<I, T>(bin_name: &str, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut cmd = command(bin_name);
    let parsed = cmd
        .try_get_matches_from_mut(args)
        .and_then(|matches| Cli::from_arg_matches(&matches))
        .map_err(|e| e.format(&mut cmd));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(CliError::USAGE));
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.message);
            e.exit_code()
        }
    }
}

/// Create `dir` and its parents, or an exit-status-1 failure naming it.
pub(crate) fn create_dir(dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))
}

/// Write a text file (creating its directory), or an exit-status-1 failure
/// naming it.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<(), CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    std::fs::write(path, contents).map_err(|e| CliError::io(path, e))
}
