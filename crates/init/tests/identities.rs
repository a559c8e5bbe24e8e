//! Property tests of the initialisations (SPEC §2.3).

use faer::{Mat, MatRef};
use init::{InitError, InitScheme, initialise};
use metrics::{Cutoff, PsdEigen};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn refs(w: &[Mat<f64>]) -> Vec<MatRef<'_, f64>> {
    w.iter().map(|m| m.as_ref()).collect()
}

/// Widths `[d, h_1, …, h_{L−1}, C]` with every hidden width ≥ r = min(C, d).
fn balanced_widths() -> impl Strategy<Value = Vec<usize>> {
    (1usize..=6, 1usize..=6, 1usize..=5).prop_flat_map(|(depth, d, c)| {
        let r = c.min(d);
        prop::collection::vec(r..=r + 5, depth - 1).prop_map(move |hidden| {
            let mut w = vec![d];
            w.extend(hidden);
            w.push(c);
            w
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Balanced init: every D_l = 0 to rounding (‖D_l‖ ≤ 1e-13·‖W‖² — the
    /// round-off of the products Q S^{2/L} Qᵀ), the reported imbalance says
    /// so, and `(W_1ᵀW_1)^L = PᵀP` (relerr ≤ 1e-10: L products of
    /// rounded factors, the L-th power amplifying by ≤ L).
    #[test]
    fn balanced_init_is_balanced(seed in 0u64..10_000, widths in balanced_widths(), scale in 0.1f64..10.0) {
        let depth = widths.len() - 1;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let init = initialise(&widths, &InitScheme::Balanced { scale, rank: None }, &mut rng).unwrap();
        let w = &init.weights;
        let size = w.iter().map(|m| m.squared_norm_l2()).fold(0.0, f64::max);
        for d in metrics::imbalances(&refs(w)).unwrap() {
            prop_assert!(d.norm_l2() <= 1e-13 * size.max(1e-300), "‖D‖ = {}", d.norm_l2());
        }
        prop_assert!(init.max_imbalance() <= 1e-13 * size.max(1e-300));
        let f1 = metrics::nfm(w[0].as_ref());
        let mut power = f1.clone();
        for _ in 1..depth {
            power = &power * &f1;
        }
        let p = metrics::features::end_to_end(&refs(w)).unwrap();
        let ptp = p.transpose() * &p;
        prop_assert!((&power - &ptp).norm_l2() <= 1e-10 * ptp.norm_l2());
        // And equivalently F_1 = (PᵀP)^{1/L} through the clipped root.
        let root = PsdEigen::new(ptp.as_ref(), Cutoff::for_dim(ptp.nrows()), "PᵀP").unwrap().power(1.0 / depth as f64).unwrap();
        prop_assert!((&f1 - &root).norm_l2() <= 1e-9 * root.norm_l2());
    }

    /// Orthogonal init: `W_lᵀW_l = g²I` (tall) or `W_lW_lᵀ = g²I` (wide).
    #[test]
    fn orthogonal_init_is_orthogonal(seed in 0u64..10_000, widths in prop::collection::vec(1usize..8, 2..6), gain in 0.1f64..3.0) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let init = initialise(&widths, &InitScheme::Orthogonal { gain }, &mut rng).unwrap();
        for w in &init.weights {
            let g = if w.nrows() >= w.ncols() { w.transpose() * w } else { w * w.transpose() };
            let n = g.nrows();
            let target = Mat::<f64>::identity(n, n) * faer::Scale(gain * gain);
            prop_assert!((&g - &target).norm_l2() <= 1e-13 * gain * gain * n as f64);
        }
    }

    /// Uniform init: every entry of `W_l` lies in `[−g/√d_{l−1}, g/√d_{l−1})`.
    #[test]
    fn uniform_init_is_bounded(seed in 0u64..10_000, widths in prop::collection::vec(1usize..8, 2..6), gain in 0.1f64..3.0) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let init = initialise(&widths, &InitScheme::Uniform { gain }, &mut rng).unwrap();
        for (l, w) in init.weights.iter().enumerate() {
            let bound = gain / (widths[l] as f64).sqrt();
            prop_assert!((0..w.nrows()).all(|i| (0..w.ncols()).all(|j| w[(i, j)].abs() <= bound)));
        }
    }

    /// Every scheme reports ‖D_l(0)‖_F exactly as recomputed from its weights.
    #[test]
    fn reported_imbalance_matches(seed in 0u64..10_000, widths in prop::collection::vec(1usize..8, 2..6), sigma in 0.1f64..3.0) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let init = initialise(&widths, &InitScheme::Gaussian { sigma: vec![sigma] }, &mut rng).unwrap();
        let recomputed: Vec<f64> = metrics::imbalances(&refs(&init.weights)).unwrap().iter().map(|d| d.norm_l2()).collect();
        prop_assert_eq!(init.imbalance, recomputed);
    }

    /// Same seed, same bits.
    #[test]
    fn seeded_init_is_deterministic(seed in 0u64..10_000, widths in balanced_widths()) {
        let scheme = InitScheme::Balanced { scale: 1.0, rank: None };
        let a = initialise(&widths, &scheme, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        let b = initialise(&widths, &scheme, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        prop_assert!(a.weights == b.weights);
    }
}

/// PyTorch's default `nn.Linear` init (g = 1) has mean 0 and variance
/// `1/(3 d_{l−1})`: over N = 120,000 entries the sample mean and second
/// moment are within 5 standard errors of those (standard errors
/// `b/√(3N)` and `b²√(4/45)/√N` for `U(−b, b)`).
#[test]
fn pytorch_default_init_has_its_moments() {
    let (fan_in, fan_out) = (300, 400);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let init = initialise(
        &[fan_in, fan_out],
        &InitScheme::Uniform { gain: 1.0 },
        &mut rng,
    )
    .unwrap();
    let w = &init.weights[0];
    let b = 1.0 / (fan_in as f64).sqrt();
    let entries: Vec<f64> = (0..fan_out)
        .flat_map(|i| (0..fan_in).map(move |j| (i, j)))
        .map(|(i, j)| w[(i, j)])
        .collect();
    let n = entries.len() as f64;
    let mean = entries.iter().sum::<f64>() / n;
    let second = entries.iter().map(|v| v * v).sum::<f64>() / n;
    assert!(mean.abs() <= 5.0 * b / (3.0 * n).sqrt(), "{mean}");
    assert!(
        (second - b * b / 3.0).abs() <= 5.0 * b * b * (4.0f64 / 45.0).sqrt() / n.sqrt(),
        "{second}"
    );
}

#[test]
fn bad_schemes_are_named_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let narrow = initialise(
        &[5, 2, 3],
        &InitScheme::Balanced {
            scale: 1.0,
            rank: None,
        },
        &mut rng,
    );
    assert_eq!(
        narrow.unwrap_err(),
        InitError::WidthBelowRank {
            layer: 1,
            width: 2,
            rank: 3
        }
    );
    let e = initialise(&[5], &InitScheme::Orthogonal { gain: 1.0 }, &mut rng).unwrap_err();
    assert!(e.to_string().starts_with("widths"));
    let e = initialise(&[5, 3], &InitScheme::Small { sigma: 0.5 }, &mut rng).unwrap_err();
    assert!(e.to_string().contains("init.sigma"), "{e}");
    let e = initialise(
        &[5, 3, 2],
        &InitScheme::Gaussian {
            sigma: vec![1.0, 2.0, 3.0],
        },
        &mut rng,
    )
    .unwrap_err();
    assert!(e.to_string().contains("init.sigma"), "{e}");
    let e = initialise(
        &[5, 3],
        &InitScheme::Gaussian {
            sigma: vec![f64::NAN],
        },
        &mut rng,
    )
    .unwrap_err();
    assert!(e.to_string().contains("init.sigma"), "{e}");
}
