//! The failure path of `run_family_set`: with `stop_after_failure`, no
//! unit starts after a family has a failing claim (work under way
//! completes); without it, every family runs. One rayon thread makes the
//! order of the units deterministic.

use claims::claim::{Claim, Comparison};
use claims::{ClaimResult, Family, Planned, RunHooks, RunOptions, Study, Verdict, run_family_set};

/// A family of one unit whose claim passes or fails by its comparison.
struct OneClaim {
    key: &'static str,
    measured: f64,
}

impl Study for OneClaim {
    type Config = toml::Table;
    type Point = ();
    type Measurement = f64;

    fn plan(&self, _: &toml::Table, _: &RunOptions) -> Vec<Planned<()>> {
        vec![Planned {
            name: "one".into(),
            cost: 1.0,
            point: (),
        }]
    }

    fn run(&self, _: &toml::Table, _: &RunOptions, _: &()) -> f64 {
        self.measured
    }

    fn conclude(&self, _: &toml::Table, _: &RunOptions, m: Vec<((), f64)>) -> Vec<ClaimResult> {
        // Measured vs 1 with tolerance 0.5: the comparison gives the verdict.
        vec![Claim::new("TEST", self.key, "a test claim", "").check(
            1.0,
            m[0].1,
            0.5,
            Comparison::Absolute,
            "test",
        )]
    }
}

fn set() -> Vec<Family> {
    const FAILS: OneClaim = OneClaim {
        key: "fails",
        measured: 2.0,
    };
    const PASSES: OneClaim = OneClaim {
        key: "passes",
        measured: 1.0,
    };
    vec![
        Family::new("TEST", &["fails"], "none.toml", "", &FAILS),
        Family::new("TEST", &["passes"], "none.toml", "", &PASSES),
    ]
}

fn run(stop: bool) -> Vec<(String, Verdict)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let hooks = RunHooks {
        stop_after_failure: stop,
        ..RunHooks::default()
    };
    pool.install(|| run_family_set(set(), &RunOptions::quick(), None, &hooks))
        .into_iter()
        .map(|r| (r.label, r.claims[0].verdict))
        .collect()
}

#[test]
fn stops_after_a_failure_unless_told_to_keep_going() {
    let fails = ("TEST fails".to_owned(), Verdict::Fail);
    let passes = ("TEST passes".to_owned(), Verdict::Pass);
    assert_eq!(run(true), std::slice::from_ref(&fails));
    assert_eq!(run(false), [fails, passes]);
}
