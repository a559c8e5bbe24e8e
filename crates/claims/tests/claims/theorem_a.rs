//! TMC25 Theorem A as a test: every claim of the family passes in quick mode,
//! except A.alpha for C = 1, which must be `undefined` because rank G_1 = 1.

use crate::common::assert_pass;
use claims::{Mode, RunOptions, Verdict, run_claims};

#[test]
fn theorem_a_claims_hold() {
    let results = run_claims(&RunOptions::quick(), Some("TMC25.A."));
    assert!(!results.is_empty());
    for r in &results {
        let scalar_alpha = r.key == "A.alpha" && r.params["C"] == 1;
        if scalar_alpha {
            assert_eq!(r.verdict, Verdict::Undefined, "{}: {}", r.id, r.reason);
            assert!(
                r.reason.contains("unidentifiable"),
                "{}: {}",
                r.id,
                r.reason
            );
            assert!(r.measured.is_none());
        } else {
            assert_pass(r);
        }
    }
    // Every key of the family appears for every grid point.
    let cfg = claims::tmc25::theorem_a::config().unwrap();
    let points =
        cfg.depths.get(Mode::Quick).len() * cfg.widths.get(Mode::Quick).len() * cfg.outputs.len();
    // identity + layerwise + 3 alpha + conservation + 2 gd_drift per point.
    assert_eq!(results.len(), points * 8);
}
