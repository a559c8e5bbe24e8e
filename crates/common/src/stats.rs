//! Sample statistics of per-seed measurements and series.

/// Mean and sample standard deviation (`n − 1` in the denominator; 0 for
/// one value), or `None` for no values.
pub fn mean_and_spread(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let spread = if values.len() > 1 {
        (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some((mean, spread))
}

/// Least-squares slope of `ys` against `xs`.
pub fn slope(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

/// A two-sided confidence interval for a mean over seeds (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The point estimate: the sample mean.
    pub estimate: f64,
    /// Lower end.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
    /// Standard error of the mean, `s/√n`.
    pub standard_error: f64,
    /// Number of values (seeds).
    pub n: usize,
    /// Coverage, e.g. 0.95.
    pub level: f64,
}

impl Interval {
    /// Whether zero lies inside (ends included).
    pub fn contains_zero(&self) -> bool {
        self.lower <= 0.0 && 0.0 <= self.upper
    }
}

/// The Student t interval `x̄ ± t_{(1+level)/2, n−1} · s/√n` for the mean
/// of `values`; `None` for fewer than two values, a level outside (0, 1)
/// or a non-finite value.
pub fn t_interval(values: &[f64], level: f64) -> Option<Interval> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    if values.len() < 2 || !(level > 0.0 && level < 1.0) || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = values.len();
    let (mean, spread) = mean_and_spread(values)?;
    let standard_error = spread / (n as f64).sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .ok()?
        .inverse_cdf(0.5 + level / 2.0);
    Some(Interval {
        estimate: mean,
        lower: mean - t * standard_error,
        upper: mean + t * standard_error,
        standard_error,
        n,
        level,
    })
}

/// The quantile `t_{p, df}` of Student's t distribution; `None` for a
/// probability outside (0, 1) or fewer than one degree of freedom.
pub fn t_quantile(p: f64, df: usize) -> Option<f64> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    if !(p > 0.0 && p < 1.0) || df == 0 {
        return None;
    }
    Some(StudentsT::new(0.0, 1.0, df as f64).ok()?.inverse_cdf(p))
}

/// The two-sided p-value of the one-sample t test of "mean 0" for a mean
/// `estimate` with standard error `standard_error` over `n` values, after
/// shrinking `|estimate|` toward zero by `resolution` (an effect within the
/// numerical resolution is no evidence). A zero standard error gives 0 for a
/// non-zero shrunk estimate and 1 otherwise; `None` for `n < 2`.
pub fn t_test_p_value(
    estimate: f64,
    standard_error: f64,
    n: usize,
    resolution: f64,
) -> Option<f64> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    if n < 2 || !estimate.is_finite() || !standard_error.is_finite() {
        return None;
    }
    let shrunk = (estimate.abs() - resolution.max(0.0)).max(0.0);
    if standard_error == 0.0 {
        return Some(if shrunk > 0.0 { 0.0 } else { 1.0 });
    }
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?;
    Some((2.0 * t.sf(shrunk / standard_error)).min(1.0))
}

/// The minimum detectable effect of a two-sided t test at level `1 − α`
/// with the given power: `(t_{1−α/2, n−1} + t_{power, n−1})·SE` (the usual
/// normal-approximation form with t quantiles; SPEC §8). `None` for
/// `n < 2`.
pub fn minimum_detectable_effect(
    standard_error: f64,
    n: usize,
    alpha: f64,
    power: f64,
) -> Option<f64> {
    let df = n.checked_sub(1)?;
    Some((t_quantile(1.0 - alpha / 2.0, df)? + t_quantile(power, df)?) * standard_error)
}

/// Holm's step-down adjustment of `p` (the family-wise error rate over
/// the family of tests): with the p-values sorted ascending, the adjusted
/// `p_(i) = max_{j≤i} min(1, (m − j + 1)·p_(j))`, returned in the input
/// order. Rejecting where the adjusted value is below α controls the
/// family-wise error at α.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// The t interval of the paired differences `a_i − b_i` (the same seed in
/// both arms); `None` when the lengths differ or as [`t_interval`].
pub fn paired_t_interval(a: &[f64], b: &[f64], level: f64) -> Option<Interval> {
    if a.len() != b.len() {
        return None;
    }
    let differences: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    t_interval(&differences, level)
}

/// The percentile bootstrap interval of the mean of `values`, from
/// `resamples` resamples drawn by a ChaCha8 generator seeded with `seed`
/// (for quantities far from normal; the standard error is the bootstrap
/// standard deviation). `None` as [`t_interval`] or for no resamples.
pub fn bootstrap_interval(
    values: &[f64],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    use rand::{RngExt, SeedableRng};
    if values.len() < 2
        || resamples == 0
        || !(level > 0.0 && level < 1.0)
        || values.iter().any(|v| !v.is_finite())
    {
        return None;
    }
    let n = values.len();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let quantile = |q: f64| means[((q * resamples as f64).floor() as usize).min(resamples - 1)];
    let (mean, _) = mean_and_spread(values)?;
    let (_, standard_error) = mean_and_spread(&means)?;
    Some(Interval {
        estimate: mean,
        lower: quantile((1.0 - level) / 2.0),
        upper: quantile((1.0 + level) / 2.0),
        standard_error,
        n,
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{Stream, rng};
    use rand_distr::{Distribution, StandardNormal};

    /// Quantiles from a t table: t_{0.975, 9} = 2.262157, t_{0.975, 2} =
    /// 4.302653 (6 digits, hence 1e-6).
    #[test]
    fn t_interval_uses_the_t_quantile() {
        let values: Vec<f64> = (0..10).map(f64::from).collect();
        let i = t_interval(&values, 0.95).unwrap();
        let (mean, s) = mean_and_spread(&values).unwrap();
        let half = (i.upper - i.lower) / 2.0;
        assert!((half / (s / 10f64.sqrt()) - 2.262157).abs() < 1e-6);
        assert_eq!(i.estimate, mean);
        let i = t_interval(&[1.0, 2.0, 4.0], 0.95).unwrap();
        assert!(((i.upper - i.lower) / 2.0 / i.standard_error - 4.302653).abs() < 1e-6);
        assert!(t_interval(&[1.0], 0.95).is_none());
        assert!(t_interval(&[1.0, f64::NAN], 0.95).is_none());
        assert!(t_interval(&[1.0, 2.0], 1.0).is_none());
    }

    /// Over 2000 samples of 5 standard normals, the 95 % t interval covers
    /// the true mean 0 in 95 % of them: the count lies within four binomial
    /// standard deviations (√(2000·0.95·0.05) ≈ 9.7) of 1900. The bootstrap
    /// of 10 values is looser at small n, so only its centre is checked.
    #[test]
    fn t_intervals_cover_at_their_level() {
        let mut r = rng(11, Stream::Data);
        let covered = (0..2000)
            .filter(|_| {
                let v: Vec<f64> = (0..5).map(|_| StandardNormal.sample(&mut r)).collect();
                t_interval(&v, 0.95).unwrap().contains_zero()
            })
            .count();
        assert!((covered as f64 - 1900.0).abs() < 4.0 * 9.75, "{covered}");
    }

    /// Paired differences: the interval of a − b is the t interval of the
    /// differences, and a shared seed effect cancels.
    #[test]
    fn paired_intervals_cancel_the_shared_part() {
        let seed_effect = [5.0, -3.0, 8.0, 0.5, -6.0];
        let a: Vec<f64> = seed_effect.iter().map(|s| s + 1.0).collect();
        let b: Vec<f64> = seed_effect
            .iter()
            .enumerate()
            .map(|(k, s)| s + 0.01 * k as f64)
            .collect();
        let paired = paired_t_interval(&a, &b, 0.95).unwrap();
        assert!(!paired.contains_zero());
        assert!(t_interval(&a, 0.95).unwrap().contains_zero());
        assert!(paired_t_interval(&a, &b[..4], 0.95).is_none());
    }

    /// The p-value agrees with the interval: the 95 % interval excludes 0
    /// exactly when p < 0.05; shrinking by a resolution larger than the
    /// estimate gives p = 1.
    #[test]
    fn p_values_agree_with_intervals() {
        let samples: [&[f64]; 4] = [
            &[1.0, 1.2, 0.9, 1.1],
            &[1.0, -1.0, 0.5, -0.4],
            &[0.1, 0.3, -0.05, 0.2, 0.15],
            &[-0.2, -0.1, -0.3],
        ];
        for v in samples {
            let i = t_interval(v, 0.95).unwrap();
            let p = t_test_p_value(i.estimate, i.standard_error, i.n, 0.0).unwrap();
            assert_eq!(p < 0.05, !i.contains_zero(), "{v:?}: p = {p}");
            assert_eq!(
                t_test_p_value(i.estimate, i.standard_error, i.n, 2.0 * i.estimate.abs()),
                Some(1.0)
            );
        }
        assert_eq!(t_test_p_value(1.0, 0.0, 3, 0.0), Some(0.0));
        assert_eq!(t_test_p_value(1.0, 0.1, 1, 0.0), None);
    }

    /// Holm against a hand computation: p = (0.01, 0.04, 0.03, 0.005) sorts
    /// to (0.005, 0.01, 0.03, 0.04), scaled by 4, 3, 2, 1 to (0.02, 0.03,
    /// 0.06, 0.04), made monotone: (0.02, 0.03, 0.06, 0.06).
    #[test]
    fn holm_steps_down() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        let expected = [0.03, 0.06, 0.06, 0.02];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-15, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.5]), vec![0.5]);
        assert_eq!(holm(&[0.6, 0.9]), vec![1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }

    /// With 80 % power, an effect of one MDE is detected in about 80 % of
    /// samples: 2000 samples of 8 normals with mean MDE(σ/√8): the count
    /// of p < 0.05 lies within four binomial standard deviations
    /// (√(2000·0.8·0.2) ≈ 17.9) of 1600. (The t form is exact up to the
    /// non-central t's skew, under 1 % here.)
    #[test]
    fn minimum_detectable_effect_has_its_power() {
        let n = 8;
        let mde = minimum_detectable_effect(1.0 / (n as f64).sqrt(), n, 0.05, 0.8).unwrap();
        let mut r = rng(12, Stream::Data);
        let detected = (0..2000)
            .filter(|_| {
                let v: Vec<f64> = (0..n)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut r);
                        mde + z
                    })
                    .collect();
                !t_interval(&v, 0.95).unwrap().contains_zero()
            })
            .count();
        assert!((detected as f64 - 1600.0).abs() < 4.0 * 17.9, "{detected}");
    }

    /// The bootstrap is a deterministic function of its seed, brackets the
    /// mean, and is narrower at a lower level.
    #[test]
    fn bootstrap_is_seeded_and_nested() {
        let v = [0.1, 0.5, 0.2, 3.0, 0.3, 0.4, 0.2, 0.1];
        let a = bootstrap_interval(&v, 0.95, 2000, 7).unwrap();
        assert_eq!(a, bootstrap_interval(&v, 0.95, 2000, 7).unwrap());
        assert!(a.lower < a.estimate && a.estimate < a.upper);
        let b = bootstrap_interval(&v, 0.5, 2000, 7).unwrap();
        assert!(a.lower <= b.lower && b.upper <= a.upper);
        assert!(bootstrap_interval(&v, 0.95, 0, 7).is_none());
    }
}
