//! Reading the claims a declared figure draws: their parameters and the
//! series of their details, by the names the families of this crate give
//! them.

use figure::Series;
use serde_json::Value;

use crate::details::Series as DetailSeries;
use crate::{ClaimResult, Details};

/// The sorted distinct values of the integer parameter `name` over the
/// claims with `key` (and `filter`).
pub(crate) fn values(
    results: &[ClaimResult],
    key: &str,
    name: &str,
    filter: &[(&str, u64)],
) -> Vec<u64> {
    let mut v: Vec<u64> = results
        .iter()
        .filter(|r| is(r, key, filter))
        .filter_map(|r| param(r, name).and_then(Value::as_u64))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The parameter `name` of `r`.
pub(crate) fn param<'a>(r: &'a ClaimResult, name: &str) -> Option<&'a Value> {
    r.params.get(name)
}

/// The text parameter `name` of `r`.
pub(crate) fn text<'a>(r: &'a ClaimResult, name: &str) -> Option<&'a str> {
    param(r, name).and_then(Value::as_str)
}

/// True when `r` has `key` and the integer parameters `params`.
pub(crate) fn is(r: &ClaimResult, key: &str, params: &[(&str, u64)]) -> bool {
    r.key == key
        && params
            .iter()
            .all(|(p, v)| param(r, p).and_then(Value::as_u64) == Some(*v))
}

/// Missing values as NaN (gaps in a plotted line).
pub(crate) fn gaps(values: &[Option<f64>]) -> Vec<f64> {
    values.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

/// The points `(x, y)` of a series, undefined values as NaN.
pub(crate) fn points(s: &DetailSeries) -> (Vec<f64>, Vec<f64>) {
    (s.x.clone(), gaps(&s.y))
}

/// The series `name` of a claim's details, as points.
pub(crate) fn time_series(r: &ClaimResult, name: &str) -> Option<(Vec<f64>, Vec<f64>)> {
    r.details.as_ref()?.series_named(name).map(points)
}

/// The band of a series of means: its 95 % interval where recorded,
/// otherwise ± its spread.
pub(crate) fn interval_band(series: &DetailSeries, mean: &[f64]) -> (Vec<f64>, Vec<f64>) {
    if series.lower.len() == mean.len() && series.upper.len() == mean.len() {
        (gaps(&series.lower), gaps(&series.upper))
    } else {
        let spread = gaps(&series.spread);
        mean.iter()
            .zip(&spread)
            .map(|(m, s)| (m - s, m + s))
            .unzip()
    }
}

/// A mean-over-seeds series of a claim's details as a plotted line with its
/// 95 % interval as the band.
pub(crate) fn mean_with_band(
    d: &Details,
    name: &str,
    label: impl Into<String>,
    colour: usize,
) -> Option<Series> {
    let s = d.series_named(name)?;
    let (x, y) = points(s);
    Some(Series::new(label, x, y, colour).band(gaps(&s.lower), gaps(&s.upper)))
}
