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
        .unwrap()
        .details
        .as_ref()
        .unwrap()["sweep"]
        .as_array()
        .unwrap()
        .clone();
    let first = sweep.first().unwrap()["best_cosine"].as_f64().unwrap();
    let last = sweep.last().unwrap()["best_cosine"].as_f64().unwrap();
    assert!(first - last > 0.3, "similarity {first} → {last}");
}
