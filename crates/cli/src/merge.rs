//! `merge DIR`: build the outputs of a sharded `report` or `sweep` from the
//! unit records under `DIR/units/`, into `DIR`.
//!
//! The records must all come from one run ([`records::Origin`]: the same
//! job, toolkit version and commit), cover every unit of its plan, and
//! agree wherever a unit was stored twice; otherwise `merge` refuses with
//! one line and exit status 2 and writes nothing. A corrupt record is
//! reported and skipped (its unit then counts as missing unless another
//! record holds it). The claims are concluded from the stored measurements
//! in plan order, exactly as one process concludes them from measurements
//! it has just made, so a merged report equals a one-process report apart
//! from its wall times.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;

use claims::{ConcludeError, RunOptions};
use executor::{Shard, Unit};

use crate::records::{self, Job, Record};
use crate::render::UnitTime;
use crate::report::{self, Publish, Timing};
use crate::{CliError, MergeArgs, sweep};

/// How many missing ids an error names before it counts the rest.
const NAMED: usize = 20;

/// Run the command: exit status 2 when the records cannot be merged, else
/// as `report` (a failing claim: 1) or `sweep` (a failed run: 1).
pub(crate) fn merge(args: &MergeArgs) -> Result<ExitCode, CliError> {
    let dir = &args.dir;
    let store = records::load(dir)?;
    let Some((first_path, first)) = store.records.first() else {
        return Err(CliError::usage(format!(
            "{}: no unit records under {} (write them with `report --shard I/N --out {0}` or `sweep FILE --shard I/N --out {0}`)",
            dir.display(),
            executor::store::units_dir(dir).display()
        )));
    };
    store.check_origin(&first.origin, &format!("{} has", first_path.display()), "")?;
    let by_id = store.by_id()?;
    match &first.origin.job {
        Job::Report { mode, seed, only } => {
            let options = RunOptions {
                mode: *mode,
                seed: *seed,
            };
            let plan = claims::plan_units(&options, only.as_deref())
                .map_err(|e| CliError::usage(e.to_string()))?;
            let used = complete(&plan, &by_id)?;
            let measured = used.iter().map(|r| (r.id.clone(), r.measured())).collect();
            let runs = claims::conclude_families(&options, only.as_deref(), measured).map_err(
                |e| match e {
                    ConcludeError::Plan(p) => CliError::usage(p.to_string()),
                    ConcludeError::Missing(ids) => {
                        CliError::usage(format!("missing {} units: {}", ids.len(), ids.join(", ")))
                    }
                },
            )?;
            let provenance = report::provenance(
                &first.origin,
                &options,
                &runs,
                Timing {
                    threads: used.iter().map(|r| r.threads).max().unwrap_or(1),
                    shards: Some(used.iter().map(|r| &r.shard).collect::<HashSet<_>>().len()),
                    wall_seconds: span(&used),
                    not_run: Vec::new(),
                    units: used
                        .iter()
                        .map(|r| UnitTime {
                            id: r.id.clone(),
                            estimated_s: r.estimated_s,
                            wall_time_s: r.seconds,
                        })
                        .collect(),
                },
            );
            report::publish(
                &runs,
                &provenance,
                &Publish {
                    out: dir,
                    format: args.format,
                    quiet: args.quiet,
                    strict: args.strict,
                },
            )
        }
        Job::Sweep { name, config } => {
            let sweep =
                sweep::Sweep::parse(config, &format!("the sweep `{name}` of the records"), name)?;
            let plan = sweep.units();
            let used = complete(&plan, &by_id)?;
            let measured = plan
                .iter()
                .zip(&used)
                .map(|(u, r)| (u.clone(), r.measurement.clone()))
                .collect();
            sweep::publish(dir, &sweep, measured, span(&used), args.quiet)
        }
    }
}

/// Seconds from the earliest shard start to the latest unit end.
fn span(used: &[&Record]) -> f64 {
    let first = used.iter().map(|r| r.started).fold(f64::INFINITY, f64::min);
    let last = used.iter().map(|r| r.finished).fold(0.0, f64::max);
    (last - first).max(0.0)
}

/// The record of every unit of `plan`, in plan order; a unit whose record
/// has another point, or units without a record, are usage errors (the
/// latter naming the units and their shards).
fn complete<'a>(
    plan: &[Unit],
    by_id: &HashMap<&str, &'a Record>,
) -> Result<Vec<&'a Record>, CliError> {
    let mut used = Vec::new();
    let mut missing = Vec::new();
    for (k, u) in plan.iter().enumerate() {
        match by_id.get(u.id.as_str()) {
            Some(r) if r.point != u.point => {
                return Err(CliError::usage(format!(
                    "unit {}: its record has the point {} but the plan has {}",
                    u.id, r.point, u.point
                )));
            }
            Some(r) => used.push(*r),
            None => missing.push(k),
        }
    }
    if missing.is_empty() {
        return Ok(used);
    }
    let mut names: Vec<&str> = missing
        .iter()
        .take(NAMED)
        .map(|&k| plan[k].id.as_str())
        .collect();
    let more = missing.len().saturating_sub(NAMED);
    let more = if more > 0 {
        names.push("…");
        format!(" and {more} more")
    } else {
        String::new()
    };
    // The shards that own the missing units, under the split of the
    // records (the smallest shard count among them, when they differ).
    let count = by_id
        .values()
        .filter_map(|r| r.shard.parse::<Shard>().ok())
        .map(|s| s.count)
        .min();
    let owners = count.map_or(String::new(), |count| {
        let costs: Vec<f64> = plan.iter().map(|u| u.cost).collect();
        let assigned = executor::assign(&costs, count);
        let mut shards: Vec<usize> = missing.iter().map(|&k| assigned[k]).collect();
        shards.sort_unstable();
        shards.dedup();
        let list: Vec<String> = shards.iter().map(|i| format!("{i}/{count}")).collect();
        format!(
            "; run shard {} again (a shard skips the units it has)",
            list.join(", ")
        )
    });
    Err(CliError::usage(format!(
        "missing {} of {} units: {}{more}{owners}",
        missing.len(),
        plan.len(),
        names.join(", ")
    )))
}
