//! The shard of this process: `--shard I/N`, or the task of a Slurm job
//! array ([`executor::Shard`] and its balanced split are the executor's).

use executor::Shard;

use crate::CliError;

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
