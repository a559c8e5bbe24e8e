//! Units of work and the one loop that runs them.
//!
//! A job — the report's claim families, a user's sweep — is planned as
//! [`Unit`]s: a stable id, the group it belongs to (a claim family, a
//! sweep), an estimated cost and its parameters as JSON. [`execute`] runs
//! any list of units in parallel (rayon), the costliest first, and hands
//! each [`Measured`] result to an observer as it finishes; whoever owns the
//! job stores the results and concludes each group from them. A run split
//! over processes takes the units of its [`Shard`] ([`select`]), balanced
//! by cost and the same in every process, and stores each finished unit
//! as a [`store::Record`] that a resumed shard skips and a merge reads back.
//!
//! *Invariant*: a unit's result is a deterministic function of the unit,
//! so results do not depend on the number of threads, the order in which
//! units finish, or the shard that ran them.
#![warn(missing_docs)]

mod shard;
pub mod store;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use shard::{Shard, assign, select};

/// A unit of work: which group, which point, how costly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Stable, unique id within its job, e.g. `TMC25.A/L=3,width=10,C=2`.
    pub id: String,
    /// The group the unit is concluded with (a claim family's label, a
    /// sweep's name).
    pub family: String,
    /// Estimated cost in seconds on one core (for ordering and balancing
    /// work; never for correctness).
    pub cost: f64,
    /// The unit's parameters, as its group reads them back.
    pub point: Value,
}

/// A unit's result (or why it has none) and the seconds it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The result as JSON; `Err` when the unit could not run.
    pub value: Result<Value, String>,
    /// Wall time of the unit, in seconds.
    pub seconds: f64,
}

/// Computes one unit.
pub type Run<'a> = &'a (dyn Fn(&Unit) -> Result<Value, String> + Sync);
/// Called from the worker thread as each unit finishes, with the unit's
/// index in the list given to [`execute`].
pub type Done<'a> = &'a (dyn Fn(usize, &Unit, Measured) + Sync);

/// Run `units` in parallel on the current rayon pool, the costliest first
/// (equal costs in the given order, so that the last to finish are short),
/// and hand each result to `done` as it finishes. Units not yet started
/// when `stop` becomes true are skipped (work under way completes).
pub fn execute(units: &[Unit], run: Run, stop: Option<&AtomicBool>, done: Done) {
    let mut order: Vec<usize> = (0..units.len()).collect();
    // A stable sort: equal costs keep the given order.
    order.sort_by(|&a, &b| units[b].cost.total_cmp(&units[a].cost));
    order.par_iter().with_max_len(1).for_each(|&k| {
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            return;
        }
        let unit = &units[k];
        let start = Instant::now();
        let value = run(unit);
        let seconds = start.elapsed().as_secs_f64();
        done(k, unit, Measured { value, seconds });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn unit(id: &str, cost: f64) -> Unit {
        Unit {
            id: id.into(),
            family: "g".into(),
            cost,
            point: Value::from(id),
        }
    }

    /// Every unit runs once and its result reaches `done` with its index,
    /// whatever the thread count; on one thread the order is the
    /// costliest first, ties in the given order.
    #[test]
    fn every_unit_runs_once_costliest_first() {
        let units = [
            unit("a", 1.0),
            unit("b", 3.0),
            unit("c", 1.0),
            unit("d", 2.0),
        ];
        for threads in [1, 3] {
            let seen = Mutex::new(Vec::new());
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                execute(
                    &units,
                    &|u| Ok(Value::from(u.id.to_uppercase())),
                    None,
                    &|k, u, m| {
                        assert_eq!(units[k], *u);
                        assert_eq!(m.value, Ok(Value::from(u.id.to_uppercase())));
                        seen.lock().unwrap().push(u.id.clone());
                    },
                )
            });
            let mut seen = seen.into_inner().unwrap();
            if threads == 1 {
                assert_eq!(seen, ["b", "d", "a", "c"]);
            }
            seen.sort();
            assert_eq!(seen, ["a", "b", "c", "d"]);
        }
    }

    /// Once `stop` is set, no further unit starts.
    #[test]
    fn a_stop_skips_the_units_not_started() {
        let units: Vec<Unit> = (0..5)
            .map(|k| unit(&k.to_string(), 5.0 - k as f64))
            .collect();
        let stop = AtomicBool::new(false);
        let ran = Mutex::new(Vec::new());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        pool.install(|| {
            execute(&units, &|_| Ok(Value::Null), Some(&stop), &|_, u, _| {
                ran.lock().unwrap().push(u.id.clone());
                if u.id == "1" {
                    stop.store(true, Ordering::SeqCst);
                }
            })
        });
        assert_eq!(ran.into_inner().unwrap(), ["0", "1"]);
    }
}
