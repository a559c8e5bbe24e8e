//! The empirical NTK against independent computations: the closed form vs
//! the explicit parameter Jacobian (over shapes, activations, biases), the
//! two-layer linear formula `xᵀ(WᵀW + |a|²I)x'`, kernel ridge regression vs
//! a direct solve, and the alignments' defining properties.

use faer::{Mat, Par};
use networks::{Activation, Architecture, Conv2d, Layer, Pool, Sequential, Shape};
use ntk::{
    KernelRidge, Model, centered_kernel_target_alignment, centered_specialisation_matrix,
    diagonal_contrast, diagonal_excess, full_ntk, kernel_alignment, kernel_target_alignment,
    output_block, per_output_ntk, per_output_ntk_between, per_output_ntk_of, specialisation_matrix,
    top_k_alignment,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use test_support::jacobian_ntk;

fn network(
    seed: u64,
    widths: &[usize],
    bias: bool,
    act: Activation,
) -> (Architecture, Vec<Mat<f64>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params: Vec<Mat<f64>> = widths
        .windows(2)
        .map(|w| {
            let scale = 1.0 / (w[0] as f64).sqrt();
            common::gaussian_matrix(w[1], w[0], &mut rng) * faer::Scale(scale)
        })
        .collect();
    if bias {
        for &w in &widths[1..] {
            params.push(common::gaussian_matrix(1, w, &mut rng));
        }
    }
    (
        Architecture {
            widths: widths.to_vec(),
            activation: act,
            bias,
        },
        params,
    )
}

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_l2() / b.norm_l2().max(1e-300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Closed form `Σ_l ⟨a_{l−1}, a'_{l−1}⟩⟨δ_l, δ'_l⟩` vs `J Jᵀ` from the
    /// loss backpropagation: the same sums in a different order, so they
    /// agree to round-off (~P·ε relative for P ≤ 200 parameters); the
    /// tolerance 1e-12 is the issue's.
    #[test]
    fn closed_form_matches_jacobian(
        seed in 0u64..1000,
        widths in (1usize..=3).prop_flat_map(|l| prop::collection::vec(1usize..=5, l + 1)),
        n in 1usize..7,
        bias in any::<bool>(),
        a in 0usize..6,
    ) {
        let (arch, params) = network(seed, &widths, bias, Activation::ALL[a]);
        let x = common::gaussian_matrix(n, widths[0], &mut ChaCha8Rng::seed_from_u64(seed + 1));
        let closed = full_ntk(&arch, &params, x.as_ref(), Par::Seq).unwrap();
        let jac = jacobian_ntk(&arch, &params, x.as_ref()).unwrap();
        prop_assert!(rel(&closed, &jac) <= 1e-12, "relerr {}", rel(&closed, &jac));
        let per = per_output_ntk(&arch, &params, x.as_ref(), Par::Seq).unwrap();
        for (c, k) in per.iter().enumerate() {
            // Same products as the full kernel's diagonal blocks: round-off only.
            prop_assert!(rel(k, &output_block(closed.as_ref(), n, c)) <= 1e-12);
        }
        // Measuring never changes the parameters.
        let (_, again) = network(seed, &widths, bias, Activation::ALL[a]);
        prop_assert_eq!(params, again);
    }

    /// The cross kernel `Θ(X_1, X_2)` is the off-diagonal block of the
    /// kernel of the stacked data (same products; round-off only).
    #[test]
    fn cross_kernel_is_a_block(seed in 0u64..1000, n1 in 1usize..5, n2 in 1usize..5, a in 0usize..6) {
        let widths = [3, 4, 2];
        let (arch, params) = network(seed, &widths, false, Activation::ALL[a]);
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 7);
        let x = common::gaussian_matrix(n1 + n2, 3, &mut rng);
        let whole = per_output_ntk(&arch, &params, x.as_ref(), Par::Seq).unwrap();
        let cross = per_output_ntk_between(&arch, &params, x.subrows(0, n1), x.subrows(n1, n2), Par::Seq).unwrap();
        for c in 0..2 {
            let block = whole[c].submatrix(0, n1, n1, n2).to_owned();
            prop_assert!(rel(&cross[c], &block) <= 1e-12);
        }
    }
}

/// Two-layer linear `f = aᵀWx`: `Θ(x, x') = xᵀ(WᵀW + |a|² I)x'` (SPEC §5).
/// Tolerance 1e-12: the two sides sum the same products in another order.
#[test]
fn two_layer_linear_formula() {
    let (arch, params) = network(3, &[6, 9, 1], false, Activation::Identity);
    let x = common::gaussian_matrix(8, 6, &mut ChaCha8Rng::seed_from_u64(4));
    let k = &per_output_ntk(&arch, &params, x.as_ref(), Par::Seq).unwrap()[0];
    let (w, a) = (&params[0], &params[1]);
    let m = w.transpose() * w + Mat::<f64>::identity(6, 6) * faer::Scale(a.squared_norm_l2());
    let formula = &x * &m * x.transpose();
    assert!(rel(k, &formula) <= 1e-12, "relerr {}", rel(k, &formula));
}

/// Kernel ridge regression against a direct dense solve of
/// `(K + λI)α = Y` by LU (partial pivoting). Both are backward stable;
/// with cond(K + λI) ≤ ~1e4 here the forward error is ≤ ~1e4·ε, so 1e-10.
#[test]
fn kernel_ridge_matches_direct_solve() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let z = common::gaussian_matrix(12, 5, &mut rng);
    let k = &z * z.transpose();
    let y = common::gaussian_matrix(12, 2, &mut rng);
    let ridge = 0.1;
    let fit = KernelRidge::fit(k.as_ref(), y.as_ref(), ridge, Par::Seq).unwrap();
    let reg = &k + Mat::<f64>::identity(12, 12) * faer::Scale(ridge);
    let direct = faer::linalg::solvers::Solve::solve(&reg.partial_piv_lu(), y.as_ref());
    assert!(rel(&fit.coefficients().to_owned(), &direct) <= 1e-10);
    // Predictions on the training points: (K)(K + λI)^{-1}Y.
    let pred = fit.predict(k.as_ref()).unwrap();
    assert!(rel(&pred, &(&k * &direct)) <= 1e-10);
    // A singular kernel without ridge is a typed error, not NaN.
    let err = KernelRidge::fit(k.as_ref(), y.as_ref(), 0.0, Par::Seq).unwrap_err();
    assert!(matches!(err, ntk::NtkError::NotPositiveDefinite { .. }));
    assert!(KernelRidge::fit(k.as_ref(), y.as_ref(), f64::NAN, Par::Seq).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Alignments lie in [−1, 1] (Cauchy–Schwarz; PSD kernels give
    /// [0, 1]), are scale invariant, and `K = yyᵀ` is perfectly aligned.
    /// Tolerances: round-off of O(n²) sums, 1e-12.
    #[test]
    fn alignment_properties(seed in 0u64..1000, n in 2usize..10, r in 1usize..6, scale in 1e-3f64..1e3) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let z = common::gaussian_matrix(n, r, &mut rng);
        let k = &z * z.transpose();
        let y = common::gaussian_matrix(n, 1, &mut rng);
        let a = kernel_target_alignment(k.as_ref(), y.as_ref()).unwrap();
        prop_assert!((-1e-12..=1.0 + 1e-12).contains(&a));
        let scaled = &k * faer::Scale(scale);
        let b = kernel_target_alignment(scaled.as_ref(), y.as_ref()).unwrap();
        prop_assert!((a - b).abs() <= 1e-12);
        let yy = &y * y.transpose();
        prop_assert!((kernel_target_alignment(yy.as_ref(), y.as_ref()).unwrap() - 1.0).abs() <= 1e-12);
        prop_assert!((kernel_alignment(k.as_ref(), k.as_ref()).unwrap() - 1.0).abs() <= 1e-12);
        // All n eigenvectors capture all of the target.
        prop_assert!((top_k_alignment(k.as_ref(), y.as_ref(), n).unwrap() - 1.0).abs() <= 1e-12);
        let c = centered_kernel_target_alignment(k.as_ref(), y.as_ref());
        if let Ok(c) = c {
            prop_assert!((-1.0 - 1e-12..=1.0 + 1e-12).contains(&c));
        }
    }
}

/// The top-1 alignment of `K = v vᵀ + ε I` with `y = v` is 1 (v is the
/// leading eigenvector; exact up to eigensolver round-off, 1e-12).
#[test]
fn top_eigenfunction_alignment() {
    let v = Mat::from_fn(5, 1, |i, _| (i + 1) as f64);
    let k = &v * v.transpose() + Mat::<f64>::identity(5, 5) * faer::Scale(1e-3);
    assert!((top_k_alignment(k.as_ref(), v.as_ref(), 1).unwrap() - 1.0).abs() <= 1e-12);
    let e = Mat::from_fn(
        5,
        1,
        |i, _| if i == 0 { 1.0 } else { -1.0 / 4.0 * (i as f64) },
    );
    assert!(top_k_alignment(k.as_ref(), e.as_ref(), 1).unwrap() < 1.0);
}

/// Zero kernels and targets are typed undefined outcomes, not NaN.
#[test]
fn undefined_alignments_are_typed() {
    let zero = Mat::<f64>::zeros(4, 4);
    let y = Mat::from_fn(4, 1, |i, _| i as f64);
    let e = kernel_target_alignment(zero.as_ref(), y.as_ref()).unwrap_err();
    assert!(matches!(e, metrics::MetricError::Undefined(_)));
    let k = Mat::<f64>::identity(4, 4);
    let e = kernel_target_alignment(k.as_ref(), Mat::<f64>::zeros(4, 1).as_ref()).unwrap_err();
    assert!(matches!(e, metrics::MetricError::Undefined(_)));
    // A constant target has no centred alignment.
    let e = centered_kernel_target_alignment(k.as_ref(), Mat::<f64>::full(4, 1, 2.0).as_ref())
        .unwrap_err();
    assert!(matches!(e, metrics::MetricError::Undefined(_)));
    assert!(kernel_target_alignment(k.as_ref(), Mat::<f64>::zeros(3, 1).as_ref()).is_err());
}

/// Deep linear networks do not specialise (SPEC §6): for `f = A W x`,
/// `K_c = xᵀWᵀWx' + ‖A_c‖² xᵀx'`, so every `K_c` is a positive mix of the
/// same two kernels. Check the formula (round-off, 1e-12) and that the
/// specialisation matrix is computed per (kernel, target column).
#[test]
fn linear_per_output_kernels_share_features() {
    let (arch, params) = network(5, &[4, 6, 3], false, Activation::Identity);
    let x = common::gaussian_matrix(7, 4, &mut ChaCha8Rng::seed_from_u64(6));
    let ks = per_output_ntk(&arch, &params, x.as_ref(), Par::Seq).unwrap();
    let (w, a) = (&params[0], &params[1]);
    let feat = &x * w.transpose() * w * x.transpose();
    let lin = &x * x.transpose();
    for (c, k) in ks.iter().enumerate() {
        let ac = a.row(c).norm_l2().powi(2);
        let formula = &feat + &lin * faer::Scale(ac);
        assert!(rel(k, &formula) <= 1e-12);
    }
    let y = common::gaussian_matrix(7, 3, &mut ChaCha8Rng::seed_from_u64(8));
    let s = specialisation_matrix(&ks, y.as_ref()).unwrap();
    let sc = centered_specialisation_matrix(&ks, y.as_ref()).unwrap();
    for c in 0..3 {
        for c2 in 0..3 {
            let direct = kernel_target_alignment(ks[c].as_ref(), y.subcols(c2, 1)).unwrap();
            assert_eq!(s[(c, c2)], direct);
            let t = y.subcols(c2, 1);
            let direct = centered_kernel_target_alignment(ks[c].as_ref(), t).unwrap();
            assert_eq!(sc[(c, c2)], direct);
        }
    }
    // One kernel per target column, or no matrix.
    assert!(centered_specialisation_matrix(&ks[..2], y.as_ref()).is_err());
    assert!(diagonal_excess(s.as_ref()).unwrap().is_finite());
}

/// The diagonal contrast is 0 when every output shares one kernel up to
/// scale (the no-specialisation value, SPEC §8), equals C/(C−1) times the
/// mean diagonal of the double-centred S, and is positive for kernels built
/// from their own targets, while the minimum row margin of the shared
/// kernel is negative (the bias the contrast avoids).
#[test]
fn diagonal_contrast_is_zero_without_specialisation() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let (n, c) = (9, 4);
    let x = common::gaussian_matrix(n, 5, &mut rng);
    let y = common::gaussian_matrix(n, c, &mut rng);
    let base = &x * x.transpose();
    let shared: Vec<Mat<f64>> = (0..c).map(|k| &base * (1.0 + k as f64)).collect();
    let s = specialisation_matrix(&shared, y.as_ref()).unwrap();
    // Rounding of a few sums of O(1) alignments.
    assert!(diagonal_contrast(s.as_ref()).unwrap().abs() < 1e-14);
    assert!(diagonal_excess(s.as_ref()).unwrap() < 0.0);
    let own: Vec<Mat<f64>> = (0..c)
        .map(|k| &base + &(y.subcols(k, 1) * y.subcols(k, 1).transpose() * 10.0))
        .collect();
    let s = specialisation_matrix(&own, y.as_ref()).unwrap();
    let contrast = diagonal_contrast(s.as_ref()).unwrap();
    assert!(contrast > 0.0);
    let g = s.sum() / (c * c) as f64;
    let row = |i: usize| s.row(i).sum() / c as f64;
    let col = |j: usize| s.col(j).sum() / c as f64;
    let centred_trace: f64 = (0..c).map(|i| s[(i, i)] - row(i) - col(i) + g).sum();
    assert!((centred_trace / c as f64 * c as f64 / (c - 1) as f64 - contrast).abs() < 1e-14);
    assert!(diagonal_contrast(s.subrows(0, 3)).is_err());
}

/// The centred kernel `HKH` of a dense kernel.
fn centred(k: &Mat<f64>) -> Mat<f64> {
    let n = k.nrows();
    let h = Mat::<f64>::from_fn(n, n, |i, j| f64::from(i == j) - 1.0 / n as f64);
    &h * k * &h
}

/// Both undefined, or both defined and within `tol` of each other.
fn same_outcome(
    blocked: Result<f64, metrics::MetricError>,
    dense: Result<f64, metrics::MetricError>,
    tol: f64,
) -> Result<(), TestCaseError> {
    match (blocked, dense) {
        (Ok(b), Ok(d)) => prop_assert!((b - d).abs() <= tol, "blocked {b} vs dense {d}"),
        (Err(b), Err(d)) => prop_assert_eq!(b, d),
        (b, d) => prop_assert!(false, "blocked {b:?} vs dense {d:?}"),
    }
    Ok(())
}

fn no_progress(_: u64, _: u64) {}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Blocked statistics vs the dense per-output kernels, over shapes,
    /// activations, biases, outputs and tile and panel sizes (tiles of 1
    /// to n + 2 samples, most not dividing n): the same sums in another
    /// order, so they agree to round-off. Tolerance 1e-12 (the issue's;
    /// alignments lie in [−1, 1], so absolute and relative coincide), and
    /// the same typed outcome when a value is undefined.
    #[test]
    fn blocked_statistics_match_dense_kernels(
        seed in 0u64..1000,
        hidden in prop::collection::vec(1usize..=6, 0..=2),
        d in 1usize..=5,
        outputs in 1usize..=4,
        n in 1usize..=23,
        bias in any::<bool>(),
        a in 0usize..6,
        tile in 1usize..=25,
        panel_tiles in 1usize..=4,
    ) {
        let mut widths = vec![d];
        widths.extend(&hidden);
        widths.push(outputs);
        let (arch, params) = network(seed, &widths, bias, Activation::ALL[a]);
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
        let x = common::gaussian_matrix(n, d, &mut rng);
        let y = common::gaussian_matrix(n, outputs, &mut rng);
        let blocking = ntk::Blocking { tile, panel_tiles };
        let stats = ntk::kernel_statistics(&arch, &params, x.as_ref(), y.as_ref(), blocking, &mut no_progress).unwrap();
        let ks = per_output_ntk(&arch, &params, x.as_ref(), Par::Seq).unwrap();
        let ones = Mat::<f64>::full(n, 1, 1.0);
        for c in 0..outputs {
            let row_sums = &ks[c] * &ones;
            let blocked = stats.row_sums.subcols(c, 1).to_owned();
            prop_assert!((&blocked - &row_sums).norm_l2() <= 1e-12 * ks[c].norm_l2().max(1e-300) * (n as f64).sqrt());
            let hkh = centred(&ks[c]).squared_norm_l2();
            prop_assert!((stats.centered_norm_sq[c] - hkh).abs() <= 1e-12 * ks[c].squared_norm_l2().max(1e-300));
            for t in 0..outputs {
                let yt = y.subcols(t, 1);
                same_outcome(stats.alignment(c, t), kernel_target_alignment(ks[c].as_ref(), yt), 1e-12)?;
                same_outcome(
                    stats.centered_alignment(c, t),
                    centered_kernel_target_alignment(ks[c].as_ref(), yt),
                    1e-12,
                )?;
                same_outcome(stats.kernel_alignment(c, t), kernel_alignment(ks[c].as_ref(), ks[t].as_ref()), 1e-12)?;
            }
        }
        match (stats.specialisation_matrix(), specialisation_matrix(&ks, y.as_ref())) {
            (Ok(s), Ok(dense)) => prop_assert!((&s - &dense).norm_max() <= 1e-12),
            (Err(s), Err(dense)) => prop_assert_eq!(s, dense),
            (s, dense) => prop_assert!(false, "blocked {s:?} vs dense {dense:?}"),
        }
    }
}

/// Same bits whatever the thread count or panel size: tile pairs are summed
/// in a fixed order (row tile, then column tile) for a given tile size.
#[test]
fn blocked_statistics_are_bitwise_independent_of_threads_and_panels() {
    let (arch, params) = network(11, &[5, 9, 7, 3], true, Activation::Tanh);
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let x = common::gaussian_matrix(61, 5, &mut rng);
    let y = common::gaussian_matrix(61, 3, &mut rng);
    let run = |threads: usize, panel_tiles: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let blocking = ntk::Blocking {
                tile: 8,
                panel_tiles,
            };
            ntk::kernel_statistics(
                &arch,
                &params,
                x.as_ref(),
                y.as_ref(),
                blocking,
                &mut no_progress,
            )
            .unwrap()
        })
    };
    let reference = run(1, 1);
    for (threads, panel_tiles) in [(2, 1), (1, 3), (2, 3), (2, 16)] {
        assert_eq!(
            run(threads, panel_tiles),
            reference,
            "{threads} threads, {panel_tiles} tiles per panel"
        );
    }
}

/// The progress callback sees every tile pair of one triangle, ending at
/// the total: 61 samples in tiles of 8 are 8 tiles, 36 pairs.
#[test]
fn blocked_statistics_report_progress_to_the_end() {
    let (arch, params) = network(13, &[4, 6, 2], false, Activation::Relu);
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let x = common::gaussian_matrix(61, 4, &mut rng);
    let y = common::gaussian_matrix(61, 2, &mut rng);
    let mut seen = Vec::new();
    let blocking = ntk::Blocking {
        tile: 8,
        panel_tiles: 3,
    };
    ntk::kernel_statistics(
        &arch,
        &params,
        x.as_ref(),
        y.as_ref(),
        blocking,
        &mut |done, total| seen.push((done, total)),
    )
    .unwrap();
    assert_eq!(seen.first(), Some(&(0, 36)));
    assert_eq!(seen.last(), Some(&(36, 36)));
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
}

/// The memory plan: the peak estimate grows with the panel, the budget
/// picks the largest panel that fits, and a budget below the smallest
/// panel's need is refused with both sizes named.
#[test]
fn blocking_follows_the_memory_budget() {
    let arch = Architecture {
        widths: vec![100, 256, 256, 256, 256, 10],
        activation: Activation::Relu,
        bias: true,
    };
    let n = 50_000;
    let peak = |panel_tiles| {
        ntk::Blocking {
            tile: 256,
            panel_tiles,
        }
        .peak_bytes(&arch, n, 10, 2)
    };
    assert!((1..16).all(|p| peak(p) < peak(p + 1)));
    let b = ntk::Blocking::for_budget(256, &arch, n, 10, 2, peak(5) + 1).unwrap();
    assert_eq!(b.panel_tiles, 5);
    let b = ntk::Blocking::for_budget(256, &arch, n, 10, 2, u64::MAX).unwrap();
    assert_eq!(b.panel_tiles, ntk::statistics::MAX_PANEL_TILES);
    // 2 GB covers the largest panel at n = 50,000 for this network.
    assert!(peak(16) < 2_000_000_000, "{}", ntk::Bytes(peak(16)));
    let err = ntk::Blocking::for_budget(256, &arch, n, 10, 2, 1_000_000).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("n = 50000") && msg.contains("1.0 MB"), "{msg}");
    assert!(matches!(err, ntk::NtkError::Memory { needed, .. } if needed.0 == peak(1)));
}

/// A small CNN: conv 3×3 (padding 1), φ, max-pool 2, conv 2×2, φ, global
/// average pool, flatten, linear.
fn cnn(seed: u64, bias: bool, act: Activation, outputs: usize) -> (Sequential, Vec<Mat<f64>>) {
    let conv = |channels, kernel, padding| {
        Layer::Conv2d(Conv2d {
            channels,
            kernel: [kernel, kernel],
            stride: [1, 1],
            padding: [padding, padding],
            bias,
        })
    };
    let net = Sequential::new(
        Shape::Image([2, 6, 5]),
        vec![
            conv(3, 3, 1),
            Layer::Activation(act),
            Layer::MaxPool2d(Pool {
                kernel: [2, 2],
                stride: [2, 2],
            }),
            conv(4, 2, 0),
            Layer::Activation(act),
            Layer::GlobalAvgPool,
            Layer::Flatten,
            Layer::Linear { outputs, bias },
        ],
    )
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let layers = net.parameter_layers();
    let mut params: Vec<Mat<f64>> = layers
        .iter()
        .map(|&(_, (r, c), _)| {
            common::gaussian_matrix(r, c, &mut rng) * faer::Scale(1.0 / (c as f64).sqrt())
        })
        .collect();
    for &(_, (r, _), b) in &layers {
        if b {
            params.push(common::gaussian_matrix(1, r, &mut rng) * faer::Scale(0.1));
        }
    }
    (net, params)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The parameter-gradient NTK of an MLP written as a sequential network
    /// against the closed form of the fully connected path: two
    /// independent computations of the same kernels (the same products
    /// summed in another order: 1e-12 relative).
    #[test]
    fn parameter_gradient_ntk_matches_the_closed_form(
        seed in 0u64..1000,
        widths in prop::collection::vec(1usize..6, 2..5),
        n in 1usize..7,
        bias in any::<bool>(),
        a in 0usize..6,
    ) {
        let (arch, params) = network(seed, &widths, bias, Activation::ALL[a]);
        let net = Sequential::from_mlp(&arch).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
        let x = common::gaussian_matrix(n, widths[0], &mut rng);
        let closed = per_output_ntk(&arch, &params, x.as_ref(), Par::Seq).unwrap();
        let grads = per_output_ntk_of(Model::Sequential(&net), &params, x.as_ref(), Par::Seq).unwrap();
        for (k, g) in closed.iter().zip(&grads) {
            prop_assert!((k - g).norm_l2() <= 1e-12 * k.norm_l2().max(1e-300));
        }
    }

    /// Blocked statistics of a CNN against its dense per-output kernels,
    /// over tile and panel sizes (1e-12, as for the fully connected
    /// networks above).
    #[test]
    fn blocked_cnn_statistics_match_dense_kernels(
        seed in 0u64..1000,
        n in 1usize..=9,
        bias in any::<bool>(),
        tile in 1usize..=10,
        panel_tiles in 1usize..=3,
    ) {
        let (net, params) = cnn(seed, bias, Activation::Tanh, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
        let x = common::gaussian_matrix(n, net.input().size(), &mut rng);
        let y = common::gaussian_matrix(n, 3, &mut rng);
        let model = Model::Sequential(&net);
        let blocking = ntk::Blocking { tile, panel_tiles };
        let stats = ntk::kernel_statistics_of(model, &params, x.as_ref(), y.as_ref(), blocking, &mut no_progress).unwrap();
        let ks = per_output_ntk_of(model, &params, x.as_ref(), Par::Seq).unwrap();
        for c in 0..3 {
            let hkh = centred(&ks[c]).squared_norm_l2();
            prop_assert!((stats.centered_norm_sq[c] - hkh).abs() <= 1e-12 * ks[c].squared_norm_l2().max(1e-300));
            for t in 0..3 {
                let yt = y.subcols(t, 1);
                same_outcome(stats.alignment(c, t), kernel_target_alignment(ks[c].as_ref(), yt), 1e-12)?;
                same_outcome(stats.centered_alignment(c, t), centered_kernel_target_alignment(ks[c].as_ref(), yt), 1e-12)?;
                same_outcome(stats.kernel_alignment(c, t), kernel_alignment(ks[c].as_ref(), ks[t].as_ref()), 1e-12)?;
            }
        }
    }
}

/// A CNN's NTK entry against finite differences of the outputs in every
/// parameter, `Σ_θ ∂f_c(x)/∂θ ∂f_c(x')/∂θ` (tanh: smooth; Richardson at
/// h = 1e-3, truncation O(h⁴), rounding ε/h: 1e-8 relative).
#[test]
fn cnn_ntk_matches_finite_difference_jacobians() {
    let (net, params) = cnn(3, true, Activation::Tanh, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let x = common::gaussian_matrix(3, net.input().size(), &mut rng);
    let ks = per_output_ntk_of(Model::Sequential(&net), &params, x.as_ref(), Par::Seq).unwrap();
    let f = |p: &[Mat<f64>], i: usize, c: usize| {
        networks::sequential::forward::forward(&net, p, x.subrows(i, 1), 1, Par::Seq).unwrap()
            [(0, c)]
    };
    for c in 0..2 {
        let jac: Vec<Vec<Mat<f64>>> = (0..3)
            .map(|i| {
                test_support::gradient(&params, 1e-3, test_support::Scheme::Richardson, |p| {
                    f(p, i, c)
                })
            })
            .collect();
        for i in 0..3 {
            for j in 0..3 {
                let want: f64 = jac[i]
                    .iter()
                    .zip(&jac[j])
                    .map(|(a, b)| (a.transpose() * b).diagonal().column_vector().sum())
                    .sum();
                let err = (ks[c][(i, j)] - want).abs() / ks[c].norm_max();
                assert!(err <= 1e-8, "output {c} ({i}, {j}): {err}");
            }
        }
    }
}

/// A budget too small for one tile of a CNN's gradients shrinks the tile
/// instead of refusing, down to one sample; below that, a typed refusal.
#[test]
fn cnn_blocking_shrinks_tiles_to_the_budget() {
    let (net, _) = cnn(1, false, Activation::Relu, 3);
    let model = Model::Sequential(&net);
    let full = ntk::Blocking::for_budget_of(256, model, 1000, 3, 2, u64::MAX).unwrap();
    assert_eq!(full.tile, 256);
    let small_budget = ntk::Blocking {
        tile: 8,
        panel_tiles: 1,
    }
    .peak_bytes_of(model, 1000, 3, 2);
    let small = ntk::Blocking::for_budget_of(256, model, 1000, 3, 2, small_budget).unwrap();
    assert!(
        small.tile <= 8 && small.peak_bytes_of(model, 1000, 3, 2) <= small_budget,
        "{small:?}"
    );
    assert!(matches!(
        ntk::Blocking::for_budget_of(256, model, 1000, 3, 2, 1000),
        Err(ntk::NtkError::Memory { .. })
    ));
}
