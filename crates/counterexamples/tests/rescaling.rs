//! The rescaling symmetry as a property: for positively homogeneous
//! activations the function and the AGOP are unchanged (to round-off,
//! 1e-12 relative) while the NFM changes.

use counterexamples::rescaling::rescale;
use faer::Mat;
use networks::{Activation, Architecture, forward, tangents};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn rescaling_keeps_function_and_agop(
        seed in 0u64..1000,
        d in 1usize..6,
        h in 2usize..8,
        c_out in 1usize..4,
        n in 1usize..10,
        leaky in any::<bool>(),
        logs in prop::collection::vec(-3.0f64..3.0, 8),
    ) {
        let act = if leaky { Activation::LeakyRelu { slope: 0.2 } } else { Activation::Relu };
        let arch = Architecture::new(vec![d, h, c_out], act);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let params = init::initialise(&arch.widths, &init::InitScheme::Gaussian { sigma: vec![1.0] }, &mut rng).unwrap().weights;
        let x = common::gaussian_matrix(n, d, &mut rng);
        let c: Vec<f64> = (0..h).map(|i| logs[i].exp()).collect();
        let scaled = rescale(&params, &c);
        let f0 = forward(&arch, &params, x.as_ref(), faer::Par::Seq).unwrap();
        let f1 = forward(&arch, &scaled, x.as_ref(), faer::Par::Seq).unwrap();
        let rel = |a: &Mat<f64>, b: &Mat<f64>| (a - b).norm_l2() / b.norm_l2().max(1e-300);
        prop_assert!(rel(f1.output(), f0.output()) < 1e-12 || f0.output().norm_l2() < 1e-300);
        let g0 = tangents(&arch, &params, x.as_ref(), 4).unwrap().agop[0].clone();
        let g1 = tangents(&arch, &scaled, x.as_ref(), 4).unwrap().agop[0].clone();
        if g0.norm_l2() > 1e-300 {
            prop_assert!(rel(&g1, &g0) < 1e-12);
        }
        // The NFM is Σ c_i² w_i w_iᵀ: unchanged only if all c_i are equal to 1
        // on the units with non-zero weights.
        let nfm0 = metrics::nfm(params[0].as_ref());
        let nfm1 = metrics::nfm(scaled[0].as_ref());
        let expected = Mat::from_fn(d, d, |p, q| (0..h).map(|i| c[i] * c[i] * params[0][(i, p)] * params[0][(i, q)]).sum::<f64>());
        prop_assert!(rel(&nfm1, &expected) < 1e-12);
        if logs[..h].iter().any(|l| l.abs() > 0.1) {
            prop_assert!(rel(&nfm1, &nfm0) > 1e-6);
        }
    }
}
