//! Assertions shared by the claim tests.

use claims::{ClaimResult, Verdict};

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
