//! Exact gradients and losses of the deep linear network against independent
//! computations: central finite differences, the direct residual, and
//! finite-difference input Jacobians for the AGOP.

use deep_linear::{LinearObjective, RegressionStats, agop, forward};
use faer::Mat;
use optim::Objective;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use test_support::{Scheme, mse_direct};

fn random_problem(seed: u64, widths: &[usize], n: usize) -> (Vec<Mat<f64>>, Mat<f64>, Mat<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let layers = init::initialise(
        widths,
        &init::InitScheme::Gaussian { sigma: vec![1.0] },
        &mut rng,
    )
    .unwrap()
    .weights;
    let x = common::gaussian_matrix(n, widths[0], &mut rng);
    let y = common::gaussian_matrix(n, *widths.last().unwrap(), &mut rng);
    (layers, x, y)
}

fn widths_strategy() -> impl Strategy<Value = Vec<usize>> {
    (1usize..=4).prop_flat_map(|depth| prop::collection::vec(1usize..=5, depth + 1))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Central differences have truncation error O(h²·‖∇³ℒ‖) and rounding
    /// error O(ε_mach·ℒ/h); with h = 1e-5 both are ≲ 1e-9 for these O(1)
    /// problems, so 1e-6 relative (plus 1e-8 absolute) cannot be met by a
    /// wrong gradient but is met by a right one.
    #[test]
    fn gradient_matches_central_differences(seed in 0u64..1000, widths in widths_strategy(), n in 1usize..12) {
        let (layers, x, y) = random_problem(seed, &widths, n);
        let stats = RegressionStats::new(x.as_ref(), y.as_ref()).unwrap();
        let mut obj = LinearObjective::new(&stats, &widths).unwrap();
        let mut grad = optim::params::zeros_like(&layers);
        obj.loss_and_gradient(&layers, &mut grad);
        let fd_grad = test_support::gradient(&layers, 1e-5, Scheme::Central, |p| {
            mse_direct(p, x.as_ref(), y.as_ref()).unwrap()
        });
        for l in 0..layers.len() {
            for j in 0..layers[l].ncols() {
                for i in 0..layers[l].nrows() {
                    let fd = fd_grad[l][(i, j)];
                    let g = grad[l][(i, j)];
                    prop_assert!((fd - g).abs() <= 1e-6 * g.abs().max(fd.abs()) + 1e-8,
                        "layer {} entry ({},{}): fd {} vs exact {}", l + 1, i, j, fd, g);
                }
            }
        }
    }

    /// The loss from sufficient statistics equals the direct residual up to
    /// rounding of the O(1) terms that cancel (1e-12 relative to ‖Y‖²/2n).
    #[test]
    fn loss_from_statistics_matches_residual(seed in 0u64..1000, widths in widths_strategy(), n in 1usize..20) {
        let (layers, x, y) = random_problem(seed, &widths, n);
        let stats = RegressionStats::new(x.as_ref(), y.as_ref()).unwrap();
        let mut obj = LinearObjective::new(&stats, &widths).unwrap();
        let mut grad = optim::params::zeros_like(&layers);
        let loss = obj.loss_and_gradient(&layers, &mut grad);
        let direct = mse_direct(&layers, x.as_ref(), y.as_ref()).unwrap();
        let scale = stats.half_yy + direct + 1.0;
        prop_assert!((loss - direct).abs() <= 1e-12 * scale, "{} vs {}", loss, direct);
    }

    /// AGOP of layer 1 from finite-difference input Jacobians of the forward
    /// pass (per sample, per output) equals the closed form PᵀP. The forward
    /// pass is linear, so central differences are exact up to rounding
    /// (~ε_mach/h relative): tolerance 1e-8.
    #[test]
    fn agop_closed_form_matches_input_jacobians(seed in 0u64..1000, widths in widths_strategy(), n in 1usize..6) {
        let (layers, x, _) = random_problem(seed, &widths, n);
        let rows = test_support::input_gradients(&x, 1e-4, |x| forward(&layers, x).unwrap());
        let from_jacobians = metrics::agop_from_gradients(rows.as_ref(), n).unwrap();
        let closed = agop(&layers, 1).unwrap();
        let err = metrics::similarity(metrics::Similarity::RelErr, from_jacobians.as_ref(), closed.as_ref());
        if closed.norm_l2() > 1e-12 {
            prop_assert!(err.unwrap() < 1e-8);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A minibatch gradient equals the full gradient of the objective built
    /// from the batch rows alone (same formula, independent statistics);
    /// agreement to rounding of the two Gram products (1e-12 relative).
    #[test]
    fn minibatch_gradient_is_the_gradient_of_the_batch(seed in 0u64..1000, widths in widths_strategy(), n in 2usize..16, frac in 0.0f64..1.0) {
        let (layers, x, y) = random_problem(seed, &widths, n);
        let b = 1 + ((n - 1) as f64 * frac) as usize;
        let batch: Vec<usize> = (0..b).map(|k| (k * 7 + seed as usize) % n).collect();
        let stats = RegressionStats::new(x.as_ref(), y.as_ref()).unwrap();
        let mut obj = LinearObjective::new(&stats, &widths).unwrap().with_samples(x.as_ref(), y.as_ref()).unwrap();
        prop_assert_eq!(obj.samples(), n);
        let mut grad = optim::params::zeros_like(&layers);
        let loss = obj.batch_loss_and_gradient(&layers, &batch, &mut grad);
        let xb = Mat::from_fn(b, x.ncols(), |i, j| x[(batch[i], j)]);
        let yb = Mat::from_fn(b, y.ncols(), |i, j| y[(batch[i], j)]);
        let direct = mse_direct(&layers, xb.as_ref(), yb.as_ref()).unwrap();
        prop_assert!((loss - direct).abs() <= 1e-12 * (1.0 + direct));
        let bstats = RegressionStats::new(xb.as_ref(), yb.as_ref()).unwrap();
        let mut bobj = LinearObjective::new(&bstats, &widths).unwrap();
        let mut expected = optim::params::zeros_like(&layers);
        bobj.loss_and_gradient(&layers, &mut expected);
        for (g, e) in grad.iter().zip(&expected) {
            prop_assert!((g - e).norm_l2() <= 1e-12 * (1.0 + e.norm_l2()));
        }
    }
}
