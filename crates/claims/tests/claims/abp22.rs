//! ABP22 as a test: every theorem-backed claim passes in quick mode (the
//! q/r closed form, the final alignment, the t_½ exponents, the kernel
//! regression trend and the silent-alignment ordering), and the anisotropy
//! sweep is reported as `info` with finite values.

use crate::common::assert_pass;
use claims::{Mode, RunOptions, Verdict, run_claims};

#[test]
fn abp22_claims() {
    let results = run_claims(&RunOptions::quick(), Some("ABP22."));
    let cfg = claims::abp22::config().unwrap();
    let expected = cfg.qr.sigmas.len()
        + cfg.alignment.depths.get(Mode::Quick).len() * cfg.alignment.sigmas.len()
        + cfg.t_half.depths_quick.len()
        + cfg.regression.depths.len()
        + cfg.silent.gammas.len();
    assert_eq!(results.len(), expected);
    for r in &results {
        let gamma = r.params.get("gamma").and_then(|g| g.as_f64());
        if r.key == "silent_timing" && gamma != Some(0.0) {
            assert_eq!(r.verdict, Verdict::Info, "{}: {}", r.id, r.reason);
            assert!(r.measured.is_some_and(f64::is_finite), "{}", r.id);
        } else {
            assert_pass(r);
        }
    }
}
