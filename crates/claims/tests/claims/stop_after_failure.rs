//! The failure path of `run_family_set`: with `stop_after_failure`, no
//! family starts after one has a failing claim (work under way completes);
//! without it, every family runs. One rayon thread makes the order of the
//! families deterministic.

use claims::claim::{Claim, Comparison};
use claims::{ClaimResult, Family, RunHooks, RunOptions, Verdict, run_family_set};

fn failing(_: &RunOptions) -> Vec<ClaimResult> {
    // 1 vs 2 with tolerance 0.5: the comparison itself gives the verdict.
    vec![Claim::new("TEST", "fails", "a claim that fails", "").check(
        1.0,
        2.0,
        0.5,
        Comparison::Absolute,
        "test",
    )]
}

fn passing(_: &RunOptions) -> Vec<ClaimResult> {
    vec![
        Claim::new("TEST", "passes", "a claim that passes", "").check(
            1.0,
            1.0,
            0.5,
            Comparison::Absolute,
            "test",
        ),
    ]
}

fn set() -> Vec<Family> {
    vec![
        Family {
            paper: "TEST",
            keys: &["fails"],
            run: failing,
        },
        Family {
            paper: "TEST",
            keys: &["passes"],
            run: passing,
        },
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
