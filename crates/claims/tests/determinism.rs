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
