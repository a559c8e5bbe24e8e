//! TMC25 Theorem B as a test: every claim of the family passes in quick mode.

use crate::common::assert_pass;
use claims::{Mode, RunOptions, Verdict, run_claims};

#[test]
fn theorem_b_claims_hold() {
    let results = run_claims(&RunOptions::quick(), Some("TMC25.B."))
        .into_iter()
        .filter(|r| r.key != "B.optimizers")
        .collect::<Vec<_>>();
    let cfg = claims::tmc25::theorem_b::config().unwrap();
    let l = cfg.depths.len();
    // decay_rate per (L, λ); gd_contraction at η and η/2; asymptotic and
    // no-decay per L.
    assert_eq!(
        results.len(),
        l * cfg.decay_rate.weight_decays.len() + 2 * l + 2 * l
    );
    for r in &results {
        assert_pass(r);
    }
}

/// The GD deviation from (1−ηλ)² is second order: halving η divides it by
/// 4(1 + O(η)); at η = 0.02 the O(η) correction is a few per cent, so the
/// ratio must lie in [3, 5].
#[test]
fn gd_contraction_deviation_is_second_order() {
    let results = run_claims(&RunOptions::quick(), Some("TMC25.B.gd_contraction[L=2"));
    assert_eq!(results.len(), 2);
    let dev = |r: &claims::ClaimResult| (r.measured.unwrap() - r.predicted.unwrap()).abs();
    let ratio = dev(&results[0]) / dev(&results[1]);
    assert!((3.0..5.0).contains(&ratio), "ratio {ratio}");
}

/// The optimiser study: gradient-flow and GD rows carry a passing verdict,
/// every other row is `info` and says there is no theorem; each data set has
/// a label-noise comparison row.
#[test]
fn optimizer_study_rows() {
    let results = run_claims(&RunOptions::quick(), Some("TMC25.B.optimizers"));
    let cfg = claims::tmc25::optimizers::config().unwrap();
    let cells = cfg.data_sets.get(Mode::Quick).len()
        * cfg.optimizers.len()
        * cfg.weight_decays.len()
        * cfg.inits.len()
        * cfg.noises.len();
    assert_eq!(results.len(), cells + cfg.data_sets.get(Mode::Quick).len());
    for r in &results {
        let optimizer = r.params.get("optimizer").and_then(|v| v.as_str());
        match optimizer {
            Some("gradient_flow") | Some("gd") => assert_pass(r),
            Some(_) => {
                assert_eq!(r.verdict, Verdict::Info, "{}", r.id);
                assert!(r.reason.contains("no theorem"));
            }
            None => {
                assert_eq!(r.params["compare"], "label_noise");
                assert_eq!(r.verdict, Verdict::Info);
                assert!(r.measured.is_some());
            }
        }
        let summary = &r.details.as_ref().expect("details").summary;
        assert!(!summary.is_empty(), "{}: summary columns", r.id);
        assert!(
            summary.iter().all(|c| c.mean.is_some_and(f64::is_finite)),
            "{}",
            r.id
        );
    }
}
