//! Property tests of the metric kernels: the identities and invariances the
//! checks rely on (SPEC §1).

use crate::common::{gaussian, orthogonal, psd, rel, rng};
use faer::{Mat, Scale};
use metrics::alpha::AlphaOptions;
use metrics::{
    AlphaEstimate, AlphaEstimator, AlphaScan, Cutoff, MetricError, PsdEigen, Similarity, Undefined,
    estimate_alpha, psd_power, similarity,
};
use proptest::prelude::*;

fn conj(q: &Mat<f64>, a: &Mat<f64>) -> Mat<f64> {
    q * a * q.transpose()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `A^{1/2} A^{1/2} = A` and `(A^α)^{1/α} = A` for full-rank PSD A,
    /// `A^1 = A`; the input is unchanged. Tolerance 1e-9: the eigenvalue
    /// round-off ε·λ_max is amplified by at most cond(A)^{1−α} ≲ 1e4 here.
    #[test]
    fn psd_power_identities(seed in 0u64..10_000, d in 1usize..12, alpha in 0.1f64..3.0) {
        let mut r = rng(seed);
        let mut a = psd(d, d + 3, &mut r);
        for i in 0..d { a[(i, i)] += 0.1; }
        let copy = a.clone();
        let cut = Cutoff::for_dim(d);
        let half = psd_power(a.as_ref(), 0.5, cut).unwrap();
        prop_assert!(rel(&(&half * &half), &a) < 1e-9);
        let one = psd_power(a.as_ref(), 1.0, cut).unwrap();
        prop_assert!(rel(&one, &a) < 1e-12);
        let p = psd_power(a.as_ref(), alpha, cut).unwrap();
        let back = psd_power(p.as_ref(), 1.0 / alpha, cut).unwrap();
        prop_assert!(rel(&back, &a) < 1e-9);
        prop_assert!(a == copy, "input mutated");
    }

    /// Clipping: a rank-r PSD matrix keeps exactly r eigenvalues and its
    /// fractional powers stay PSD with the same support.
    #[test]
    fn rank_deficient_powers(seed in 0u64..10_000, d in 2usize..12, r_frac in 0.0f64..1.0, alpha in 0.1f64..1.0) {
        let r = 1 + ((d - 1) as f64 * r_frac) as usize;
        let a = psd(d, r, &mut rng(seed));
        let e = PsdEigen::new(a.as_ref(), Cutoff::for_dim(d), "A").unwrap();
        prop_assert_eq!(e.rank, r);
        let p = e.power(alpha).unwrap();
        let ep = PsdEigen::new(p.as_ref(), Cutoff::for_dim(d), "A^α").unwrap();
        prop_assert_eq!(ep.rank, r);
        // (A^α)^{1/α} = A on the support.
        let back = ep.power(1.0 / alpha).unwrap();
        prop_assert!(rel(&back, &a) < 1e-8);
    }

    /// Scale invariance: cosine, pearson and relerr_scaled do not see a
    /// positive rescaling of A; cosine and pearson are symmetric; relerr
    /// scales as |c|. Orthogonal conjugation of both leaves every convention
    /// unchanged except pearson (whose centring is basis dependent).
    /// Tolerance 1e-12: a few ε_mach times the O(d²) summations.
    #[test]
    fn similarity_invariances(seed in 0u64..10_000, d in 2usize..10, c in 0.01f64..100.0) {
        let mut r = rng(seed);
        let a = psd(d, d, &mut r);
        let b = psd(d, d, &mut r);
        let q = orthogonal(d, &mut r);
        let ca = &a * Scale(c);
        for kind in [Similarity::Cosine, Similarity::Pearson, Similarity::RelErrScaled] {
            let s = similarity(kind, a.as_ref(), b.as_ref()).unwrap();
            let sc = similarity(kind, ca.as_ref(), b.as_ref()).unwrap();
            prop_assert!((s - sc).abs() < 1e-12, "{kind}: {s} vs {sc}");
        }
        for kind in [Similarity::Cosine, Similarity::Pearson] {
            let ab = similarity(kind, a.as_ref(), b.as_ref()).unwrap();
            let ba = similarity(kind, b.as_ref(), a.as_ref()).unwrap();
            prop_assert!((ab - ba).abs() < 1e-12);
            prop_assert!((-1.0..=1.0).contains(&ab));
        }
        let e = similarity(Similarity::RelErr, a.as_ref(), b.as_ref()).unwrap();
        let e2 = similarity(Similarity::RelErr, ca.as_ref(), (&b * Scale(c)).as_ref()).unwrap();
        prop_assert!((e - e2).abs() < 1e-12 * (1.0 + e));
        for kind in [Similarity::Cosine, Similarity::RelErr, Similarity::RelErrScaled] {
            let s = similarity(kind, a.as_ref(), b.as_ref()).unwrap();
            let sq = similarity(kind, conj(&q, &a).as_ref(), conj(&q, &b).as_ref()).unwrap();
            prop_assert!((s - sq).abs() < 1e-10 * (1.0 + s.abs()), "{kind}: {s} vs {sq}");
        }
        // Identical matrices: perfect scores.
        prop_assert!((similarity(Similarity::Cosine, a.as_ref(), a.as_ref()).unwrap() - 1.0).abs() < 1e-14);
        prop_assert!(similarity(Similarity::RelErr, a.as_ref(), a.as_ref()).unwrap() == 0.0);
        prop_assert!(similarity(Similarity::RelErrScaled, ca.as_ref(), a.as_ref()).unwrap() < 1e-12);
    }

    /// Differential test: the O(d) eigenbasis scan equals the direct
    /// similarity of F and the explicitly formed G^α, for every convention.
    /// Tolerance 1e-9: the two round differently (rotation by V vs forming
    /// V w^α Vᵀ), each at ~d·ε_mach relative, amplified by cond(G)^α.
    #[test]
    fn scan_matches_direct(seed in 0u64..10_000, d in 2usize..10, r_frac in 0.0f64..1.0, alpha in 0.05f64..2.0) {
        let mut rn = rng(seed);
        let r = 1 + ((d - 1) as f64 * r_frac) as usize;
        let f = psd(d, d, &mut rn);
        let g = psd(d, r, &mut rn);
        let cut = Cutoff::for_dim(d);
        let scan = AlphaScan::new(f.as_ref(), g.as_ref(), cut).unwrap();
        let ga = psd_power(g.as_ref(), alpha, cut).unwrap();
        for kind in Similarity::ALL {
            let fast = scan.similarity(kind, alpha).unwrap();
            let slow = similarity(kind, f.as_ref(), ga.as_ref()).unwrap();
            prop_assert!((fast - slow).abs() < 1e-9 * (1.0 + slow.abs()), "{kind}: {fast} vs {slow}");
        }
    }

    /// All three estimators recover α from F = c·G^α with rank G ≥ 2, scale
    /// and orientation arbitrary. corr/fit: golden section to 1e-6 → 1e-5.
    /// eig: a least-squares slope whose only error is round-off in ln λ(F),
    /// about d·ε_mach·cond(F) relative, divided by the spread of ln λ(G).
    #[test]
    fn estimators_recover_alpha(seed in 0u64..10_000, d in 2usize..10, alpha in 0.05f64..1.9, c in 0.1f64..10.0) {
        let mut rn = rng(seed);
        let g = psd(d, d, &mut rn);
        let f = &psd_power(g.as_ref(), alpha, Cutoff::for_dim(d)).unwrap() * Scale(c);
        let w = PsdEigen::new(g.as_ref(), Cutoff::for_dim(d), "G").unwrap().values;
        let spread = (w[d - 1] / w[0]).ln();
        let eig_tol = 100.0 * d as f64 * f64::EPSILON * (w[d - 1] / w[0]).powf(alpha) / spread;
        let opts = AlphaOptions::default();
        for (est, tol) in [(AlphaEstimator::Corr, 1e-5), (AlphaEstimator::Fit, 1e-5), (AlphaEstimator::Eig, eig_tol)] {
            match estimate_alpha(f.as_ref(), g.as_ref(), est, &opts).unwrap() {
                AlphaEstimate::Identified { alpha: a, .. } => prop_assert!((a - alpha).abs() < tol, "{:?}: {a} vs {alpha}", est),
                other => prop_assert!(false, "{:?}: {:?}", est, other),
            }
        }
    }

    /// rank G = 1 makes α unidentifiable for every estimator, whatever F.
    #[test]
    fn rank_one_is_unidentifiable(seed in 0u64..10_000, d in 1usize..10) {
        let mut rn = rng(seed);
        let g = psd(d, 1, &mut rn);
        let f = psd(d, d, &mut rn);
        for est in AlphaEstimator::ALL {
            let e = estimate_alpha(f.as_ref(), g.as_ref(), est, &AlphaOptions::default()).unwrap();
            prop_assert_eq!(e, AlphaEstimate::Unidentifiable(metrics::Unidentifiable { rank: 1 }));
        }
    }

    /// The imbalance of W and its successor vanishes exactly when
    /// W_nextᵀW_next = WWᵀ, e.g. for W_next = Q·(W Wᵀ)^{1/2}-shaped layers.
    #[test]
    fn imbalance_definition(seed in 0u64..10_000, a in 1usize..6, b in 1usize..6, c in 1usize..6) {
        let mut rn = rng(seed);
        let w = gaussian(b, a, &mut rn);
        let wn = gaussian(c, b, &mut rn);
        let d = metrics::imbalance(w.as_ref(), wn.as_ref()).unwrap();
        let expected = wn.transpose() * &wn - &w * w.transpose();
        prop_assert!((&d - &expected).norm_l2() <= 1e-13 * (1.0 + expected.norm_l2()));
    }
}

#[test]
fn undefined_values_are_typed() {
    let z = Mat::<f64>::zeros(3, 3);
    let a = psd(3, 3, &mut rng(1));
    assert_eq!(
        similarity(Similarity::Cosine, a.as_ref(), z.as_ref()),
        Err(MetricError::Undefined(Undefined::ZeroMatrix { which: "B" }))
    );
    assert_eq!(
        similarity(Similarity::RelErr, a.as_ref(), z.as_ref()),
        Err(MetricError::Undefined(Undefined::ZeroMatrix { which: "B" }))
    );
    let ones = Mat::from_fn(3, 3, |_, _| 2.0);
    assert_eq!(
        similarity(Similarity::Pearson, ones.as_ref(), a.as_ref()),
        Err(MetricError::Undefined(Undefined::ConstantMatrix {
            which: "A"
        }))
    );
    assert!(matches!(
        estimate_alpha(
            a.as_ref(),
            z.as_ref(),
            AlphaEstimator::Corr,
            &AlphaOptions::default()
        ),
        Err(MetricError::Undefined(Undefined::ZeroMatrix {
            which: "AGOP"
        }))
    ));
    // An AGOP with one distinct non-zero eigenvalue (a projector) does not
    // identify α either.
    let identity = Mat::<f64>::identity(3, 3);
    assert!(matches!(
        estimate_alpha(
            a.as_ref(),
            identity.as_ref(),
            AlphaEstimator::Fit,
            &AlphaOptions::default()
        ),
        Ok(AlphaEstimate::Unidentifiable(_))
    ));
}

#[test]
fn bad_inputs_are_errors() {
    let a = psd(3, 3, &mut rng(2));
    let mut nan = a.clone();
    nan[(0, 1)] = f64::NAN;
    assert!(matches!(
        similarity(Similarity::Cosine, nan.as_ref(), a.as_ref()),
        Err(MetricError::NonFinite { .. })
    ));
    assert!(matches!(
        psd_power(nan.as_ref(), 0.5, Cutoff::for_dim(3)),
        Err(MetricError::NonFinite { .. })
    ));
    let rect = Mat::<f64>::zeros(2, 3);
    assert!(matches!(
        psd_power(rect.as_ref(), 0.5, Cutoff::for_dim(3)),
        Err(MetricError::NotSquare { .. })
    ));
    assert!(matches!(
        similarity(Similarity::Cosine, rect.as_ref(), a.as_ref()),
        Err(MetricError::ShapeMismatch { .. })
    ));
    let mut asym = a.clone();
    asym[(0, 1)] += 1.0;
    assert!(matches!(
        psd_power(asym.as_ref(), 0.5, Cutoff::for_dim(3)),
        Err(MetricError::NotSymmetric { .. })
    ));
    let neg = &a * Scale(-1.0);
    assert!(matches!(
        psd_power(neg.as_ref(), 0.5, Cutoff::for_dim(3)),
        Err(MetricError::NotPsd { .. })
    ));
    assert!(matches!(
        psd_power(a.as_ref(), f64::NAN, Cutoff::for_dim(3)),
        Err(MetricError::InvalidArgument { .. })
    ));
}

#[test]
fn agop_from_gradients_averages_over_samples_and_sums_over_outputs() {
    // Two samples, two outputs in R²: rows are ∇f_c(x_i).
    let rows = Mat::from_fn(4, 2, |i, j| {
        [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.0, 0.0]][i][j]
    });
    let g = metrics::agop_from_gradients(rows.as_ref(), 2).unwrap();
    let expected = Mat::from_fn(2, 2, |i, j| [[2.0, 1.0], [1.0, 5.0]][i][j] / 2.0);
    assert!(rel(&g, &expected) < 1e-15);
    assert!(metrics::agop_from_gradients(rows.as_ref(), 0).is_err());
}
