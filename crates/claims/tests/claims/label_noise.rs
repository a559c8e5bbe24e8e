//! TMC25's label-noise observation as a study: every row is an empirical
//! verdict with its interval over at least 10 seeds; with weight decay at
//! λT = 5 the NFA is pinned by Theorem B whatever the labels, so the effect
//! is below the cosine's resolution there; and the verdicts do not depend
//! on the master seed.

use claims::{RunOptions, Verdict, run_claims};

#[test]
fn label_noise_rows_are_judged_over_seeds_whatever_the_master_seed() {
    let results = crate::common::quick("TMC25.B.label_noise");
    let cfg = claims::tmc25::label_noise::config().unwrap();
    assert_eq!(
        results.len(),
        2 * 2 * cfg.weight_decays.get(claims::Mode::Quick).len()
    );
    for r in &results {
        let e = r.evidence.as_ref().expect("an empirical row has evidence");
        assert!(e.seeds >= 10, "{}: {} seeds", r.id, e.seeds);
        assert!(e.lower <= r.measured.unwrap() && r.measured.unwrap() <= e.upper);
        if r.params["lambda_T"].as_f64().unwrap() >= 5.0 {
            // Theorem B: both cosines are 1 up to round-off.
            assert!(r.measured.unwrap().abs() < 1e-6, "{}", r.id);
            assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.id);
        }
    }
    let other = run_claims(
        &RunOptions {
            seed: Some(1000),
            ..RunOptions::quick()
        },
        Some("TMC25.B.label_noise"),
    );
    let verdicts = |v: &[claims::ClaimResult]| -> Vec<(String, Verdict)> {
        v.iter().map(|r| (r.id.clone(), r.verdict)).collect()
    };
    assert_eq!(verdicts(&results), verdicts(&other));
}
