//! The claim record of the report contract (`report.json`, schema 2).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::details::{Details, Summary};

/// Outcome of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The measurement is within tolerance of the prediction.
    Pass,
    /// It is not, or the experiment failed; `reason` says why.
    Fail,
    /// The quantity is undefined here (e.g. α unidentifiable); `reason` says why.
    Undefined,
    /// Reported without a theorem to check against.
    Info,
    /// An empirical claim (a paper's observation, no theorem): the 95 %
    /// interval over seeds excludes zero in the paper's direction (after
    /// Holm's adjustment within its statement family).
    Reproduced,
    /// The interval excludes zero in the opposite direction and the
    /// effect's magnitude exceeds the smallest effect of interest δ.
    Contradicted,
    /// Equivalence: the 90 % interval lies inside ±δ (two one-sided
    /// tests), so any effect is smaller than the smallest of interest.
    Negligible,
    /// None of the above: the seeds do not decide (underpowered).
    Inconclusive,
    /// A declared precondition of the comparison fails (its own measured
    /// row says so): the setting cannot test the statement.
    Untestable,
}

impl Verdict {
    /// Lower-case name used in the report.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Undefined => "undefined",
            Verdict::Info => "info",
            Verdict::Reproduced => "reproduced",
            Verdict::Contradicted => "contradicted",
            Verdict::Negligible => "negligible",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Untestable => "untestable",
        }
    }

    /// Every verdict, in report order.
    pub const ALL: [Verdict; 9] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Undefined,
        Verdict::Info,
        Verdict::Reproduced,
        Verdict::Contradicted,
        Verdict::Negligible,
        Verdict::Inconclusive,
        Verdict::Untestable,
    ];

    /// A verdict of an empirical claim (SPEC §8).
    pub fn is_empirical(self) -> bool {
        matches!(
            self,
            Verdict::Reproduced
                | Verdict::Contradicted
                | Verdict::Negligible
                | Verdict::Inconclusive
                | Verdict::Untestable
        )
    }

    /// A decided empirical verdict: the evidence settles the row
    /// (everything but `inconclusive`).
    pub fn is_decided(self) -> bool {
        self.is_empirical() && self != Verdict::Inconclusive
    }
}

/// The direction of a paper's empirical observation, as the sign of the
/// effect the claim measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The paper observes a positive effect.
    Positive,
    /// The paper observes a negative effect.
    Negative,
}

/// A paper's empirical statement as the spec quotes it (SPEC §8): every
/// row that tests it names it, and Holm's adjustment runs over the rows of
/// one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    /// The statement family's id, e.g. `SB21.specialisation`.
    pub family: &'static str,
    /// The paper's words.
    pub quote: &'static str,
    /// Where the words are, e.g. `SB21 (v2), abstract`.
    pub source: &'static str,
    /// How the measured effect differs from the words (stricter, looser,
    /// a reconstruction); empty when the words are the operationalisation.
    pub differs: &'static str,
}

/// How an empirical claim is judged: the statement it tests, the paper's
/// direction, the smallest effect of interest and how the interval is
/// computed.
#[derive(Debug, Clone, Copy)]
pub struct Test<'a> {
    /// The quoted statement.
    pub statement: &'a Statement,
    /// The sign of the effect the paper observes.
    pub direction: Direction,
    /// The smallest effect of interest δ (> 0), in the effect's unit.
    pub delta: f64,
    /// Why δ is that value.
    pub delta_reason: &'a str,
    /// How the interval is computed (`Student t`, `paired Student t`).
    pub method: &'a str,
    /// Numerical error of the effect, below which a difference between runs
    /// is round-off, not an effect (0 for exact quantities): the intervals
    /// are widened by it on both sides.
    pub resolution: f64,
}

/// The evidence of an empirical claim's effect over seeds (SPEC §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The paper's direction.
    pub direction: Direction,
    /// Lower end of the 95 % interval.
    pub lower: f64,
    /// Upper end of the 95 % interval.
    pub upper: f64,
    /// Lower end of the 90 % interval (the two one-sided tests of
    /// equivalence at 5 %).
    pub lower_90: f64,
    /// Upper end of the 90 % interval.
    pub upper_90: f64,
    /// Standard error of the effect.
    pub standard_error: f64,
    /// Coverage of `lower`/`upper` (0.95).
    pub level: f64,
    /// Number of seeds.
    pub seeds: usize,
    /// How the interval was computed (`Student t`, `paired Student t`).
    pub method: String,
    /// The smallest effect of interest δ.
    pub delta: f64,
    /// Why δ is that value.
    pub delta_reason: String,
    /// The minimum detectable effect at 80 % power of the 5 % two-sided
    /// test: `(t_{0.975, k−1} + t_{0.8, k−1})·SE`.
    pub mde: f64,
    /// Two-sided p-value of "no effect" (the t test behind the interval).
    pub p_value: f64,
    /// Holm's adjusted p-value within the statement family; the decision
    /// uses it (equal to `p_value` in a family of one test).
    pub holm_p_value: f64,
    /// Number of tested rows in the statement family.
    pub family_size: usize,
    /// The statement family's id.
    pub statement: String,
    /// The paper's words.
    pub quote: String,
    /// Where the words are.
    pub source: String,
    /// How the operationalisation differs from the words (empty when it
    /// does not).
    pub differs: String,
    /// The likely cause of a disagreement, for the reason of a
    /// contradicted or inconclusive verdict.
    pub cause: String,
}

/// The state of a declared precondition (SPEC §8), from its own row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Its 95 % interval lies above δ in the required direction: the
    /// premise holds by at least its smallest effect of interest.
    Holds,
    /// Its 95 % interval lies below δ: the premise is refuted or
    /// immaterial, and the comparison is `untestable`.
    Fails,
    /// Neither established nor refuted: the dependent rows are not tested
    /// either (`untestable`; fixed-sequence gatekeeping, SPEC §8).
    Open,
}

impl Evidence {
    /// The verdict from the intervals and a (Holm-adjusted) p-value `p`:
    /// reproduced when `p < 0.05` in the paper's direction; contradicted
    /// when `p < 0.05` the other way and `|effect| > δ`; negligible when
    /// the 90 % interval lies inside ±δ; inconclusive otherwise.
    fn decide(&self, estimate: f64, p: f64) -> Verdict {
        let along = match self.direction {
            Direction::Positive => estimate,
            Direction::Negative => -estimate,
        };
        if p < 0.05 && along > 0.0 {
            Verdict::Reproduced
        } else if p < 0.05 && along < 0.0 && estimate.abs() > self.delta {
            Verdict::Contradicted
        } else if -self.delta < self.lower_90 && self.upper_90 < self.delta {
            Verdict::Negligible
        } else {
            Verdict::Inconclusive
        }
    }

    /// The reason printed beside `verdict`.
    fn reason(&self, verdict: Verdict) -> String {
        let power = if self.mde > self.delta {
            // The MDE scales as 1/√k (for k ≫ 1).
            let needed = (self.seeds as f64 * (self.mde / self.delta).powi(2)).ceil();
            format!(
                "; underpowered: MDE {:.3} > δ {:.3} at {} seeds (about {needed} seeds would reach δ)",
                self.mde, self.delta, self.seeds
            )
        } else {
            String::new()
        };
        match verdict {
            Verdict::Reproduced => String::new(),
            Verdict::Contradicted => self.cause.clone(),
            Verdict::Negligible => format!(
                "the 90 % interval [{:.3}, {:.3}] lies inside ±δ = ±{:.3}: any effect is smaller than the smallest of interest",
                self.lower_90, self.upper_90, self.delta
            ),
            _ if self.p_value < 0.05 && self.holm_p_value >= 0.05 => format!(
                "the 95 % interval alone excludes 0 (p = {:.3}), but not after Holm's adjustment over the {} rows of its statement (p = {:.3}){power}",
                self.p_value, self.family_size, self.holm_p_value
            ),
            _ if self.p_value < 0.05 => format!(
                "the effect is against the paper's direction but not larger than δ = {:.3}{power}; {}",
                self.delta, self.cause
            ),
            _ if self.cause.is_empty() => power.trim_start_matches("; ").to_owned(),
            _ => format!("{}{power}", self.cause),
        }
    }
}

/// How `measured` is compared with `predicted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    /// `|measured − predicted| ≤ tolerance`.
    Absolute,
    /// `|measured − predicted| ≤ tolerance·|predicted|`.
    Relative,
    /// `measured ≥ predicted`: the prediction is a lower bound (no tolerance).
    AtLeast,
    /// `measured ≤ predicted + tolerance`: the prediction is an upper bound.
    AtMost,
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    /// Unique id, `PAPER.KEY[k=v,…]`.
    pub id: String,
    /// Paper key (TMC25, BMA24, ABP22, SB21).
    pub paper: String,
    /// Claim key, e.g. `A.identity`.
    pub key: String,
    /// Parameters of the experiment.
    pub params: Map<String, Value>,
    /// What is claimed.
    pub statement: String,
    /// The measurement convention (similarity, exponent, norm).
    pub convention: String,
    /// Predicted value.
    pub predicted: Option<f64>,
    /// Measured value.
    pub measured: Option<f64>,
    /// Tolerance on `|measured − predicted|`.
    pub tolerance: Option<f64>,
    /// How the tolerance applies.
    pub comparison: Comparison,
    /// Where the tolerance comes from.
    pub tolerance_reason: String,
    /// Verdict.
    pub verdict: Verdict,
    /// Why the verdict is `fail` or `undefined`; for `info`, the note that
    /// there is no theorem (empty for `pass`).
    pub reason: String,
    /// For an empirical claim: the effect's interval over seeds and the
    /// paper's direction (`measured` is the effect's estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// Supporting data (series, statistics over seeds, per-layer values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
}

impl ClaimResult {
    /// An empirical verdict becomes `untestable` with `why` as its reason
    /// unless `holds`: a declared precondition of the comparison fails
    /// (SPEC §8), and the row that measures the precondition says so.
    pub fn untestable_unless(mut self, holds: bool, why: &str) -> Self {
        if !holds && self.evidence.is_some() && self.verdict.is_empirical() {
            self.verdict = Verdict::Untestable;
            self.reason = why.to_owned();
        }
        self
    }

    /// An empirical row that tests its statement (and so enters Holm's
    /// adjustment): one that is not `untestable`.
    pub fn is_tested(&self) -> bool {
        self.evidence.is_some()
            && self.verdict.is_empirical()
            && self.verdict != Verdict::Untestable
    }

    /// The row given the state of its declared precondition, by
    /// fixed-sequence gatekeeping (SPEC §8): unchanged when it holds;
    /// otherwise not tested — `untestable`, with `why` when the
    /// precondition is refuted, and with the note that it is not
    /// established when it is open (a comparison whose premise the seeds
    /// do not establish says nothing about the statement).
    pub fn given(self, precondition: Precondition, why: &str) -> Self {
        match precondition {
            Precondition::Holds => self,
            Precondition::Fails => self.untestable_unless(false, why),
            Precondition::Open => self.untestable_unless(
                false,
                "untestable here: its precondition is not established by the seeds (neither shown nor refuted; see its precondition row), and the comparison is tested only where it holds",
            ),
        }
    }

    /// When the verdict is `fail`, append what is known to cause the failure
    /// to its reason (the report prints the reason beside the verdict).
    pub fn cause_of_failure(mut self, cause: &str) -> Self {
        if self.verdict == Verdict::Fail {
            self.reason = format!("{}; {cause}", self.reason);
        }
        self
    }
}

/// Builder for [`ClaimResult`]: fixes the identity of a claim, then one of
/// [`Claim::check`], [`Claim::undefined`] or [`Claim::failed`] gives its
/// verdict.
#[derive(Debug, Clone)]
pub struct Claim {
    paper: &'static str,
    key: &'static str,
    id_params: Vec<(String, Value)>,
    params: Map<String, Value>,
    statement: String,
    convention: String,
    details: Option<Details>,
}

impl Claim {
    /// A claim of `paper` with key `key`.
    pub fn new(
        paper: &'static str,
        key: &'static str,
        statement: impl Into<String>,
        convention: impl Into<String>,
    ) -> Self {
        Claim {
            paper,
            key,
            id_params: Vec::new(),
            params: Map::new(),
            statement: statement.into(),
            convention: convention.into(),
            details: None,
        }
    }

    /// A parameter that is part of the claim's id (in insertion order).
    pub fn id_param(mut self, name: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        self.id_params.push((name.to_owned(), value.clone()));
        self.params.insert(name.to_owned(), value);
        self
    }

    /// A parameter recorded in `params` but not in the id.
    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params.insert(name.to_owned(), value.into());
        self
    }

    /// Attach supporting data.
    pub fn details(mut self, details: Details) -> Self {
        self.details = Some(details);
        self
    }

    fn id(&self) -> String {
        let inner: Vec<String> = self
            .id_params
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        format!("{}.{}[{}]", self.paper, self.key, inner.join(","))
    }

    /// The record with a verdict and no measurement; `check` fills in the
    /// measurement and tolerance.
    fn finish(self, predicted: Option<f64>, verdict: Verdict, reason: String) -> ClaimResult {
        ClaimResult {
            id: self.id(),
            paper: self.paper.to_owned(),
            key: self.key.to_owned(),
            params: self.params,
            statement: self.statement,
            convention: self.convention,
            predicted,
            measured: None,
            tolerance: None,
            comparison: Comparison::Absolute,
            tolerance_reason: String::new(),
            verdict,
            reason,
            evidence: None,
            details: self.details,
        }
    }

    /// Compare `measured` with `predicted` within `tolerance` and give the
    /// verdict. A non-finite measurement fails.
    pub fn check(
        self,
        predicted: f64,
        measured: f64,
        tolerance: f64,
        comparison: Comparison,
        tolerance_reason: &str,
    ) -> ClaimResult {
        let deviation = (measured - predicted).abs();
        let (verdict, reason) = if !measured.is_finite() {
            (Verdict::Fail, "the measurement is not finite".to_owned())
        } else {
            match comparison {
                Comparison::AtLeast if measured >= predicted => (Verdict::Pass, String::new()),
                Comparison::AtLeast => (
                    Verdict::Fail,
                    format!("measured {measured:.3e} is below the lower bound {predicted:.3e}"),
                ),
                Comparison::AtMost if measured <= predicted + tolerance => {
                    (Verdict::Pass, String::new())
                }
                Comparison::AtMost => (
                    Verdict::Fail,
                    format!(
                        "measured {measured:.3e} exceeds the upper bound {predicted:.3e} + {tolerance:.1e}"
                    ),
                ),
                Comparison::Absolute | Comparison::Relative => {
                    let bound = if comparison == Comparison::Absolute {
                        tolerance
                    } else {
                        tolerance * predicted.abs()
                    };
                    if deviation <= bound {
                        (Verdict::Pass, String::new())
                    } else {
                        (
                            Verdict::Fail,
                            format!("|measured − predicted| = {deviation:.3e} exceeds {bound:.3e}"),
                        )
                    }
                }
            }
        };
        ClaimResult {
            measured: measured.is_finite().then_some(measured),
            tolerance: (comparison != Comparison::AtLeast).then_some(tolerance),
            comparison,
            tolerance_reason: tolerance_reason.to_owned(),
            ..self.finish(Some(predicted), verdict, reason)
        }
    }

    /// The quantity is undefined; `reason` says why.
    pub fn undefined(self, predicted: Option<f64>, reason: impl Into<String>) -> ClaimResult {
        self.finish(predicted, Verdict::Undefined, reason.into())
    }

    /// Reported without a theorem to check against; `note` says so.
    pub fn info(self, measured: Option<f64>, note: impl Into<String>) -> ClaimResult {
        ClaimResult {
            measured: measured.filter(|m| m.is_finite()),
            ..self.finish(None, Verdict::Info, note.into())
        }
    }

    /// [`Claim::judge`] of an effect measured once per seed, with the
    /// per-seed values as the statistic `name` in the details.
    pub fn judge_per_seed(
        self,
        name: &str,
        effect: &[f64],
        test: &Test<'_>,
        cause: &str,
    ) -> ClaimResult {
        self.details(Details::new().with_statistic(Summary::with_per_seed(name, effect)))
            .judge(effect, test, cause)
    }

    /// Judge an empirical claim from its effect on each seed (SPEC §8):
    /// the Student t intervals (95 % and 90 %) of the mean effect, widened
    /// by `test.resolution` on both sides, its p-value, and its minimum
    /// detectable effect at 80 % power give `reproduced`, `contradicted`,
    /// `negligible` or `inconclusive` ([`Evidence`]). The verdict is final
    /// only after [`adjust_for_multiplicity`] has applied Holm's adjustment
    /// over the rows of the same statement. `cause` is the likely cause of
    /// a disagreement. Fewer than two seeds or a non-finite effect is
    /// `undefined`.
    pub fn judge(self, effect: &[f64], test: &Test<'_>, cause: &str) -> ClaimResult {
        use common::stats::{minimum_detectable_effect, t_interval, t_test_p_value};
        let intervals = t_interval(effect, 0.95).zip(t_interval(effect, 0.90));
        let Some((i, i90)) = intervals.filter(|(i, _)| i.lower.is_finite() && i.upper.is_finite())
        else {
            return self.undefined(
                None,
                "no interval: fewer than two seeds or a non-finite effect",
            );
        };
        let widen = test.resolution;
        let p_value = t_test_p_value(i.estimate, i.standard_error, i.n, widen).unwrap_or(1.0);
        let evidence = Evidence {
            direction: test.direction,
            lower: i.lower - widen,
            upper: i.upper + widen,
            lower_90: i90.lower - widen,
            upper_90: i90.upper + widen,
            standard_error: i.standard_error,
            level: i.level,
            seeds: i.n,
            method: test.method.to_owned(),
            delta: test.delta,
            delta_reason: test.delta_reason.to_owned(),
            mde: minimum_detectable_effect(i.standard_error, i.n, 0.05, 0.8).unwrap_or(f64::NAN)
                + widen,
            p_value,
            holm_p_value: p_value,
            family_size: 1,
            statement: test.statement.family.to_owned(),
            quote: test.statement.quote.to_owned(),
            source: test.statement.source.to_owned(),
            differs: test.statement.differs.to_owned(),
            cause: cause.to_owned(),
        };
        let verdict = evidence.decide(i.estimate, p_value);
        ClaimResult {
            measured: Some(i.estimate),
            tolerance_reason: if widen > 0.0 {
                format!(
                    "{:.0} % {} interval over {} seeds, widened by the numerical resolution {widen:.0e}",
                    100.0 * i.level,
                    test.method,
                    i.n
                )
            } else {
                format!(
                    "{:.0} % {} interval over {} seeds",
                    100.0 * i.level,
                    test.method,
                    i.n
                )
            },
            reason: evidence.reason(verdict),
            evidence: Some(evidence),
            ..self.finish(None, verdict, String::new())
        }
    }

    /// A declared precondition of an empirical comparison (SPEC §8),
    /// measured as its own `info` row from its value on each seed. A
    /// premise is material when it holds by at least its smallest effect
    /// of interest `delta`: it holds when the 95 % Student t interval lies
    /// above `delta` in `direction`, fails when it lies below `delta`, and
    /// is open otherwise. The rows that depend on it take
    /// [`ClaimResult::given`] its state.
    pub fn precondition(
        self,
        effect: &[f64],
        direction: Direction,
        delta: f64,
        method: &str,
    ) -> (ClaimResult, Precondition) {
        use common::stats::t_interval;
        let Some(i) =
            t_interval(effect, 0.95).filter(|i| i.lower.is_finite() && i.upper.is_finite())
        else {
            let row = self.undefined(
                None,
                "no interval: fewer than two seeds or a non-finite value",
            );
            return (row, Precondition::Open);
        };
        let (lower, upper) = match direction {
            Direction::Positive => (i.lower, i.upper),
            Direction::Negative => (-i.upper, -i.lower),
        };
        let state = if lower > delta {
            Precondition::Holds
        } else if upper < delta {
            Precondition::Fails
        } else {
            Precondition::Open
        };
        let row = self.info(
            Some(i.estimate),
            format!(
                "precondition {}: 95 % {method} interval [{:+.4}, {:+.4}] over {} seeds, against δ = {delta} in the required direction{}",
                match state {
                    Precondition::Holds => "holds",
                    Precondition::Fails => "fails",
                    Precondition::Open => "open",
                },
                i.lower,
                i.upper,
                i.n,
                match state {
                    Precondition::Holds => "",
                    Precondition::Fails => ": below δ, the rows that depend on it are untestable",
                    Precondition::Open => ": not established (nor refuted), the rows that depend on it are not tested (untestable)",
                }
            ),
        );
        (row, state)
    }

    /// The experiment could not produce a measurement.
    pub fn failed(self, predicted: Option<f64>, reason: impl Into<String>) -> ClaimResult {
        self.finish(predicted, Verdict::Fail, reason.into())
    }
}

/// Holm's adjustment within each statement family (SPEC §8): over the
/// tested rows (reproduced, contradicted, negligible or inconclusive) that
/// share [`Evidence::statement`], the p-values are adjusted by
/// [`common::stats::holm`] and every verdict is decided again from the
/// adjusted value. Rows whose precondition fails (untestable) or is open
/// are not tested and do not count.
pub fn adjust_for_multiplicity(results: &mut [ClaimResult]) {
    let tested = ClaimResult::is_tested;
    let mut families: Vec<String> = Vec::new();
    for r in results.iter().filter(|r| tested(r)) {
        let family = &r
            .evidence
            .as_ref()
            .expect("tested rows have evidence")
            .statement;
        if !families.contains(family) {
            families.push(family.clone());
        }
    }
    for family in families {
        let rows: Vec<usize> = (0..results.len())
            .filter(|&k| {
                tested(&results[k])
                    && results[k].evidence.as_ref().map(|e| &e.statement) == Some(&family)
            })
            .collect();
        let p: Vec<f64> = rows
            .iter()
            .map(|&k| results[k].evidence.as_ref().map_or(1.0, |e| e.p_value))
            .collect();
        for (&k, adjusted) in rows.iter().zip(common::stats::holm(&p)) {
            let r = &mut results[k];
            let estimate = r.measured.unwrap_or(0.0);
            let e = r.evidence.as_mut().expect("tested rows have evidence");
            e.holm_p_value = adjusted;
            e.family_size = rows.len();
            r.verdict = e.decide(estimate, adjusted);
            r.reason = e.reason(r.verdict);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATEMENT: Statement = Statement {
        family: "TEST.effect",
        quote: "an observed effect",
        source: "TEST, abstract",
        differs: "",
    };

    fn test(direction: Direction, delta: f64, resolution: f64) -> Test<'static> {
        Test {
            statement: &STATEMENT,
            direction,
            delta,
            delta_reason: "a test",
            method: "Student t",
            resolution,
        }
    }

    fn judged(values: &[f64], direction: Direction, delta: f64) -> ClaimResult {
        Claim::new("TEST", "effect", "an observed effect", "").judge(
            values,
            &test(direction, delta, 0.0),
            "the cause",
        )
    }

    /// The verdict follows the interval's position relative to zero, the
    /// paper's direction and δ; the cause is the reason of a disagreement.
    #[test]
    fn empirical_verdicts_follow_the_interval() {
        let up = [1.0, 1.2, 0.9, 1.1];
        let around = [1.0, -1.0, 0.5, -0.4];
        let r = judged(&up, Direction::Positive, 0.1);
        assert_eq!((r.verdict, r.reason.as_str()), (Verdict::Reproduced, ""));
        assert_eq!(r.measured, Some(1.05));
        let e = r.evidence.unwrap();
        assert!(e.lower > 0.0 && e.seeds == 4 && e.direction == Direction::Positive);
        assert!(e.lower < e.lower_90 && e.upper_90 < e.upper && e.p_value < 0.05);
        let r = judged(&up, Direction::Negative, 0.1);
        assert_eq!(
            (r.verdict, r.reason.as_str()),
            (Verdict::Contradicted, "the cause")
        );
        // Against the paper's direction but smaller than δ: not contradicted.
        assert_ne!(
            judged(&up, Direction::Negative, 2.0).verdict,
            Verdict::Contradicted
        );
        let neg: Vec<f64> = up.iter().map(|v| -v).collect();
        assert_eq!(
            judged(&neg, Direction::Negative, 0.1).verdict,
            Verdict::Reproduced
        );
        let r = judged(&around, Direction::Positive, 0.1);
        assert_eq!(r.verdict, Verdict::Inconclusive);
        assert!(r.reason.contains("underpowered"), "{}", r.reason);
        assert_eq!(
            judged(&[1.0], Direction::Positive, 0.1).verdict,
            Verdict::Undefined
        );
        // An effect at round-off level is no effect.
        let tiny: Vec<f64> = up.iter().map(|v| v * 1e-12).collect();
        assert_eq!(
            judged(&tiny, Direction::Positive, 0.1).verdict,
            Verdict::Reproduced
        );
        let r = Claim::new("TEST", "effect", "", "").judge(
            &tiny,
            &test(Direction::Positive, 0.1, 1e-9),
            "below resolution",
        );
        assert_eq!(r.verdict, Verdict::Negligible);
    }

    /// Equivalence: a tight interval around zero inside ±δ is negligible;
    /// the same values with a smaller δ are inconclusive.
    #[test]
    fn small_effects_are_negligible_within_delta() {
        let flat = [0.001, -0.002, 0.0015, -0.0005, 0.0];
        assert_eq!(
            judged(&flat, Direction::Positive, 0.01).verdict,
            Verdict::Negligible
        );
        assert_eq!(
            judged(&flat, Direction::Positive, 0.001).verdict,
            Verdict::Inconclusive
        );
    }

    /// Holm within a statement: two rows that each exclude 0 at 5 % alone
    /// (p ≈ 0.03) are not both significant after the adjustment; a row of
    /// another statement is untouched; an untestable row does not count.
    #[test]
    fn holm_adjusts_within_a_statement() {
        let weak = [0.9, 0.1, 0.5, 0.7, 0.2];
        let row = |statement: &'static Statement| {
            Claim::new("TEST", "effect", "", "").judge(
                &weak,
                &Test {
                    statement,
                    ..test(Direction::Positive, 0.1, 0.0)
                },
                "",
            )
        };
        const OTHER: Statement = Statement {
            family: "TEST.other",
            ..STATEMENT
        };
        let p = row(&STATEMENT).evidence.unwrap().p_value;
        assert!(p < 0.05 && 2.0 * p > 0.05, "p = {p}");
        let mut rows = vec![
            row(&STATEMENT),
            row(&STATEMENT),
            row(&OTHER),
            row(&STATEMENT).untestable_unless(false, "precondition fails"),
        ];
        assert!(rows[..3].iter().all(|r| r.verdict == Verdict::Reproduced));
        adjust_for_multiplicity(&mut rows);
        for r in &rows[..2] {
            let e = r.evidence.as_ref().unwrap();
            assert_eq!((e.family_size, e.holm_p_value), (2, 2.0 * p));
            assert_eq!(r.verdict, Verdict::Inconclusive);
            assert!(r.reason.contains("Holm"), "{}", r.reason);
        }
        assert_eq!(rows[2].verdict, Verdict::Reproduced);
        assert_eq!(rows[3].verdict, Verdict::Untestable);
    }

    /// A precondition holds when its interval lies above δ in its
    /// direction, fails when it lies below δ, and is open otherwise (an
    /// interval above 0 that reaches below δ is open); a dependent row is tested only where its
    /// precondition holds, and untested rows stay out of Holm's adjustment.
    #[test]
    fn preconditions_are_info_rows_with_three_states() {
        let state = |values: &[f64], direction| {
            let (row, state) = Claim::new("TEST", "pre", "", "").precondition(
                values,
                direction,
                0.05,
                "Student t",
            );
            assert_eq!(row.verdict, Verdict::Info);
            state
        };
        let up = [0.3, 0.32, 0.31];
        assert_eq!(state(&up, Direction::Positive), Precondition::Holds);
        assert_eq!(state(&up, Direction::Negative), Precondition::Fails);
        assert_eq!(
            state(&[0.01, -0.01, 0.0, 0.005], Direction::Positive),
            Precondition::Fails
        );
        assert_eq!(
            state(&[0.3, -0.2, 0.1, 0.0], Direction::Positive),
            Precondition::Open
        );
        let mut rows = vec![
            judged(&[1.0, 1.2, 0.9, 1.1], Direction::Positive, 0.1).given(Precondition::Open, "x"),
            judged(&[1.0, 1.2, 0.9, 1.1], Direction::Positive, 0.1).given(Precondition::Fails, "x"),
        ];
        adjust_for_multiplicity(&mut rows);
        assert_eq!(rows[0].verdict, Verdict::Untestable);
        assert!(rows[0].reason.contains("not established"));
        assert_eq!(rows[1].verdict, Verdict::Untestable);
        assert!(rows.iter().all(|r| !r.is_tested()));
    }
}
