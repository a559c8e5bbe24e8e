//! `cargo xtask report` and `cargo xtask run FILE.toml`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use claims::{Mode, RunOptions, Verdict};
use clap::{Parser, Subcommand};
use xtask::render::{self, Precision};

#[derive(Parser)]
#[command(
    name = "xtask",
    about = "Numerical checks of feature-learning theory (TMC25, BMA24, ABP22, SB21)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every claim and print the summary tables; write report.md and report.json.
    Report {
        /// Smaller problem sizes (for tests and CI).
        #[arg(long)]
        quick: bool,
        /// Only claims whose id starts with PREFIX (e.g. `TMC25.A.alpha`).
        #[arg(long, value_name = "PREFIX")]
        only: Option<String>,
        /// Replace every fixture's master seed.
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Output directory.
        #[arg(long, value_name = "DIR", default_value = "target/report")]
        out: PathBuf,
    },
    /// Run one experiment config and write its trajectory as CSV and JSON.
    Run {
        /// The experiment config (TOML).
        file: PathBuf,
        /// Output directory.
        #[arg(long, value_name = "DIR", default_value = "target/runs")]
        out: PathBuf,
    },
    /// Analyse a saved network: per-layer NFM, AGOP, PTK, NFA, UC/C-NFA and NTK alignment.
    Analyze(xtask::analyze::AnalyzeArgs),
}

/// A failure to report on one line; `code` is the exit status.
struct Failure {
    code: u8,
    message: String,
}

fn usage(message: String) -> Failure {
    Failure { code: 2, message }
}

fn io(path: &Path, e: std::io::Error) -> Failure {
    Failure {
        code: 1,
        message: format!("{}: {e}", path.display()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    faer::set_global_parallelism(faer::Par::Seq);
    let result = match cli.command {
        Command::Report {
            quick,
            only,
            seed,
            out,
        } => report(quick, only.as_deref(), seed, &out),
        Command::Run { file, out } => run(&file, &out),
        Command::Analyze(args) => xtask::analyze::run(&args)
            .map(|markdown| {
                print!("{markdown}");
                ExitCode::SUCCESS
            })
            .map_err(|e| Failure {
                code: e.code,
                message: e.message,
            }),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn write(path: &Path, contents: &str) -> Result<(), Failure> {
    std::fs::write(path, contents).map_err(|e| io(path, e))
}

fn report(
    quick: bool,
    only: Option<&str>,
    seed: Option<u64>,
    out: &Path,
) -> Result<ExitCode, Failure> {
    let mode = if quick { Mode::Quick } else { Mode::Full };
    let start = Instant::now();
    let results = claims::run_claims(&RunOptions { mode, seed }, only);
    if results.is_empty() {
        return Err(usage(format!(
            "no claim id starts with `{}`",
            only.unwrap_or("")
        )));
    }
    let markdown = render::markdown_report(&results, mode, Precision::Display);
    print!("{markdown}");
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    write(&out.join("report.md"), &markdown)?;
    let json = serde_json::to_string_pretty(&render::json_report(&results, mode))
        .expect("claims serialise");
    write(&out.join("report.json"), &json)?;
    let failed = results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .count();
    eprintln!(
        "{} claims in {:.1} s; {} failed; wrote {} and {}",
        results.len(),
        start.elapsed().as_secs_f64(),
        failed,
        out.join("report.md").display(),
        out.join("report.json").display()
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn run(file: &Path, out: &Path) -> Result<ExitCode, Failure> {
    let text =
        std::fs::read_to_string(file).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let exp = experiment::Experiment::from_toml(&text)
        .map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let (_, trajectory) = experiment::run(&exp).map_err(|e| Failure {
        code: 1,
        message: format!("{}: {e}", file.display()),
    })?;
    let rows: Vec<_> = trajectory
        .snapshots
        .iter()
        .map(experiment::measure)
        .collect();
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let csv_path = out.join(format!("{}.csv", exp.name));
    let json_path = out.join(format!("{}.json", exp.name));
    write(&csv_path, &xtask::trajectory::csv(&rows))?;
    let json = xtask::trajectory::json(&exp.name, &exp.widths, &rows);
    write(
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
