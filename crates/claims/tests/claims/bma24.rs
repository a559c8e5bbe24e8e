//! BMA24 as a test: the two AGOP computations agree for every activation,
//! and the training measurements are finite, in range and `info`.

use crate::common::assert_pass;
use claims::{RunOptions, Verdict, run_claims};

#[test]
fn bma24_claims() {
    let results = run_claims(&RunOptions::quick(), Some("BMA24."));
    let cfg = claims::bma24::config().unwrap();
    let hidden = cfg.training.depth - 1;
    let early = 3 * cfg.early.widths_hidden.len();
    assert_eq!(results.len(), 6 + 2 * 2 * hidden + early + 1);
    for r in &results {
        match r.key.as_str() {
            "ptk.consistency" | "early.prediction" => assert_pass(r),
            _ => {
                assert_eq!(r.verdict, Verdict::Info, "{}: {}", r.id, r.reason);
                let summary = &r.details.as_ref().unwrap().summary;
                assert!(!summary.is_empty(), "{}", r.id);
                for c in summary {
                    let m = c.mean.expect("finite mean");
                    assert!(
                        (-1.0..=1.0).contains(&m) || c.name.contains("ΔW"),
                        "{}: {c:?}",
                        r.id
                    );
                }
            }
        }
    }
}
