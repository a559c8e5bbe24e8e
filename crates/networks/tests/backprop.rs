//! Backpropagation, PTK and AGOP against independent computations: central
//! finite differences of the loss and of the forward pass, the AGOP both
//! ways, block-size independence, and the deep linear closed form.

use faer::Mat;
use networks::{
    Activation, Architecture, MlpObjective, agop_from_input_gradients, agop_from_ptk, forward, mse,
    pre_activation_gradients, tangents,
};
use optim::Objective;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use test_support::Scheme;

fn setup(
    seed: u64,
    widths: &[usize],
    n: usize,
    bias: bool,
    act: Activation,
) -> (Architecture, Vec<Mat<f64>>, Mat<f64>, Mat<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = init::initialise(
        widths,
        &init::InitScheme::Gaussian { sigma: vec![1.0] },
        &mut rng,
    )
    .unwrap()
    .weights;
    if bias {
        for l in 1..widths.len() {
            params.push(common::gaussian_matrix(1, widths[l], &mut rng));
        }
    }
    let x = common::gaussian_matrix(n, widths[0], &mut rng);
    let y = common::gaussian_matrix(n, *widths.last().unwrap(), &mut rng);
    (
        Architecture {
            widths: widths.to_vec(),
            activation: act,
            bias,
        },
        params,
        x,
        y,
    )
}

fn widths() -> impl Strategy<Value = Vec<usize>> {
    (1usize..=4).prop_flat_map(|depth| prop::collection::vec(1usize..=5, depth + 1))
}

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_l2() / b.norm_l2().max(1e-300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Central differences with Richardson extrapolation,
    /// `(4·D(h/2) − D(h))/3` with h = 1e-4: truncation O(h⁴·ℒ⁽⁵⁾) and
    /// rounding O(ε·ℒ/h) ≈ 1e-12·ℒ; ReLU-type kinks are crossed with
    /// probability ~h per entry. Tolerance 1e-6 relative + 1e-9·(1 + ℒ).
    #[test]
    fn gradients_match_finite_differences(seed in 0u64..1000, widths in widths(), n in 1usize..8, bias in any::<bool>(), a in 0usize..6) {
        let act = Activation::ALL[a];
        let (arch, params, x, y) = setup(seed, &widths, n, bias, act);
        let mut obj = MlpObjective::new(arch.clone(), x.as_ref(), y.as_ref()).unwrap();
        let mut grad: Vec<Mat<f64>> = params.iter().map(|p| Mat::zeros(p.nrows(), p.ncols())).collect();
        let loss = obj.loss_and_gradient(&params, &mut grad);
        let fd_grad = test_support::gradient(&params, 1e-4, Scheme::Richardson, |p| {
            mse(&arch, p, x.as_ref(), y.as_ref(), faer::Par::Seq).unwrap()
        });
        for k in 0..params.len() {
            for j in 0..params[k].ncols() {
                for i in 0..params[k].nrows() {
                    let fd = fd_grad[k][(i, j)];
                    let g = grad[k][(i, j)];
                    prop_assert!((fd - g).abs() <= 1e-6 * fd.abs().max(g.abs()) + 1e-9 * (1.0 + loss), "{act}, param {k} ({i},{j}): fd {fd} vs {g}");
                }
            }
        }
    }

    /// The AGOP from per-sample input gradients equals W_lᵀK_lW_l/n to
    /// 1e-12 relative (two associations of the same products), for every
    /// layer; and the PTK does not depend on the block size.
    #[test]
    fn agop_two_ways_and_blocks(seed in 0u64..1000, widths in widths(), n in 1usize..12, a in 0usize..6, block in 1usize..5) {
        let (arch, params, x, _) = setup(seed, &widths, n, false, Activation::ALL[a]);
        let t = tangents(&arch, &params, x.as_ref(), block).unwrap();
        let whole = tangents(&arch, &params, x.as_ref(), n).unwrap();
        let from_gradients = agop_from_input_gradients(&arch, &params, x.as_ref(), block).unwrap();
        for l in 0..arch.depth() {
            let second = agop_from_ptk(params[l].as_ref(), t.ptk[l].as_ref(), n);
            prop_assert!(second == t.agop[l]);
            if from_gradients[l].norm_l2() > 1e-200 {
                prop_assert!(rel(&t.agop[l], &from_gradients[l]) < 1e-12, "layer {}: {}", l + 1, rel(&t.agop[l], &from_gradients[l]));
            }
            if whole.ptk[l].norm_l2() > 1e-200 {
                prop_assert!(rel(&t.ptk[l], &whole.ptk[l]) < 1e-12);
            }
        }
    }

    /// Differential test against the forward pass alone: the AGOP of layer 1
    /// from central-difference input Jacobians (h = 1e-6; smooth
    /// activations, truncation O(h²) → 1e-6 relative).
    #[test]
    fn agop_matches_finite_difference_jacobians(seed in 0u64..1000, widths in widths(), n in 1usize..5, a in prop::sample::select(vec![0usize, 3, 4, 5])) {
        let (arch, params, x, _) = setup(seed, &widths, n, false, Activation::ALL[a]);
        let rows = test_support::input_gradients(&x, 1e-6, |x| {
            forward(&arch, &params, x, faer::Par::Seq).unwrap().output().clone()
        });
        let fd = metrics::agop_from_gradients(rows.as_ref(), n).unwrap();
        let g = agop_from_input_gradients(&arch, &params, x.as_ref(), 3).unwrap();
        if g[0].norm_l2() > 1e-8 {
            prop_assert!(rel(&fd, &g[0]) < 1e-6, "{}", rel(&fd, &g[0]));
        }
    }
}

/// With φ = identity the network is deep linear: every layer's AGOP is the
/// closed form (W_L⋯W_l)ᵀ(W_L⋯W_l) of `deep-linear`.
/// Wide layers and many outputs make a panel one sample (C·max d_l f64s
/// = 512 KiB), so a block of n samples runs n panels through the reused
/// gradient buffers: the PTK must equal `GᵀG` of the whole stacked
/// gradients from `pre_activation_gradients` (no blocks, no panels), and
/// the AGOP from input gradients must agree with the chain rule. Both are
/// reassociations of the same sums: 1e-12 relative.
#[test]
fn panels_inside_a_block_match_the_whole_stacked_gradients() {
    for act in [Activation::Relu, Activation::Tanh] {
        let (arch, params, x, _) = setup(7, &[3, 1024, 5, 64], 5, false, act);
        let t = tangents(&arch, &params, x.as_ref(), 5).unwrap();
        let g = pre_activation_gradients(&arch, &params, x.as_ref(), faer::Par::Seq).unwrap();
        let from_gradients = agop_from_input_gradients(&arch, &params, x.as_ref(), 5).unwrap();
        for l in 0..arch.depth() {
            let whole = g[l].transpose() * &g[l];
            assert!(rel(&t.ptk[l], &whole) < 1e-12, "{act}, layer {}", l + 1);
            assert!(
                rel(&t.agop[l], &from_gradients[l]) < 1e-12,
                "{act}, layer {}",
                l + 1
            );
        }
    }
}

#[test]
fn identity_activation_recovers_the_linear_agop() {
    let widths = [5, 4, 6, 3];
    let (arch, params, x, _) = setup(7, &widths, 9, false, Activation::Identity);
    let t = tangents(&arch, &params, x.as_ref(), 4).unwrap();
    for l in 1..=3 {
        let closed = deep_linear_agop(&params, l);
        assert!(rel(&t.agop[l - 1], &closed) < 1e-13, "layer {l}");
    }
}

fn deep_linear_agop(params: &[Mat<f64>], l: usize) -> Mat<f64> {
    let refs: Vec<_> = params[l - 1..].iter().map(|m| m.as_ref()).collect();
    metrics::agop_linear(&refs).unwrap()
}

/// Measurement reads the parameters and leaves them bit-identical.
#[test]
fn measurement_does_not_touch_parameters() {
    let (arch, params, x, _) = setup(3, &[4, 6, 6, 2], 10, true, Activation::Relu);
    let before = params.clone();
    let _ = tangents(&arch, &params, x.as_ref(), 4).unwrap();
    let _ = forward(&arch, &params, x.as_ref(), faer::Par::Seq).unwrap();
    assert!(before == params);
}

#[test]
fn mismatched_shapes_are_named_errors() {
    let (arch, mut params, x, y) = setup(3, &[4, 6, 2], 5, false, Activation::Tanh);
    let wide = Mat::<f64>::zeros(5, 3);
    assert!(
        forward(&arch, &params, wide.as_ref(), faer::Par::Seq)
            .unwrap_err()
            .to_string()
            .contains("d_0 = 4")
    );
    assert!(MlpObjective::new(arch.clone(), x.as_ref(), wide.as_ref()).is_err());
    params[1] = Mat::zeros(2, 5);
    assert!(
        forward(&arch, &params, x.as_ref(), faer::Par::Seq)
            .unwrap_err()
            .to_string()
            .contains("W_2")
    );
    let _ = y;
}
