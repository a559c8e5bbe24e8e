//! Empirical claims in the report: the interval, seeds, δ, MDE and Holm's
//! p-value in the table; the empirical section first, with its tally, the
//! contradicted rows with the statement they contradict and their likely
//! cause, and one table per quoted statement.

use claims::claim::Claim;
use claims::{ClaimResult, Direction, Mode, Statement, Test, Verdict};
use cli::render::{Precision, markdown_report, tally_text};

const STATEMENT: Statement = Statement {
    family: "TEST.effect",
    quote: "the effect is positive",
    source: "TEST, abstract",
    differs: "",
};

fn judged(key: &'static str, values: &[f64], cause: &str) -> ClaimResult {
    Claim::new(
        "TEST",
        key,
        "the effect is positive",
        "mean paired difference",
    )
    .judge(
        values,
        &Test {
            statement: &STATEMENT,
            direction: Direction::Positive,
            delta: 0.1,
            delta_reason: "a test",
            method: "paired t",
            resolution: 0.0,
        },
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
        judged("none", &[0.01, -0.01, 0.005, 0.0, -0.005], "unused"),
        judged("pre", &[0.5, 0.7, 0.6, 0.55], "unused")
            .untestable_unless(false, "the precondition fails"),
    ]
}

#[test]
fn disagreements_open_the_report_with_their_evidence() {
    let mut r = results();
    claims::adjust_for_multiplicity(&mut r);
    let verdicts: Vec<Verdict> = r.iter().map(|c| c.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Reproduced,
            Verdict::Contradicted,
            Verdict::Inconclusive,
            Verdict::Negligible,
            Verdict::Untestable,
        ]
    );
    assert_eq!(
        tally_text(&r),
        "pass 0 · fail 0 · undefined 0 · info 0 · reproduced 1 · contradicted 1 · negligible 1 · inconclusive 1 · untestable 1"
    );
    let md = markdown_report(&r, Mode::Quick, Precision::Stable);
    let section = md.find("## Empirical claims").unwrap();
    let disagree = md.find("### Where we disagree with the papers").unwrap();
    assert!(section < disagree && disagree < md.find("## TEST").unwrap());
    assert!(md.contains("**TEST.down[]** contradicts TEST, abstract (“the effect is positive”)"));
    insta::assert_snapshot!(md);
}
