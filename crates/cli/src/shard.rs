//! Splitting units of work over processes: `--shard I/N`, or the task of a
//! Slurm job array.
//!
//! Shards are balanced by estimated cost with the greedy
//! longest-processing-time rule ([`assign`]): units in decreasing order of
//! cost (equal costs in plan order), each to the shard with the least
//! estimated work so far (equal loads: the lowest index). The assignment
//! depends only on the plan and N, so every task of an array computes the
//! same split without talking to the others.

use std::fmt;
use std::str::FromStr;

use crate::CliError;

/// Shard `index` of `count` (0 ≤ index < count), written `I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = || format!("expected I/N with 0 ≤ I < N (e.g. 0/4), got `{s}`");
        let (i, n) = s.split_once('/').ok_or_else(expected)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| expected())?,
            n.trim().parse::<usize>().map_err(|_| expected())?,
        );
        if index >= count {
            return Err(expected());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The directory name of the shard's unit records: `shard-I-of-N`.
    pub fn dir_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

/// The shard of each unit (same order as `costs`) among `count` shards:
/// greedy longest processing time, deterministic (see the module docs).
pub fn assign(costs: &[f64], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    // Stable: equal costs keep plan order.
    order.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]));
    let mut load = vec![0.0_f64; count.max(1)];
    let mut shard = vec![0; costs.len()];
    for u in order {
        let (least, _) = load
            .iter()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |best, (k, &l)| {
                    if l < best.1 { (k, l) } else { best }
                },
            );
        shard[u] = least;
        load[least] += costs[u].max(0.0);
    }
    shard
}

/// The items of `items` that fall in `shard` by their costs, in their
/// given order.
pub fn select<T: Clone>(items: &[T], cost: impl Fn(&T) -> f64, shard: Shard) -> Vec<T> {
    let costs: Vec<f64> = items.iter().map(cost).collect();
    assign(&costs, shard.count)
        .into_iter()
        .zip(items)
        .filter(|(s, _)| *s == shard.index)
        .map(|(_, item)| item.clone())
        .collect()
}

/// A variable of the environment, through `env` (so that tests need not
/// change the process's environment).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn number(env: Env, name: &str) -> Result<Option<usize>, CliError> {
    env(name)
        .map(|v| {
            v.trim().parse::<usize>().map_err(|_| {
                CliError::usage(format!(
                    "{name}={v}: expected a non-negative integer (set by Slurm)"
                ))
            })
        })
        .transpose()
}

/// The shard of a Slurm array task: `SLURM_ARRAY_TASK_ID` minus
/// `SLURM_ARRAY_TASK_MIN` (0 when unset) of `SLURM_ARRAY_TASK_COUNT`;
/// `None` outside an array task. A task id that does not fall in
/// `0..COUNT` after the subtraction (an array of non-consecutive ids) is
/// an error naming the variables.
pub fn from_slurm(env: Env) -> Result<Option<Shard>, CliError> {
    let Some(id) = number(env, "SLURM_ARRAY_TASK_ID")? else {
        return Ok(None);
    };
    let min = number(env, "SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
    let count = number(env, "SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
        CliError::usage(
            "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: pass --shard I/N",
        )
    })?;
    match id.checked_sub(min) {
        Some(index) if index < count => Ok(Some(Shard { index, count })),
        _ => Err(CliError::usage(format!(
            "SLURM_ARRAY_TASK_ID={id} minus SLURM_ARRAY_TASK_MIN={min} is not below SLURM_ARRAY_TASK_COUNT={count}: submit the array as --array=0-(N-1), or pass --shard I/N"
        ))),
    }
}

/// `--shard` when given, else the Slurm array task's shard, else `None`.
pub fn resolve(explicit: Option<Shard>, env: Env) -> Result<Option<Shard>, CliError> {
    match explicit {
        Some(s) => Ok(Some(s)),
        None => from_slurm(env),
    }
}

/// Threads for the work: `SLURM_CPUS_PER_TASK` inside a Slurm job that sets
/// it, else `None` (rayon's default: every core, or `RAYON_NUM_THREADS`).
pub fn slurm_threads(env: Env) -> Result<Option<usize>, CliError> {
    match number(env, "SLURM_CPUS_PER_TASK")? {
        Some(0) => Err(CliError::usage(
            "SLURM_CPUS_PER_TASK=0: expected at least one CPU",
        )),
        n => Ok(n),
    }
}

/// Run `work` on a rayon pool of `threads` threads, or on the global pool
/// when `None`.
pub fn with_threads<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> Result<T, CliError> {
    match threads {
        None => Ok(work()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(|pool| pool.install(work))
            .map_err(|e| CliError::failure(format!("cannot start {n} threads: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn shards_parse_as_index_of_count() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    /// Longest processing time: the two big units go to different shards,
    /// the small ones fill the lighter shard; every unit has exactly one
    /// shard, whatever N.
    #[test]
    fn assignment_balances_by_cost_and_covers_every_unit() {
        assert_eq!(assign(&[1.0, 5.0, 1.0, 4.0, 1.0], 2), [1, 0, 0, 1, 1]);
        let costs: Vec<f64> = (0..50).map(|k| ((k * 37) % 11) as f64 + 0.5).collect();
        for n in 1..7 {
            let a = assign(&costs, n);
            assert!(a.iter().all(|&s| s < n));
            let loads: Vec<f64> = (0..n)
                .map(|s| {
                    (0..costs.len())
                        .filter(|&u| a[u] == s)
                        .map(|u| costs[u])
                        .sum()
                })
                .collect();
            let (max, min) = loads.iter().fold((0.0_f64, f64::INFINITY), |(hi, lo), &l| {
                (hi.max(l), lo.min(l))
            });
            // LPT: the loads differ by at most the largest single cost.
            assert!(max - min <= 10.5, "{n}: {loads:?}");
        }
    }

    #[test]
    fn slurm_array_variables_give_the_shard_and_threads() {
        let vars = [
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_MIN", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_CPUS_PER_TASK", "2"),
        ];
        let e = env(&vars);
        assert_eq!(from_slurm(&e), Ok(Some(Shard { index: 2, count: 4 })));
        assert_eq!(slurm_threads(&e), Ok(Some(2)));
        // An explicit --shard wins.
        let explicit = Shard { index: 0, count: 1 };
        assert_eq!(resolve(Some(explicit), &e), Ok(Some(explicit)));
        let none = env(&[]);
        assert_eq!(resolve(None, &none), Ok(None));
        assert_eq!(slurm_threads(&none), Ok(None));
    }

    #[test]
    fn inconsistent_slurm_variables_are_usage_errors_naming_them() {
        let gap = [
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        let e = from_slurm(&env(&gap)).unwrap_err();
        assert_eq!(e.code, CliError::USAGE);
        assert!(e.message.contains("SLURM_ARRAY_TASK_COUNT=3"), "{e}");
        let junk = [("SLURM_ARRAY_TASK_ID", "x")];
        let e = from_slurm(&env(&junk)).unwrap_err();
        assert!(e.message.starts_with("SLURM_ARRAY_TASK_ID=x"), "{e}");
        let no_count = [("SLURM_ARRAY_TASK_ID", "0")];
        assert!(from_slurm(&env(&no_count)).is_err());
        assert!(slurm_threads(&env(&[("SLURM_CPUS_PER_TASK", "0")])).is_err());
    }
}
