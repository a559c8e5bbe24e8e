//! TMC25 Theorem B's mechanism as a property: gradient flow with weight decay
//! λ scales every imbalance exactly, `D_l(t) = e^{−2λt}D_l(0)`, for random
//! shapes, depths, initialisations and λ.

use deep_linear::{LinearObjective, RegressionStats};
use faer::{Mat, MatRef};
use init::{InitScheme, initialise};
use optim::{GradientFlow, run_gradient_flow};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn imbalances(w: &[Mat<f64>]) -> Vec<Mat<f64>> {
    let refs: Vec<MatRef<'_, f64>> = w.iter().map(|m| m.as_ref()).collect();
    metrics::imbalances(&refs).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Tolerance 1e-8·(1 + ‖D_l(0)‖): rtol = 1e-11 per step over ≲ 10³
    /// steps (the integrator's global error on O(1) weights).
    #[test]
    fn weight_decay_scales_every_imbalance(
        seed in 0u64..1000,
        widths in (2usize..=4).prop_flat_map(|depth| prop::collection::vec(1usize..=6, depth + 1)),
        lambda in 0.0f64..0.5,
        orthogonal in any::<bool>(),
        t_end in 0.5f64..5.0,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let scheme = if orthogonal { InitScheme::Orthogonal { gain: 1.0 } } else { InitScheme::Gaussian { sigma: vec![1.0] } };
        let init = initialise(&widths, &scheme, &mut rng).unwrap();
        let x = common::gaussian_matrix(20, widths[0], &mut rng);
        let y = common::gaussian_matrix(20, *widths.last().unwrap(), &mut rng);
        let stats = RegressionStats::new(x.as_ref(), y.as_ref()).unwrap();
        let mut obj = LinearObjective::new(&stats, &widths).unwrap();
        let flow = GradientFlow { rtol: 1e-11, atol: 1e-13, weight_decay: lambda, max_steps: 100_000 };
        let d0 = imbalances(&init.weights);
        let mut checked = 0;
        run_gradient_flow(&flow, &mut obj, &init.weights, &[0.0, t_end / 3.0, t_end], |c| {
            let decay = (-2.0 * lambda * c.time).exp();
            for (d, z) in imbalances(c.params).iter().zip(&d0) {
                let err = (d - z * faer::Scale(decay)).norm_l2();
                assert!(err <= 1e-8 * (1.0 + z.norm_l2()), "t = {}: {err}", c.time);
            }
            checked += 1;
        }).unwrap();
        prop_assert_eq!(checked, 3);
    }
}
