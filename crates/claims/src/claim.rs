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
    /// interval over seeds excludes zero in the paper's direction.
    Reproduced,
    /// The interval excludes zero in the opposite direction.
    Contradicted,
    /// The interval contains zero: the seeds do not decide.
    Inconclusive,
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
            Verdict::Inconclusive => "inconclusive",
        }
    }

    /// Every verdict, in report order.
    pub const ALL: [Verdict; 7] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Undefined,
        Verdict::Info,
        Verdict::Reproduced,
        Verdict::Contradicted,
        Verdict::Inconclusive,
    ];

    /// A finding where we disagree with a paper or cannot confirm it: a
    /// contradicted or inconclusive empirical claim (not an error).
    pub fn is_disagreement(self) -> bool {
        matches!(self, Verdict::Contradicted | Verdict::Inconclusive)
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

/// The confidence interval of an empirical claim's effect over seeds
/// (SPEC §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The paper's direction.
    pub direction: Direction,
    /// Lower end of the interval.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
    /// Standard error of the effect.
    pub standard_error: f64,
    /// Coverage (0.95).
    pub level: f64,
    /// Number of seeds.
    pub seeds: usize,
    /// How the interval was computed (`Student t`, `paired t`, `bootstrap`).
    pub method: String,
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
    /// An empirical verdict becomes `inconclusive` with `why` as its reason
    /// unless `decidable`: the setup cannot decide the question whatever
    /// the interval (SPEC §8, e.g. a regime without feature learning).
    pub fn undecided_unless(mut self, decidable: bool, why: &str) -> Self {
        if !decidable && self.evidence.is_some() {
            self.verdict = Verdict::Inconclusive;
            self.reason = why.to_owned();
        }
        self
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

    /// [`Claim::judge`] of an effect measured once per seed, by its 95 %
    /// Student t interval and no numerical resolution; the details are the
    /// per-seed values as the statistic `name`.
    pub fn judge_per_seed(
        self,
        name: &str,
        effect: &[f64],
        direction: Direction,
        cause: &str,
    ) -> ClaimResult {
        self.details(Details::new().with_statistic(Summary::with_per_seed(name, effect)))
            .judge(
                common::stats::t_interval(effect, 0.95),
                "Student t",
                direction,
                0.0,
                cause,
            )
    }

    /// Judge an empirical claim from the interval of its effect over seeds
    /// (`method` names how it was computed): `reproduced` when the interval
    /// excludes zero in the paper's `direction`, `contradicted` when it
    /// excludes zero the other way, `inconclusive` when it contains zero.
    /// The interval is first widened by `resolution` on both sides: the
    /// numerical error of the measured quantity, below which a difference
    /// between runs is round-off, not an effect (0 for exact counts).
    /// `cause` is the likely cause of a disagreement, given as the reason of
    /// a contradicted or inconclusive verdict. Fewer than two seeds or a
    /// non-finite interval is `undefined`.
    pub fn judge(
        self,
        interval: Option<common::stats::Interval>,
        method: &str,
        direction: Direction,
        resolution: f64,
        cause: &str,
    ) -> ClaimResult {
        let Some(mut i) = interval.filter(|i| i.lower.is_finite() && i.upper.is_finite()) else {
            return self.undefined(
                None,
                "no interval: fewer than two seeds or a non-finite effect",
            );
        };
        i.lower -= resolution;
        i.upper += resolution;
        let signed = match direction {
            Direction::Positive => (i.lower, i.upper),
            Direction::Negative => (-i.upper, -i.lower),
        };
        let (verdict, reason) = if signed.0 > 0.0 {
            (Verdict::Reproduced, String::new())
        } else if signed.1 < 0.0 {
            (Verdict::Contradicted, cause.to_owned())
        } else {
            (Verdict::Inconclusive, cause.to_owned())
        };
        ClaimResult {
            measured: Some(i.estimate),
            tolerance_reason: if resolution > 0.0 {
                format!(
                    "{:.0} % {method} interval over {} seeds, widened by the numerical resolution {resolution:.0e}",
                    100.0 * i.level,
                    i.n
                )
            } else {
                format!(
                    "{:.0} % {method} interval over {} seeds",
                    100.0 * i.level,
                    i.n
                )
            },
            evidence: Some(Evidence {
                direction,
                lower: i.lower,
                upper: i.upper,
                standard_error: i.standard_error,
                level: i.level,
                seeds: i.n,
                method: method.to_owned(),
            }),
            ..self.finish(None, verdict, reason)
        }
    }

    /// The experiment could not produce a measurement.
    pub fn failed(self, predicted: Option<f64>, reason: impl Into<String>) -> ClaimResult {
        self.finish(predicted, Verdict::Fail, reason.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::stats::t_interval;

    fn judged(values: &[f64], direction: Direction) -> ClaimResult {
        Claim::new("TEST", "effect", "an observed effect", "").judge(
            t_interval(values, 0.95),
            "Student t",
            direction,
            0.0,
            "the cause",
        )
    }

    /// The verdict follows the interval's position relative to zero and
    /// the paper's direction; the cause is the reason of a disagreement.
    #[test]
    fn empirical_verdicts_follow_the_interval() {
        let up = [1.0, 1.2, 0.9, 1.1];
        let around = [1.0, -1.0, 0.5, -0.4];
        let r = judged(&up, Direction::Positive);
        assert_eq!((r.verdict, r.reason.as_str()), (Verdict::Reproduced, ""));
        assert_eq!(r.measured, Some(1.05));
        let e = r.evidence.unwrap();
        assert!(e.lower > 0.0 && e.seeds == 4 && e.direction == Direction::Positive);
        let r = judged(&up, Direction::Negative);
        assert_eq!(
            (r.verdict, r.reason.as_str()),
            (Verdict::Contradicted, "the cause")
        );
        let neg: Vec<f64> = up.iter().map(|v| -v).collect();
        assert_eq!(
            judged(&neg, Direction::Negative).verdict,
            Verdict::Reproduced
        );
        assert_eq!(
            judged(&around, Direction::Positive).verdict,
            Verdict::Inconclusive
        );
        assert_eq!(
            judged(&[1.0], Direction::Positive).verdict,
            Verdict::Undefined
        );
        assert!(Verdict::Inconclusive.is_disagreement() && !Verdict::Fail.is_disagreement());
        // An effect at round-off level is no effect.
        let tiny: Vec<f64> = up.iter().map(|v| v * 1e-12).collect();
        assert_eq!(
            judged(&tiny, Direction::Positive).verdict,
            Verdict::Reproduced
        );
        let r = Claim::new("TEST", "effect", "", "").judge(
            t_interval(&tiny, 0.95),
            "Student t",
            Direction::Positive,
            1e-9,
            "below resolution",
        );
        assert_eq!(r.verdict, Verdict::Inconclusive);
    }
}
