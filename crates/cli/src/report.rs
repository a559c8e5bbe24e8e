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

/// `report --plan`: one unit per line, `id<TAB>family<TAB>seconds`, and
/// the total on stderr.
fn plan(options: &RunOptions, only: Option<&str>) -> Result<ExitCode, CliError> {
    let units = claims::plan_units(options, only).map_err(|e| CliError::usage(e.to_string()))?;
    if units.is_empty() {
        return Err(CliError::usage(format!(
            "no claim id starts with `{}`",
            only.unwrap_or("")
        )));
    }
    let mut out = String::new();
    for u in &units {
        out.push_str(&format!("{}\t{}\t{:.2}\n", u.id, u.family, u.cost));
    }
    print!("{out}");
    eprintln!(
        "{} units, estimated {:.0} s on one core",
        units.len(),
        units.iter().map(|u| u.cost).sum::<f64>()
    );
    Ok(ExitCode::SUCCESS)
}

/// Run the command; exit status 1 when a claim fails (a theorem-backed
/// check or a run that errs), or with `--strict` when an empirical claim is
/// contradicted or inconclusive.
pub(crate) fn report(args: &ReportArgs) -> Result<ExitCode, CliError> {
    let start = Instant::now();
    let options = RunOptions {
        mode: args.mode(),
        seed: args.seed,
    };
    if args.plan {
        return plan(&options, args.only.as_deref());
    }
    let bar = progress::bar(0, "units of work", args.quiet);
    let planned = std::sync::Mutex::new(Vec::new());
    let on_plan = |units: &[claims::Unit]| {
        bar.set_length(units.len() as u64);
        if let Ok(mut p) = planned.lock() {
            *p = units
                .iter()
                .map(|u| (u.id.clone(), u.family.clone()))
                .collect();
        }
    };
    let unit_times = std::sync::Mutex::new(Vec::new());
    let on_unit = |unit: &claims::Unit, seconds: f64| {
        bar.inc(1);
        bar.set_message(format!("{} done ({seconds:.1} s)", unit.id));
        if let Ok(mut t) = unit_times.lock() {
            t.push((unit.id.clone(), unit.cost, seconds));
        }
    };
    let runs = claims::run_families(
        &options,
        args.only.as_deref(),
        &RunHooks {
            on_plan: Some(&on_plan),
            on_unit: Some(&on_unit),
            on_family: None,
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
    let planned = planned.into_inner().unwrap_or_default();
    let mut unit_times = unit_times.into_inner().unwrap_or_default();
    unit_times.sort_by_key(|u| planned.iter().position(|(id, _)| *id == u.0));
    let mut not_run: Vec<String> = Vec::new();
    for (_, family) in planned {
        if runs.iter().all(|r| r.label != family) && !not_run.contains(&family) {
            not_run.push(family);
        }
    }
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
        units: unit_times,
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
    let disagreements = t[5].1 + t[6].1;
    let empirical = if t[4..].iter().any(|(_, n)| *n > 0) {
        format!(
            " · reproduced {} · contradicted {} · inconclusive {}",
            t[4].1, t[5].1, t[6].1
        )
    } else {
        String::new()
    };
    eprintln!(
        "claims: {} · passed {} · failed {} · undefined {} · info {}{empirical} · wall time {:.1} s on {} threads · wrote {} in {}",
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
    if disagreements > 0 {
        eprintln!(
            "{disagreements} empirical claim{} contradicted or inconclusive: see \"Where we disagree with the papers\" in report.md{}",
            if disagreements == 1 { "" } else { "s" },
            if args.strict {
                " (--strict: exit status 1)"
            } else {
                ""
            }
        );
    }
    Ok(if failed > 0 || (args.strict && disagreements > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
