//! Splitting units of work over processes.
//!
//! Shards are balanced by estimated cost with the greedy
//! longest-processing-time rule ([`assign`]): units in decreasing order of
//! cost (equal costs in plan order), each to the shard with the least
//! estimated work so far (equal loads: the lowest index). The assignment
//! depends only on the plan and N, so every task of an array computes the
//! same split without talking to the others.

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (0 ≤ index < count), written `I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = || format!("expected I/N with 0 ≤ I < N (e.g. 0/4), got `{s}`");
        let (i, n) = s.split_once('/').ok_or_else(expected)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| expected())?,
            n.trim().parse::<usize>().map_err(|_| expected())?,
        );
        if index >= count {
            return Err(expected());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The directory name of the shard's unit records: `shard-I-of-N`.
    pub fn dir_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

/// The shard of each unit (same order as `costs`) among `count` shards:
/// greedy longest processing time, deterministic (see the module docs).
pub fn assign(costs: &[f64], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    // Stable: equal costs keep plan order.
    order.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]));
    let mut load = vec![0.0_f64; count.max(1)];
    let mut shard = vec![0; costs.len()];
    for u in order {
        let (least, _) = load
            .iter()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |best, (k, &l)| {
                    if l < best.1 { (k, l) } else { best }
                },
            );
        shard[u] = least;
        load[least] += costs[u].max(0.0);
    }
    shard
}

/// The items of `items` that fall in `shard` by their costs, in their
/// given order.
pub fn select<T: Clone>(items: &[T], cost: impl Fn(&T) -> f64, shard: Shard) -> Vec<T> {
    let costs: Vec<f64> = items.iter().map(cost).collect();
    assign(&costs, shard.count)
        .into_iter()
        .zip(items)
        .filter(|(s, _)| *s == shard.index)
        .map(|(_, item)| item.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_as_index_of_count() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    /// Longest processing time: the two big units go to different shards,
    /// the small ones fill the lighter shard; every unit has exactly one
    /// shard, whatever N.
    #[test]
    fn assignment_balances_by_cost_and_covers_every_unit() {
        assert_eq!(assign(&[1.0, 5.0, 1.0, 4.0, 1.0], 2), [1, 0, 0, 1, 1]);
        let costs: Vec<f64> = (0..50).map(|k| ((k * 37) % 11) as f64 + 0.5).collect();
        for n in 1..7 {
            let a = assign(&costs, n);
            assert!(a.iter().all(|&s| s < n));
            let loads: Vec<f64> = (0..n)
                .map(|s| {
                    (0..costs.len())
                        .filter(|&u| a[u] == s)
                        .map(|u| costs[u])
                        .sum()
                })
                .collect();
            let (max, min) = loads.iter().fold((0.0_f64, f64::INFINITY), |(hi, lo), &l| {
                (hi.max(l), lo.min(l))
            });
            // LPT: the loads differ by at most the largest single cost.
            assert!(max - min <= 10.5, "{n}: {loads:?}");
        }
    }
}
