//! The supporting data of a claim (`details` in `report.json`): the
//! numbers behind its measurement that the report's figures and wide
//! tables read, in a few typed parts.
//!
//! - [`Summary`] columns (`summary`): mean ± spread over seeds, shown as
//!   the columns of the claim's row in a wide table;
//! - further [`Summary`] statistics (`statistics`), not shown as columns;
//! - [`Series`] (`series`): a named curve `y` over a named axis `x` (time
//!   `t`, `epoch`, depth `L`, scale `s`), optionally with a spread per point
//!   (and, for a mean over seeds, its 95 % interval per point) and a group
//!   label (`layer 2`, `seed 3`) when one name has one curve per layer or
//!   seed;
//! - a [`Matrix`] (`matrix`) with row and column labels;
//! - named scalars (`values`) and named vectors (`lists`, whose names end
//!   in what they are indexed by: `_per_layer`, `_per_seed`, `_per_sigma`,
//!   in the order of the corresponding parameter);
//! - named remarks (`notes`), e.g. why a supporting series is absent.
//!
//! JSON has no NaN or infinity: every measured number is an `Option<f64>`
//! and a non-finite one is stored as `None` (`null`). Axis coordinates
//! (`Series::x`) are finite by construction (times, epochs, depths,
//! parameters). Empty parts are left out of the JSON, and unknown fields are
//! refused when reading it back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `Some(v)` for a finite `v`, `None` otherwise.
fn finite(v: impl Into<Option<f64>>) -> Option<f64> {
    v.into().filter(|v| v.is_finite())
}

/// The supporting data of one claim; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Details {
    /// The claim's columns in a wide table of the report (studies over
    /// seeds), in column order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub summary: Vec<Summary>,
    /// Statistics over seeds that are not table columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statistics: Vec<Summary>,
    /// Curves over an axis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<Series>,
    /// A labelled matrix (e.g. for a heat map).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Matrix>,
    /// Named scalars.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, Option<f64>>,
    /// Named vectors (per layer, per seed, per σ: the name says which).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lists: BTreeMap<String, Vec<Option<f64>>>,
    /// Named remarks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, String>,
}

impl Details {
    /// No parts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append a table column.
    pub fn with_column(mut self, column: Summary) -> Self {
        self.summary.push(column);
        self
    }

    /// Append a statistic that is not a table column.
    pub fn with_statistic(mut self, statistic: Summary) -> Self {
        self.statistics.push(statistic);
        self
    }

    /// Append a series.
    pub fn with_series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Set the matrix.
    pub fn with_matrix(mut self, matrix: Matrix) -> Self {
        self.matrix = Some(matrix);
        self
    }

    /// Set a named scalar (`None` when not finite).
    pub fn with_value(mut self, name: &str, value: impl Into<Option<f64>>) -> Self {
        self.values.insert(name.to_owned(), finite(value));
        self
    }

    /// Set a named vector (non-finite entries as `None`).
    pub fn with_list<V: Into<Option<f64>>>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        self.lists
            .insert(name.to_owned(), values.into_iter().map(finite).collect());
        self
    }

    /// Set a named remark.
    pub fn with_note(mut self, name: &str, text: impl Into<String>) -> Self {
        self.notes.insert(name.to_owned(), text.into());
        self
    }

    /// The first series called `name`.
    pub fn series_named(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }

    /// Every series called `name` (one per group), in order.
    pub fn all_series_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Series> {
        self.series.iter().filter(move |s| s.name == name)
    }

    /// The statistic called `name`.
    pub fn statistic(&self, name: &str) -> Option<&Summary> {
        self.statistics.iter().find(|s| s.name == name)
    }

    /// The finite scalar called `name`.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied().flatten()
    }
}

/// `+mean [+lower, +upper]`: the mean over seeds of `values` with its 95 %
/// Student t interval, three decimals, for the reason texts of claims;
/// `undefined` for fewer than two values.
pub(crate) fn interval_text(values: &[f64]) -> String {
    match common::stats::t_interval(values, 0.95) {
        Some(i) => format!("{:+.3} [{:+.3}, {:+.3}]", i.estimate, i.lower, i.upper),
        None => "undefined".to_owned(),
    }
}

/// Mean ± sample standard deviation of a quantity over seeds, or a single
/// value (no spread).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// What is summarised (a column header for a table column).
    pub name: String,
    /// Mean over seeds; `None` when there is no finite value.
    pub mean: Option<f64>,
    /// Sample standard deviation over seeds (0 for one seed); `None` for a
    /// single value that is not a mean.
    pub spread: Option<f64>,
    /// The 95 % Student t interval of the mean over seeds (SPEC §8); `None`
    /// for fewer than two seeds or a single value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// The value of each seed, in the order of the claim's `seeds`, when
    /// recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_seed: Vec<Option<f64>>,
    /// True for a positive quantity (a loss, a time, a ratio of losses):
    /// `mean` is the geometric mean and `interval` the 95 % Student t
    /// interval of the mean log, exponentiated (SPEC §8), so it never
    /// reaches below zero.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub geometric: bool,
}

impl Summary {
    /// Mean and sample spread of `values` (`None` for no values).
    pub fn over_seeds(name: &str, values: &[f64]) -> Self {
        let stats = common::stats::mean_and_spread(values);
        Summary {
            name: name.to_owned(),
            mean: finite(stats.map(|s| s.0)),
            spread: finite(stats.map(|s| s.1)),
            interval: common::stats::t_interval(values, 0.95)
                .filter(|i| i.lower.is_finite() && i.upper.is_finite())
                .map(|i| [i.lower, i.upper]),
            per_seed: Vec::new(),
            geometric: false,
        }
    }

    /// A positive quantity over seeds, on a log scale: the geometric mean
    /// and the exponentiated 95 % t interval of the mean log, the sample
    /// spread of the values, and each seed's value. A value that is not
    /// positive leaves the mean and interval undefined (`None`).
    pub fn positive(name: &str, values: &[f64]) -> Self {
        let logs: Option<Vec<f64>> = values.iter().map(|&v| (v > 0.0).then(|| v.ln())).collect();
        let logs = logs.unwrap_or_default();
        let log_mean = common::stats::mean_and_spread(&logs).map(|s| s.0);
        Summary {
            name: name.to_owned(),
            mean: finite(log_mean.map(f64::exp)),
            spread: finite(common::stats::mean_and_spread(values).map(|s| s.1)),
            interval: common::stats::t_interval(&logs, 0.95)
                .filter(|i| i.lower.is_finite() && i.upper.is_finite())
                .map(|i| [i.lower.exp(), i.upper.exp()]),
            per_seed: values.iter().copied().map(finite).collect(),
            geometric: true,
        }
    }

    /// One value without a spread.
    pub fn single(name: &str, value: f64) -> Self {
        Summary {
            name: name.to_owned(),
            mean: finite(value),
            spread: None,
            interval: None,
            per_seed: Vec::new(),
            geometric: false,
        }
    }

    /// [`Summary::over_seeds`] that also records each seed's value.
    pub fn with_per_seed(name: &str, values: &[f64]) -> Self {
        Summary {
            per_seed: values.iter().copied().map(finite).collect(),
            ..Summary::over_seeds(name, values)
        }
    }
}

/// A curve `y` over the axis `x`, optionally mean ± `spread` per point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// What `y` is.
    pub name: String,
    /// Which of several curves of this name (`layer 2`, `seed 3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// What `x` is (`t`, `epoch`, `L`, `s`).
    pub x_name: String,
    /// Axis coordinates (finite).
    pub x: Vec<f64>,
    /// The value at each `x`; `None` where undefined or not finite.
    pub y: Vec<Option<f64>>,
    /// Sample standard deviation over seeds at each `x` when `y` is a mean
    /// (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spread: Vec<Option<f64>>,
    /// Lower end of the 95 % Student t interval of the mean over seeds at
    /// each `x` when `y` is such a mean (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lower: Vec<Option<f64>>,
    /// Upper end of that interval.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upper: Vec<Option<f64>>,
}

impl Series {
    /// `y` (non-finite entries as `None`) over `x`, called `x_name`.
    pub fn new<V: Into<Option<f64>>>(
        name: &str,
        x_name: &str,
        x: Vec<f64>,
        y: impl IntoIterator<Item = V>,
    ) -> Self {
        Series {
            name: name.to_owned(),
            group: None,
            x_name: x_name.to_owned(),
            x,
            y: y.into_iter().map(finite).collect(),
            spread: Vec::new(),
            lower: Vec::new(),
            upper: Vec::new(),
        }
    }

    /// The mean over seeds of curves on one axis (`runs[s][k]`: seed s at
    /// `x[k]`), with the sample standard deviation as the spread and the
    /// 95 % Student t interval of the mean (k − 1 degrees of freedom over
    /// k seeds, SPEC §8) per point. A point missing on some seed is `None`
    /// (also in the interval, which needs two seeds).
    pub fn mean_over_seeds(
        name: &str,
        x_name: &str,
        x: Vec<f64>,
        runs: &[Vec<Option<f64>>],
    ) -> Self {
        let columns: Vec<Option<Vec<f64>>> = (0..x.len())
            .map(|k| {
                runs.iter()
                    .map(|run| run.get(k).copied().flatten())
                    .collect()
            })
            .collect();
        let moments: Vec<Option<(f64, f64)>> = (columns.iter())
            .map(|c| c.as_deref().and_then(common::stats::mean_and_spread))
            .collect();
        Series::new(name, x_name, x, moments.iter().map(|m| m.map(|m| m.0)))
            .with_spread(moments.iter().map(|m| m.map(|m| m.1)))
            // A point missing on some seed has no values, hence no interval.
            .with_interval(columns.iter().map(|c| c.as_deref().unwrap_or(&[])))
    }

    /// The same series labelled as one of a group.
    pub fn in_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// The same series with a spread per point (non-finite as `None`).
    pub fn with_spread<V: Into<Option<f64>>>(
        mut self,
        spread: impl IntoIterator<Item = V>,
    ) -> Self {
        self.spread = spread.into_iter().map(finite).collect();
        self
    }

    /// The same series with the 95 % Student t interval of the mean at
    /// each point, from that point's per-seed values.
    pub fn with_interval<'a>(mut self, per_point: impl IntoIterator<Item = &'a [f64]>) -> Self {
        let intervals: Vec<Option<common::stats::Interval>> = per_point
            .into_iter()
            .map(|values| common::stats::t_interval(values, 0.95))
            .collect();
        self.lower = intervals
            .iter()
            .map(|i| finite(i.map(|i| i.lower)))
            .collect();
        self.upper = intervals
            .iter()
            .map(|i| finite(i.map(|i| i.upper)))
            .collect();
        self
    }
}

/// A matrix with labelled rows and columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    /// What the entries are.
    pub name: String,
    /// Row labels.
    pub rows: Vec<String>,
    /// Column labels.
    pub columns: Vec<String>,
    /// Entries by row; `None` where not finite.
    pub values: Vec<Vec<Option<f64>>>,
}

impl Matrix {
    /// `values[i][j]` at row `rows[i]` and column `columns[j]`.
    pub fn new(name: &str, rows: Vec<String>, columns: Vec<String>, values: &[Vec<f64>]) -> Self {
        Matrix {
            name: name.to_owned(),
            rows,
            columns,
            values: values
                .iter()
                .map(|row| row.iter().copied().map(finite).collect())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_numbers_are_stored_as_none_and_written_as_null() {
        let d = Details::new()
            .with_value("a", f64::NAN)
            .with_list("b", [1.0, f64::INFINITY])
            .with_series(Series::new("y", "t", vec![0.0, 1.0], [f64::NAN, 2.0]))
            .with_column(Summary::over_seeds("empty", &[]));
        assert_eq!(d.value("a"), None);
        assert_eq!(d.lists["b"], [Some(1.0), None]);
        let text = serde_json::to_string(&d).unwrap();
        assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
        assert_eq!(serde_json::from_str::<Details>(&text).unwrap(), d);
    }

    /// Mean, spread and t interval per point; a point missing on one seed
    /// is missing in the mean. t_{0.975, 2} = 4.302653 (6 digits, 1e-6).
    #[test]
    fn means_over_seeds_carry_their_interval() {
        let runs = vec![
            vec![Some(1.0), Some(0.0)],
            vec![Some(2.0), None],
            vec![Some(4.0), Some(1.0)],
        ];
        let s = Series::mean_over_seeds("y", "t", vec![0.0, 1.0], &runs);
        assert_eq!(s.y, [Some(7.0 / 3.0), None]);
        assert_eq!((s.lower[1], s.upper[1], s.spread[1]), (None, None, None));
        let sd = s.spread[0].unwrap();
        let half = (s.upper[0].unwrap() - s.lower[0].unwrap()) / 2.0;
        assert!((half / (sd / 3f64.sqrt()) - 4.302653).abs() < 1e-6);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Series>(&text).unwrap(), s);
    }

    #[test]
    fn empty_parts_are_left_out_and_unknown_fields_refused() {
        assert_eq!(serde_json::to_string(&Details::new()).unwrap(), "{}");
        let single = serde_json::to_value(Summary::single("x", 1.0)).unwrap();
        assert_eq!(
            single,
            serde_json::json!({"name": "x", "mean": 1.0, "spread": null})
        );
        assert!(serde_json::from_str::<Details>(r#"{"sweep": []}"#).is_err());
    }

    /// A positive quantity's summary is geometric: the mean is exp of the
    /// mean log (1, 10, 100 → 10), the interval the exponentiated t
    /// interval of the logs (above 0 however wide), and a non-positive
    /// value leaves both undefined.
    #[test]
    fn positive_quantities_are_summarised_on_a_log_scale() {
        let s = Summary::positive("t", &[1.0, 10.0, 100.0]);
        assert!((s.mean.unwrap() - 10.0).abs() < 1e-12);
        let [lo, hi] = s.interval.unwrap();
        assert!(0.0 < lo && lo < 10.0 && 10.0 < hi);
        // Symmetric in log: lo · hi = mean².
        assert!((lo * hi / 100.0 - 1.0).abs() < 1e-12);
        assert!(s.geometric && s.per_seed.len() == 3);
        let bad = Summary::positive("t", &[1.0, -1.0]);
        assert_eq!((bad.mean, bad.interval), (None, None));
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Summary>(&text).unwrap(), s);
    }
}
