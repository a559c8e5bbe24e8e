//! Same seed, same bits, whatever the thread count; a different seed gives
//! different numbers (so the seed is really used).

use claims::{Mode, RunOptions, run_claims};

fn json_with_threads(threads: usize, seed: Option<u64>) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let results = pool.install(|| {
        run_claims(
            &RunOptions {
                mode: Mode::Quick,
                seed,
            },
            Some("TMC25.A."),
        )
    });
    serde_json::to_string(&results).unwrap()
}

#[test]
fn results_are_bitwise_identical_on_one_and_two_threads() {
    let one = json_with_threads(1, None);
    let two = json_with_threads(2, None);
    assert_eq!(one, two);
}

#[test]
fn the_seed_option_changes_the_experiments() {
    let default = json_with_threads(2, None);
    let other = json_with_threads(2, Some(12345));
    assert_ne!(default, other);
    assert!(other.contains("\"seed\":12345"));
}

/// The committed record of every quick claim: id, measured value, verdict.
const BASELINE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/baseline/quick_claims.json"
);

/// Relative agreement of a measured value with its record: a change of
/// code that leaves the experiments alone may reorder floating-point sums
/// (round-off, ~1e-13 relative after thousands of steps); anything larger
/// is a changed experiment. The absolute floor covers measurements that
/// are themselves round-off (the exact identities' ~1e-14 errors, checked
/// against their own tolerances by the verdict).
const BASELINE_RTOL: f64 = 1e-9;
const BASELINE_ATOL: f64 = 1e-12;

/// Every quick claim keeps its id, verdict and measured value (to
/// round-off) against the committed baseline. After a deliberate change of
/// an experiment, rewrite it with
/// `UPDATE_FIXTURES=1 cargo test -p claims --test claims quick_claims` and review
/// the diff.
#[test]
fn quick_claims_match_the_committed_baseline() {
    let results = crate::common::quick_claims();
    let record: Vec<serde_json::Value> = results
        .iter()
        .map(|r| serde_json::json!({"id": r.id, "measured": r.measured, "verdict": r.verdict}))
        .collect();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        let text = serde_json::to_string_pretty(&record).unwrap();
        std::fs::create_dir_all(std::path::Path::new(BASELINE).parent().unwrap()).unwrap();
        std::fs::write(BASELINE, text + "\n").unwrap();
        return;
    }
    let baseline: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(BASELINE).unwrap()).unwrap();
    let ids = |v: &[serde_json::Value]| -> Vec<String> {
        v.iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&record),
        ids(&baseline),
        "the claims or their order changed"
    );
    for (now, then) in record.iter().zip(&baseline) {
        let id = &now["id"];
        assert_eq!(now["verdict"], then["verdict"], "{id}: verdict changed");
        match (now["measured"].as_f64(), then["measured"].as_f64()) {
            (Some(a), Some(b)) => assert!(
                (a - b).abs() <= BASELINE_RTOL * a.abs().max(b.abs()) + BASELINE_ATOL,
                "{id}: measured {a} vs baseline {b}"
            ),
            (a, b) => assert_eq!(a, b, "{id}: measured"),
        }
    }
}
