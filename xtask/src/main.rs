//! `cargo xtask report` and `cargo xtask run FILE.toml`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use claims::{ClaimResult, Mode, RunHooks, RunOptions};
use clap::{Args, Parser, Subcommand};
use rayon::prelude::*;
use xtask::render::{self, Provenance};
use xtask::{figures, progress};

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
    /// Analyse a saved network: per-layer NFM, AGOP, PTK, NFA, UC/C-NFA and NTK alignment.
    Analyze(Box<xtask::analyze::AnalyzeArgs>),
}

/// Which report files `--format` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// report.json only.
    Json,
    /// report.md and its figures only.
    Md,
    /// Both.
    Both,
}

/// The options of `cargo xtask report`.
#[derive(Args)]
struct ReportArgs {
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
    /// Files to write: report.json, report.md and its figures, or both.
    #[arg(long, value_enum, default_value_t = Format::Both)]
    format: Format,
    /// No progress bar and no tables on stdout (the summary line stays).
    #[arg(long)]
    quiet: bool,
    /// Run every family even after a claim fails (without it, no new
    /// family starts after the first failure; either way the exit
    /// status is 1 on failure and everything that ran is written).
    #[arg(long)]
    keep_going: bool,
}

impl ReportArgs {
    fn mode(&self) -> Mode {
        if self.quick { Mode::Quick } else { Mode::Full }
    }
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
        Command::Report(args) => report(&args),
        Command::Run { file, out, quiet } => run(&file, &out, quiet),
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

/// `git rev-parse HEAD` and whether tracked files differ from it; `None`
/// outside a git checkout or without git.
fn git_commit() -> Option<(String, bool)> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some((commit, dirty))
}

fn report(args: &ReportArgs) -> Result<ExitCode, Failure> {
    let start = Instant::now();
    let options = RunOptions {
        mode: args.mode(),
        seed: args.seed,
    };
    let bar = progress::bar(0, "claim families", args.quiet);
    let planned = std::sync::Mutex::new(Vec::new());
    let on_plan = |labels: &[String]| {
        bar.set_length(labels.len() as u64);
        if let Ok(mut p) = planned.lock() {
            *p = labels.to_vec();
        }
    };
    let on_family = |run: &claims::FamilyRun| {
        bar.inc(1);
        bar.set_message(format!("{} done ({:.1} s)", run.label, run.seconds));
    };
    let runs = claims::run_families(
        &options,
        args.only.as_deref(),
        &RunHooks {
            on_plan: Some(&on_plan),
            on_family: Some(&on_family),
            stop_after_failure: !args.keep_going,
        },
    );
    bar.finish_and_clear();
    let results: Vec<ClaimResult> = runs.iter().flat_map(|r| r.claims.clone()).collect();
    if results.is_empty() {
        return Err(usage(format!(
            "no claim id starts with `{}`",
            args.only.as_deref().unwrap_or("")
        )));
    }
    let not_run: Vec<String> = planned
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .filter(|label| runs.iter().all(|r| &r.label != label))
        .collect();
    let (commit, dirty) = git_commit().map_or((None, false), |(c, d)| (Some(c), d));
    let figures = figures::figures(&results).map_err(|e| Failure {
        code: 1,
        message: format!("figure: {e}"),
    })?;
    let provenance = Provenance {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        commit,
        dirty,
        mode: args.mode(),
        seed: args.seed,
        threads: rayon::current_num_threads(),
        wall_seconds: start.elapsed().as_secs_f64(),
        families: runs
            .iter()
            .map(|r| (r.label.clone(), r.claims.len(), r.seconds))
            .collect(),
        not_run,
    };
    let markdown =
        render::markdown_document(&results, &provenance, &figures::markdown_section(&figures));
    if !args.quiet {
        print!("{markdown}");
    }
    let out = &args.out;
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let mut written = Vec::new();
    if args.format != Format::Json {
        write(&out.join("report.md"), &markdown)?;
        for f in &figures {
            write(&out.join(&f.file), &f.svg)?;
        }
        written.push("report.md".to_owned());
        if !figures.is_empty() {
            written.push(format!(
                "{} figure{}",
                figures.len(),
                if figures.len() == 1 { "" } else { "s" }
            ));
        }
    }
    if args.format != Format::Md {
        let json = serde_json::to_string_pretty(&render::json_document(&runs, &provenance))
            .expect("claims serialise");
        write(&out.join("report.json"), &json)?;
        written.push("report.json".to_owned());
    }
    let t = render::tally(&results);
    let failed = t[1].1;
    eprintln!(
        "claims: {} · passed {} · failed {} · undefined {} · info {} · wall time {:.1} s on {} threads · wrote {} in {}",
        results.len(),
        t[0].1,
        failed,
        t[2].1,
        t[3].1,
        start.elapsed().as_secs_f64(),
        provenance.threads,
        written.join(", "),
        out.display()
    );
    if !provenance.not_run.is_empty() {
        eprintln!(
            "stopped after the first failure; not run: {} (use --keep-going to run everything)",
            provenance.not_run.join(", ")
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn run(file: &Path, out: &Path, quiet: bool) -> Result<ExitCode, Failure> {
    let text =
        std::fs::read_to_string(file).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let exp = experiment::Experiment::from_toml(&text)
        .map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let failed = |e: &dyn std::fmt::Display| Failure {
        code: 1,
        message: format!("{}: {e}", file.display()),
    };
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
