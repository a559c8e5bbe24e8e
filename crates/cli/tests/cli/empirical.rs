//! Empirical claims in the report: the interval and seeds in the table, and
//! a contradicted or inconclusive claim listed first, under "Where we
//! disagree with the papers", with its evidence and likely cause.

use claims::claim::Claim;
use claims::{ClaimResult, Direction, Mode, Verdict};
use cli::render::{Precision, markdown_report, tally_text};
use common::stats::t_interval;

fn judged(key: &'static str, values: &[f64], cause: &str) -> ClaimResult {
    Claim::new(
        "TEST",
        key,
        "the effect is positive",
        "mean paired difference",
    )
    .judge(
        t_interval(values, 0.95),
        "paired t",
        Direction::Positive,
        0.0,
        cause,
    )
}

fn results() -> Vec<ClaimResult> {
    vec![
        judged("up", &[0.5, 0.7, 0.6, 0.55], "unused"),
        judged(
            "down",
            &[-0.5, -0.7, -0.6, -0.55],
            "the noise improves the fit",
        ),
        judged(
            "flat",
            &[0.5, -0.7, 0.1, -0.2],
            "too few seeds for the spread",
        ),
    ]
}

#[test]
fn disagreements_open_the_report_with_their_evidence() {
    let r = results();
    let verdicts: Vec<Verdict> = r.iter().map(|c| c.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Reproduced,
            Verdict::Contradicted,
            Verdict::Inconclusive
        ]
    );
    assert_eq!(
        tally_text(&r),
        "pass 0 · fail 0 · undefined 0 · info 0 · reproduced 1 · contradicted 1 · inconclusive 1"
    );
    let md = markdown_report(&r, Mode::Quick, Precision::Stable);
    let section = md.find("## Where we disagree with the papers").unwrap();
    assert!(section < md.find("## TEST").unwrap());
    insta::assert_snapshot!(md);
}
