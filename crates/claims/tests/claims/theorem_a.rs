//! TMC25 Theorem A as a test: every claim of the family passes in quick mode,
//! except A.alpha for C = 1, which must be `undefined` because rank G_1 = 1.

use crate::common::assert_pass;
use claims::{Mode, Verdict};

#[test]
fn theorem_a_claims_hold() {
    let results = crate::common::quick("TMC25.A.");
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

/// The example config `fixtures/experiments/balanced_gradient_flow.toml`
/// is the Theorem A template at L = 3, width 10, C = 3: run through
/// `experiment::run` on its own, it gives the claim's measurement bit for
/// bit (the same run, the same metric).
#[test]
fn the_example_config_reproduces_a_unit() {
    let text = include_str!("../../../../fixtures/experiments/balanced_gradient_flow.toml");
    let exp = experiment::Experiment::from_toml(text).unwrap();
    let (_, trajectory) = experiment::run(&exp).unwrap();
    let worst = trajectory
        .snapshots
        .iter()
        .map(|s| experiment::measure::layer_relerr(&s.weights, 1).unwrap())
        .fold(0.0, f64::max);
    let claim = crate::common::quick("TMC25.A.identity[L=3,width=10,C=3]");
    assert_eq!(claim.len(), 1);
    assert_eq!(claim[0].measured, Some(worst));
}
