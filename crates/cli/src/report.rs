//! `report`: run every claim (or those of `--only`), print the tables,
//! write `report.md` with its figures and `report.json`.

use std::process::ExitCode;
use std::time::Instant;

use claims::{ClaimResult, RunHooks, RunOptions};

use crate::render::{self, Provenance};
use crate::{CliError, Format, ReportArgs, create_dir, figures, progress, write_file};

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

/// Run the command; exit status 1 when a claim fails.
pub(crate) fn report(args: &ReportArgs) -> Result<ExitCode, CliError> {
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
        return Err(CliError::usage(format!(
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
    let figures =
        figures::figures(&results).map_err(|e| CliError::failure(format!("figure: {e}")))?;
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
    create_dir(out)?;
    let mut written = Vec::new();
    if args.format != Format::Json {
        write_file(&out.join("report.md"), &markdown)?;
        for f in &figures {
            write_file(&out.join(&f.file), &f.svg)?;
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
        write_file(&out.join("report.json"), &json)?;
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
