//! `report`: run every claim (or those of `--only`), print the tables,
//! write `report.md` with its figures and `report.json`; or, as one shard
//! (`--shard I/N` or a Slurm array task), run a share of the units of work
//! and store them as unit records for `merge`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use claims::{ClaimResult, FamilyRun, RunHooks, RunOptions};
use executor::Shard;

use crate::records::{self, Job, Origin};
use crate::render::{self, FamilyTime, Provenance, UnitTime};
use crate::shard;
use crate::{CliError, Format, ReportArgs, create_dir, figures, progress, write_file};

/// The units of work of `only`; a fixture that cannot be planned or a
/// prefix that selects nothing is a usage error.
fn units(options: &RunOptions, only: Option<&str>) -> Result<Vec<executor::Unit>, CliError> {
    let units = claims::plan_units(options, only).map_err(|e| CliError::usage(e.to_string()))?;
    if units.is_empty() {
        return Err(CliError::usage(format!(
            "no claim id starts with `{}`",
            only.unwrap_or("")
        )));
    }
    Ok(units)
}

/// `report --plan`: one unit per line, `id<TAB>family<TAB>seconds`, and
/// the total on stderr (of one shard's units with a shard).
fn plan(
    options: &RunOptions,
    only: Option<&str>,
    shard: Option<Shard>,
) -> Result<ExitCode, CliError> {
    let mut units = units(options, only)?;
    if let Some(shard) = shard {
        units = executor::select(&units, |u| u.cost, shard);
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
/// not reproduced (contradicted, negligible, inconclusive or untestable). A shard (`--shard`, or inside a Slurm
/// array task) stores its units and exits 0; `SLURM_CPUS_PER_TASK` sets
/// the threads inside a Slurm job.
pub(crate) fn report(args: &ReportArgs) -> Result<ExitCode, CliError> {
    let env = &shard::process_env;
    let shard = shard::resolve(args.units.shard, env)?;
    let threads = shard::slurm_threads(env)?;
    shard::with_threads(threads, || report_on_pool(args, shard))?
}

fn report_on_pool(args: &ReportArgs, shard: Option<Shard>) -> Result<ExitCode, CliError> {
    let start = Instant::now();
    let options = RunOptions {
        mode: args.mode(),
        seed: args.seed,
    };
    if args.units.plan {
        return plan(&options, args.only.as_deref(), shard);
    }
    if let Some(shard) = shard {
        let units = units(&options, args.only.as_deref())?;
        let origin = Origin::current(job(&options, args.only.as_deref()));
        return records::run_shard(
            &args.out,
            shard,
            &origin,
            &units,
            args.units.quiet,
            &|todo, done| claims::run_units(todo, &options, done),
        );
    }
    let bar = progress::bar(0, "units of work", args.units.quiet);
    let planned = std::sync::Mutex::new(Vec::new());
    let on_plan = |units: &[executor::Unit]| {
        bar.set_length(units.len() as u64);
        if let Ok(mut p) = planned.lock() {
            *p = units
                .iter()
                .map(|u| (u.id.clone(), u.family.clone()))
                .collect();
        }
    };
    let unit_times = std::sync::Mutex::new(Vec::new());
    let on_unit = |unit: &executor::Unit, seconds: f64| {
        bar.inc(1);
        bar.set_message(format!("{} done ({seconds:.1} s)", unit.id));
        if let Ok(mut t) = unit_times.lock() {
            t.push(UnitTime {
                id: unit.id.clone(),
                estimated_s: unit.cost,
                wall_time_s: seconds,
            });
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
    unit_times.sort_by_key(|u| planned.iter().position(|(id, _)| *id == u.id));
    let mut not_run: Vec<String> = Vec::new();
    for (_, family) in planned {
        if runs.iter().all(|r| r.label != family) && !not_run.contains(&family) {
            not_run.push(family);
        }
    }
    let origin = Origin::current(job(&options, args.only.as_deref()));
    let provenance = provenance(
        &origin,
        &options,
        &runs,
        Timing {
            threads: rayon::current_num_threads(),
            shards: None,
            wall_seconds: start.elapsed().as_secs_f64(),
            not_run,
            units: unit_times,
        },
    );
    publish(
        &runs,
        &provenance,
        &Publish {
            out: &args.out,
            format: args.format,
            quiet: args.units.quiet,
            strict: args.strict,
        },
    )
}

/// The job of a report with `options` and `--only only`.
fn job(options: &RunOptions, only: Option<&str>) -> Job {
    Job::Report {
        mode: options.mode,
        seed: options.seed,
        only: only.map(str::to_owned),
    }
}

/// How a report's units ran: in one process or over shards.
pub(crate) struct Timing {
    /// Threads of the pool (of each shard's pool, the most).
    pub threads: usize,
    /// How many shards computed the units (`None` for one process).
    pub shards: Option<usize>,
    /// Wall time of the run (merged: first shard's start to last unit's end).
    pub wall_seconds: f64,
    /// Families not started because an earlier one failed.
    pub not_run: Vec<String>,
    /// Per unit that ran, in plan order.
    pub units: Vec<UnitTime>,
}

/// The provenance of the concluded `runs` of a report run with `options`
/// by `origin` (its version and commit), as one process or a merge of
/// shards ran them.
pub(crate) fn provenance(
    origin: &Origin,
    options: &RunOptions,
    runs: &[FamilyRun],
    timing: Timing,
) -> Provenance {
    Provenance {
        version: origin.version.clone(),
        commit: origin.commit.clone(),
        dirty: origin.dirty,
        mode: options.mode,
        seed: options.seed,
        threads: timing.threads,
        shards: timing.shards,
        wall_seconds: timing.wall_seconds,
        families: runs.iter().map(FamilyTime::of).collect(),
        not_run: timing.not_run,
        units: timing.units,
    }
}

/// Where and how [`publish`] writes a report.
pub(crate) struct Publish<'a> {
    /// The output directory.
    pub out: &'a Path,
    /// Which files.
    pub format: Format,
    /// No tables on stdout.
    pub quiet: bool,
    /// Exit status 1 also for a disagreement.
    pub strict: bool,
}

/// Render the concluded families: the tables on stdout (unless quiet),
/// `report.md` with its figures and `report.json` into `to.out` (as
/// `to.format` says), the summary line on stderr; the exit status as
/// [`report`] describes.
pub(crate) fn publish(
    runs: &[FamilyRun],
    provenance: &Provenance,
    to: &Publish,
) -> Result<ExitCode, CliError> {
    let results: Vec<ClaimResult> = runs.iter().flat_map(|r| r.claims.clone()).collect();
    let options = RunOptions {
        mode: provenance.mode,
        seed: provenance.seed,
    };
    let (figures, not_drawn) =
        figures::figures(&options, runs).map_err(|e| CliError::failure(format!("figure: {e}")))?;
    let markdown = render::markdown_document(
        &results,
        provenance,
        &figures::markdown_section(&figures, &not_drawn),
    );
    if !to.quiet {
        print!("{markdown}");
    }
    let out = to.out;
    create_dir(out)?;
    let mut written = Vec::new();
    if to.format != Format::Json {
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
    if to.format != Format::Md {
        let json = serde_json::to_string_pretty(&render::json_document(runs, provenance))
            .expect("claims serialise");
        write_file(&out.join("report.json"), &json)?;
        written.push("report.json".to_owned());
    }
    let t = render::tally(&results);
    let failed = t[1].1;
    // Empirical rows other than `reproduced`.
    let disagreements: usize = t[5..].iter().map(|(_, n)| n).sum();
    let empirical: String = if t[4..].iter().any(|(_, n)| *n > 0) {
        t[4..]
            .iter()
            .map(|(v, n)| format!(" · {} {n}", v.name()))
            .collect()
    } else {
        String::new()
    };
    let wall = match provenance.shards {
        None => format!(
            "wall time {:.1} s on {} threads",
            provenance.wall_seconds, provenance.threads
        ),
        Some(k) => format!(
            "wall time {:.1} s over {k} shard{} of up to {} thread{}",
            provenance.wall_seconds,
            if k == 1 { "" } else { "s" },
            provenance.threads,
            if provenance.threads == 1 { "" } else { "s" }
        ),
    };
    eprintln!(
        "claims: {} · passed {} · failed {} · undefined {} · info {}{empirical} · {wall} · wrote {} in {}",
        results.len(),
        t[0].1,
        failed,
        t[2].1,
        t[3].1,
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
            "{disagreements} empirical claim{} not reproduced ({} contradicted): see \"Empirical claims\" in report.md{}",
            if disagreements == 1 { "" } else { "s" },
            t[5].1,
            if to.strict {
                " (--strict: exit status 1)"
            } else {
                ""
            }
        );
    }
    Ok(if failed > 0 || (to.strict && disagreements > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
