//! The claim record of the report contract (`report.json`, schema 2).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::details::Details;

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
}

impl Verdict {
    /// Lower-case name used in the report.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Undefined => "undefined",
            Verdict::Info => "info",
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
    /// Supporting data (series, statistics over seeds, per-layer values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
}

impl ClaimResult {
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

    /// The experiment could not produce a measurement.
    pub fn failed(self, predicted: Option<f64>, reason: impl Into<String>) -> ClaimResult {
        self.finish(predicted, Verdict::Fail, reason.into())
    }
}
