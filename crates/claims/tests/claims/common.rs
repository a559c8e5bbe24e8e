//! Assertions and results shared by the claim tests.

use std::sync::OnceLock;

use claims::{ClaimResult, RunOptions, Verdict, run_claims};

/// Every quick claim, run once per test binary: the tests that only read
/// quick results share it (the same bits as a run of one family, which
/// `determinism` checks for the thread count and `units` for the units).
pub fn quick_claims() -> &'static [ClaimResult] {
    static CLAIMS: OnceLock<Vec<ClaimResult>> = OnceLock::new();
    CLAIMS.get_or_init(|| run_claims(&RunOptions::quick(), None))
}

/// The quick claims whose id starts with `prefix`, as `run_claims` with
/// that prefix returns them.
pub fn quick(prefix: &str) -> Vec<ClaimResult> {
    quick_claims()
        .iter()
        .filter(|r| r.id.starts_with(prefix))
        .cloned()
        .collect()
}

/// The claim passed; the failure message names it with its measurement and
/// reason.
pub fn assert_pass(r: &ClaimResult) {
    assert_eq!(
        r.verdict,
        Verdict::Pass,
        "{}: measured {:?}, {}",
        r.id,
        r.measured,
        r.reason
    );
}
