//! TMC25's nonlinear counterexamples as a test: every claim passes.

use crate::common::assert_pass;
use claims::{RunOptions, run_claims};

#[test]
fn counterexample_claims_hold() {
    let results = run_claims(&RunOptions::quick(), Some("TMC25.C."));
    let cfg = claims::tmc25::counterexamples::config().unwrap();
    assert_eq!(results.len(), 2 + cfg.quadratic.scales.len() + 1);
    for r in &results {
        assert_pass(r);
    }
    // The rescaling sweep really moves the similarity while the loss stays.
    let sweep = results
        .iter()
        .find(|r| r.key == "C.rescaling")
        .and_then(|r| r.details.as_ref()?.series_named("best_cosine"))
        .expect("the sweep's best cosine over s");
    let first = sweep.y.first().copied().flatten().unwrap();
    let last = sweep.y.last().copied().flatten().unwrap();
    assert!(first - last > 0.3, "similarity {first} → {last}");
}
