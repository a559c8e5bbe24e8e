//! TMC25 Theorem B as a test: every claim of the family passes in quick mode.

use claims::{Mode, RunOptions, Verdict, run_claims};

#[test]
fn theorem_b_claims_hold() {
    let results = run_claims(
        &RunOptions {
            mode: Mode::Quick,
            seed: None,
        },
        Some("TMC25.B."),
    );
    let cfg = claims::tmc25::theorem_b::config().unwrap();
    let l = cfg.depths.len();
    // decay_rate per (L, λ); gd_contraction at η and η/2; asymptotic and
    // no-decay per L.
    assert_eq!(
        results.len(),
        l * cfg.decay_rate.weight_decays.len() + 2 * l + 2 * l
    );
    for r in &results {
        assert_eq!(
            r.verdict,
            Verdict::Pass,
            "{}: measured {:?}, {}",
            r.id,
            r.measured,
            r.reason
        );
    }
}

/// The GD deviation from (1−ηλ)² is second order: halving η divides it by
/// 4(1 + O(η)); at η = 0.02 the O(η) correction is a few per cent, so the
/// ratio must lie in [3, 5].
#[test]
fn gd_contraction_deviation_is_second_order() {
    let results = run_claims(
        &RunOptions {
            mode: Mode::Quick,
            seed: None,
        },
        Some("TMC25.B.gd_contraction[L=2"),
    );
    assert_eq!(results.len(), 2);
    let dev = |r: &claims::ClaimResult| (r.measured.unwrap() - r.predicted.unwrap()).abs();
    let ratio = dev(&results[0]) / dev(&results[1]);
    assert!((3.0..5.0).contains(&ratio), "ratio {ratio}");
}
