//! The unit records of `report --shard` and `sweep --shard` at the command
//! line: the jobs they belong to ([`Job`]), and a shard run with its
//! progress bar and summary line. Storing, resuming and reading records
//! back are [`executor::store`]'s.

use std::path::Path;
use std::process::ExitCode;

use claims::Mode;
use executor::store::{self, Runner, StoreError};
use executor::{Shard, Unit};
use serde::{Deserialize, Serialize};

use crate::{CliError, progress};

/// What a set of records computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Job {
    /// The claims of `report`.
    Report {
        /// Problem sizes.
        mode: Mode,
        /// `--seed N`.
        seed: Option<u64>,
        /// `--only PREFIX`.
        only: Option<String>,
    },
    /// The grid of `sweep`.
    Sweep {
        /// The sweep's name.
        name: String,
        /// The sweep file's text (base config and grid).
        config: String,
    },
}

impl store::Job for Job {
    fn difference(&self, other: &Self) -> Option<(String, String, &'static str)> {
        let pair = |a: String, b: String, what| (a != b).then_some((a, b, what));
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
        let seed = |s: &Option<u64>| s.map_or("none".into(), |s| s.to_string());
        match (self, other) {
            (
                Job::Report {
                    mode,
                    seed: s1,
                    only,
                },
                Job::Report {
                    mode: m2,
                    seed: s2,
                    only: o2,
                },
            ) => pair(
                format!("mode {}", mode.name()),
                format!("mode {}", m2.name()),
                "modes",
            )
            .or_else(|| {
                pair(
                    format!("seed {}", seed(s1)),
                    format!("seed {}", seed(s2)),
                    "seeds",
                )
            })
            .or_else(|| {
                pair(
                    format!("--only {}", opt(only)),
                    format!("--only {}", opt(o2)),
                    "--only prefixes",
                )
            }),
            (
                Job::Sweep { name, config },
                Job::Sweep {
                    name: n2,
                    config: c2,
                },
            ) => pair(format!("sweep `{name}`"), format!("sweep `{n2}`"), "sweeps").or_else(|| {
                (config != c2).then(|| {
                    (
                        format!("sweep `{name}` (one file)"),
                        format!("sweep `{n2}` (an edited file)"),
                        "sweep files",
                    )
                })
            }),
            (Job::Report { .. }, _) => Some(("a report".into(), "a sweep".into(), "jobs")),
            (Job::Sweep { .. }, _) => Some(("a sweep".into(), "a report".into(), "jobs")),
        }
    }
}

/// Where a record comes from.
pub type Origin = store::Origin<Job>;
/// One finished unit of work, as stored.
pub type Record = store::Record<Job>;
/// The records found under a directory.
pub type Store = store::Store<Job>;

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Io { .. } => CliError::failure(e.to_string()),
            StoreError::BadInput(message) => CliError::usage(message),
        }
    }
}

/// Every record under `out/units/*/`, with one warning line on stderr per
/// corrupt record.
pub fn load(out: &Path) -> Result<Store, CliError> {
    let store = store::load(out)?;
    for (path, why) in &store.corrupt {
        eprintln!(
            "warning: {}: truncated or corrupt unit record ({why}); skipped, a resumed shard recomputes it",
            path.display()
        );
    }
    Ok(store)
}

/// One shard of a plan ([`store::run_shard`]) with a progress bar and a
/// summary line.
pub fn run_shard(
    out: &Path,
    shard: Shard,
    origin: &Origin,
    plan: &[Unit],
    quiet: bool,
    run: Runner,
) -> Result<ExitCode, CliError> {
    let store = load(out)?;
    let bar = progress::bar(0, "units of work", quiet);
    let ran = store::run_shard(
        &store,
        shard,
        origin,
        plan,
        run,
        &|todo| bar.set_length(todo as u64),
        &|unit, seconds| {
            bar.inc(1);
            bar.set_message(format!("{} done ({seconds:.1} s)", unit.id));
        },
    )?;
    bar.finish_and_clear();
    let threads = rayon::current_num_threads();
    eprintln!(
        "shard {shard}: {} units · {} already done · ran {} · wall time {:.1} s on {threads} thread{} · wrote {}",
        ran.units,
        ran.already_done,
        ran.units - ran.already_done,
        ran.seconds,
        if threads == 1 { "" } else { "s" },
        ran.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
