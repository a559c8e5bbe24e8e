//! Sequential (convolutional) networks against independent computations:
//! the fully connected path of this crate for MLP-shaped networks, a
//! direct loop convolution, central finite differences of the outputs with
//! respect to each pre-activation, the AGOP both ways, and block and panel
//! independence.

use faer::{Mat, MatRef, Par};
use networks::sequential::forward::forward;
use networks::sequential::objective::SequentialObjective;
use networks::sequential::tangents::{
    centred_agop, parameter_gradient_dots, parameter_gradients, sequential_tangents,
    summed_parameter_gradients,
};
use networks::{Activation, Architecture, Conv2d, Layer, Pool, Sequential, Shape};
use optim::Objective;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use test_support::Scheme;

fn rel(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    (a - b).norm_l2() / a.norm_l2().max(b.norm_l2()).max(f64::MIN_POSITIVE)
}

/// Gaussian parameters for `net`, scaled by 1/√fan-in, and n Gaussian samples.
fn setup(net: &Sequential, n: usize, seed: u64) -> (Vec<Mat<f64>>, Mat<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let layers = net.parameter_layers();
    let mut params: Vec<Mat<f64>> = layers
        .iter()
        .map(|&(_, (r, c), _)| {
            common::gaussian_matrix(r, c, &mut rng) * faer::Scale(1.0 / (c as f64).sqrt())
        })
        .collect();
    for &(_, (r, _), bias) in &layers {
        if bias {
            params.push(common::gaussian_matrix(1, r, &mut rng) * faer::Scale(0.1));
        }
    }
    let x = common::gaussian_matrix(n, net.input().size(), &mut rng);
    (params, x)
}

fn conv(channels: usize, kernel: usize, stride: usize, padding: usize, bias: bool) -> Layer {
    Layer::Conv2d(Conv2d {
        channels,
        kernel: [kernel, kernel],
        stride: [stride, stride],
        padding: [padding, padding],
        bias,
    })
}

/// A small CNN of every layer kind: conv, φ, max-pool, conv (stride 2),
/// φ, avg-pool, conv, φ, global average pool, flatten, linear, φ, linear.
fn cnn(activation: Activation, bias: bool, pooling: bool) -> Sequential {
    let pool = Pool {
        kernel: [2, 2],
        stride: [2, 2],
    };
    let mut layers = vec![conv(3, 3, 1, 1, bias), Layer::Activation(activation)];
    if pooling {
        layers.push(Layer::MaxPool2d(pool));
    }
    layers.extend([conv(4, 3, 2, 1, bias), Layer::Activation(activation)]);
    if pooling {
        layers.push(Layer::AvgPool2d(Pool {
            kernel: [2, 1],
            stride: [1, 1],
        }));
    }
    layers.extend([
        conv(5, 2, 1, 0, bias),
        Layer::Activation(activation),
        Layer::GlobalAvgPool,
        Layer::Flatten,
        Layer::Linear { outputs: 6, bias },
        Layer::Activation(activation),
        Layer::Linear { outputs: 3, bias },
    ]);
    Sequential::new(Shape::Image([2, 12, 10]), layers).unwrap()
}

/// [`cnn`] with average pooling in place of max pooling, which is not
/// differentiable at ties: a network for finite differences.
fn smooth_cnn(activation: Activation, bias: bool) -> Sequential {
    let layers = cnn(activation, bias, true)
        .layers()
        .iter()
        .map(|l| match l {
            Layer::MaxPool2d(p) => Layer::AvgPool2d(*p),
            other => *other,
        })
        .collect();
    Sequential::new(Shape::Image([2, 12, 10]), layers).unwrap()
}

/// A convolution computed by its definition, loop by loop.
fn direct_conv(
    input: &[f64],
    [c_in, h, w]: [usize; 3],
    weight: MatRef<'_, f64>,
    bias: Option<MatRef<'_, f64>>,
    conv: Conv2d,
) -> Vec<f64> {
    let [kh, kw] = conv.kernel;
    let oh = (h + 2 * conv.padding[0] - kh) / conv.stride[0] + 1;
    let ow = (w + 2 * conv.padding[1] - kw) / conv.stride[1] + 1;
    let mut out = vec![0.0; conv.channels * oh * ow];
    for o in 0..conv.channels {
        for i in 0..oh {
            for j in 0..ow {
                let mut s = bias.map_or(0.0, |b| b[(0, o)]);
                for c in 0..c_in {
                    for di in 0..kh {
                        for dj in 0..kw {
                            let (y, x) = (
                                (i * conv.stride[0] + di) as isize - conv.padding[0] as isize,
                                (j * conv.stride[1] + dj) as isize - conv.padding[1] as isize,
                            );
                            if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w {
                                let v = input[(c * h + y as usize) * w + x as usize];
                                s += weight[(o, (c * kh + di) * kw + dj)] * v;
                            }
                        }
                    }
                }
                out[(o * oh + i) * ow + j] = s;
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// An MLP as a sequential network has the fully connected path's
    /// outputs, PTK and AGOPs: the same sums in another order, so equal to
    /// a few ulps of accumulated rounding (1e-12 relative).
    #[test]
    fn mlp_shaped_networks_match_the_fully_connected_path(
        seed in 0u64..1000,
        widths in prop::collection::vec(1usize..7, 2..5),
        n in 1usize..9,
        bias in any::<bool>(),
        a in 0usize..6,
        block in 1usize..5,
    ) {
        let arch = Architecture { widths: widths.clone(), activation: Activation::ALL[a], bias };
        let net = Sequential::from_mlp(&arch).unwrap();
        // A one-layer network has no activation to recover.
        let back = net.as_mlp().unwrap();
        prop_assert_eq!(Sequential::from_mlp(&back).unwrap(), net.clone());
        let (params, x) = setup(&net, n, seed);
        let f = forward(&net, &params, x.as_ref(), 3, Par::Seq).unwrap();
        let f_mlp = networks::forward(&arch, &params, x.as_ref(), Par::Seq).unwrap();
        prop_assert!(rel(f.as_ref(), f_mlp.output().as_ref()) < 1e-12);
        let t = sequential_tangents(&net, &params, x.as_ref(), block).unwrap();
        let t_mlp = networks::tangents(&arch, &params, x.as_ref(), block).unwrap();
        let g_input = networks::agop_from_input_gradients(&arch, &params, x.as_ref(), block).unwrap();
        for l in 0..arch.depth() {
            prop_assert!(rel(t.ptk[l].as_ref(), t_mlp.ptk[l].as_ref()) < 1e-12, "PTK {l}");
            prop_assert!(rel(t.agop[l].as_ref(), t_mlp.agop[l].as_ref()) < 1e-12, "AGOP {l}");
            prop_assert!(rel(t.agop_input[l].as_ref(), g_input[l].as_ref()) < 1e-12, "input AGOP {l}");
        }
    }

    /// The chain-rule patch AGOP `WᵀKW/n` equals the Gram of the patch
    /// gradients (two orders of the same products: 1e-12 relative), and
    /// neither depends on the block size (sums regrouped: 1e-12).
    #[test]
    fn patch_agop_two_ways_and_blocks(
        seed in 0u64..1000,
        n in 1usize..7,
        bias in any::<bool>(),
        a in 0usize..6,
        pooling in any::<bool>(),
        block in 1usize..4,
    ) {
        let net = cnn(Activation::ALL[a], bias, pooling);
        let (params, x) = setup(&net, n, seed);
        let t = sequential_tangents(&net, &params, x.as_ref(), block).unwrap();
        let whole = sequential_tangents(&net, &params, x.as_ref(), n).unwrap();
        for j in 0..t.ptk.len() {
            prop_assert!(rel(t.agop[j].as_ref(), t.agop_input[j].as_ref()) < 1e-12, "layer {j}");
            prop_assert!(rel(t.ptk[j].as_ref(), whole.ptk[j].as_ref()) < 1e-12, "layer {j}");
        }
    }
}

/// im2col + GEMM against the loop definition of a convolution, over
/// strides, paddings, rectangular kernels and biases (the same products
/// summed in another order: 1e-13 relative).
#[test]
fn convolutions_match_their_definition() {
    let cases = [
        ([1, 5, 5], 3, [3, 3], [1, 1], [0, 0], false),
        ([2, 7, 6], 4, [3, 2], [2, 1], [1, 0], true),
        ([3, 4, 4], 2, [4, 4], [1, 1], [2, 2], true),
        ([2, 6, 9], 5, [1, 3], [3, 2], [0, 1], false),
    ];
    for (k, (input, channels, kernel, stride, padding, bias)) in cases.into_iter().enumerate() {
        let c = Conv2d {
            channels,
            kernel,
            stride,
            padding,
            bias,
        };
        let net =
            Sequential::new(Shape::Image(input), vec![Layer::Conv2d(c), Layer::Flatten]).unwrap();
        let (params, x) = setup(&net, 3, k as u64);
        let f = forward(&net, &params, x.as_ref(), 2, Par::Seq).unwrap();
        for i in 0..x.nrows() {
            let row: Vec<f64> = (0..x.ncols()).map(|e| x[(i, e)]).collect();
            let want = direct_conv(
                &row,
                input,
                params[0].as_ref(),
                bias.then(|| params[1].as_ref()),
                c,
            );
            let got: Vec<f64> = (0..f.ncols()).map(|e| f[(i, e)]).collect();
            let err = want
                .iter()
                .zip(&got)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(err <= 1e-13 * scale, "case {k}: {err} vs {scale}");
        }
    }
}

/// The PTK of every parametrised layer against central finite differences
/// of the outputs with respect to that layer's pre-activation, taken
/// through the rest of the network (a network of its own). Smooth
/// activations and average pooling: Richardson extrapolation at h = 1e-3
/// leaves a truncation of order h⁴ and a rounding of order ε/h ≈ 1e-13, so
/// 1e-8 relative bounds both with room.
#[test]
fn ptk_matches_finite_differences_of_the_rest_of_the_network() {
    for (seed, activation) in [
        (1, Activation::Tanh),
        (2, Activation::Gelu),
        (3, Activation::Quadratic),
    ] {
        let net = smooth_cnn(activation, true);
        let (params, x) = setup(&net, 2, seed);
        let t = sequential_tangents(&net, &params, x.as_ref(), 8).unwrap();
        let layers = net.parameter_layers();
        let split = split(&net, &params);
        for (j, &(k, (k_out, _), _)) in layers.iter().enumerate() {
            let Some(tail) = tail(&net, k) else { continue };
            let tail_params = join(&split[j + 1..]);
            let shape = net.shape_after(k);
            let positions = shape.size() / k_out;
            let before = Sequential::new(net.input(), net.layers()[..=k].to_vec()).unwrap();
            let before_params = join(&split[..=j]);
            let h = forward(&before, &before_params, x.as_ref(), 8, Par::Seq).unwrap();
            let mut want = Mat::<f64>::zeros(k_out, k_out);
            for i in 0..x.nrows() {
                // δ[c][e]: ∂f_c / ∂h_e at sample i.
                let mut delta = vec![vec![0.0; shape.size()]; net.outputs()];
                for e in 0..shape.size() {
                    for (c, row) in delta.iter_mut().enumerate() {
                        row[e] = test_support::derivative(1e-3, Scheme::Richardson, |s| {
                            let probe = Mat::from_fn(1, shape.size(), |_, q| {
                                h[(i, q)] + if q == e { s } else { 0.0 }
                            });
                            forward(&tail, &tail_params, probe.as_ref(), 1, Par::Seq).unwrap()
                                [(0, c)]
                        });
                    }
                }
                for row in &delta {
                    for p in 0..positions {
                        for a in 0..k_out {
                            for b in 0..k_out {
                                want[(a, b)] += row[a * positions + p] * row[b * positions + p];
                            }
                        }
                    }
                }
            }
            let err = rel(t.ptk[j].as_ref(), want.as_ref());
            assert!(err < 1e-8, "{activation} layer {k}: {err}");
        }
    }
}

/// Per parametrised layer, its weight and bias.
fn split(net: &Sequential, params: &[Mat<f64>]) -> Vec<(Mat<f64>, Option<Mat<f64>>)> {
    let layers = net.parameter_layers();
    let mut b = layers.len();
    layers
        .iter()
        .enumerate()
        .map(|(j, &(_, _, bias))| {
            let bias = bias.then(|| {
                b += 1;
                params[b - 1].clone()
            });
            (params[j].clone(), bias)
        })
        .collect()
}

fn join(parts: &[(Mat<f64>, Option<Mat<f64>>)]) -> Vec<Mat<f64>> {
    let mut p: Vec<Mat<f64>> = parts.iter().map(|(w, _)| w.clone()).collect();
    p.extend(parts.iter().filter_map(|(_, b)| b.clone()));
    p
}

/// The network after layer k (None if it has no parametrised layer).
fn tail(net: &Sequential, k: usize) -> Option<Sequential> {
    Sequential::new(net.shape_after(k), net.layers()[k + 1..].to_vec()).ok()
}

/// ReLU and max pooling (piecewise linear): at h = 1e-6 no Gaussian
/// pre-activation or pooling margin of these fixed seeds is crossed, so
/// central differences are exact up to rounding ε·|f|/h ≈ 1e-10.
#[test]
fn relu_and_max_pool_gradients_match_finite_differences() {
    let net = cnn(Activation::Relu, false, true);
    let (params, x) = setup(&net, 3, 11);
    // Through an identity 1×1 convolution in front of the network, the
    // pre-activation gradients of that layer are the input gradients, so
    // its PTK's trace is Σ_i Σ_c ‖∇_x f_c(x_i)‖².
    let mut input_agop_trace = 0.0;
    for i in 0..x.nrows() {
        for c in 0..net.outputs() {
            for e in 0..x.ncols() {
                let d = test_support::derivative(1e-6, Scheme::Central, |s| {
                    let probe = Mat::from_fn(1, x.ncols(), |_, q| {
                        x[(i, q)] + if q == e { s } else { 0.0 }
                    });
                    forward(&net, &params, probe.as_ref(), 1, Par::Seq).unwrap()[(0, c)]
                });
                input_agop_trace += d * d;
            }
        }
    }
    let mut layers = vec![conv(2, 1, 1, 0, false)];
    layers.extend_from_slice(net.layers());
    let wrapped = Sequential::new(net.input(), layers).unwrap();
    let mut wrapped_params = vec![Mat::<f64>::identity(2, 2)];
    wrapped_params.extend(params.iter().cloned());
    let tw = sequential_tangents(&wrapped, &wrapped_params, x.as_ref(), 8).unwrap();
    let ptk_trace: f64 = (0..2).map(|a| tw.ptk[0][(a, a)]).sum();
    let err = (ptk_trace - input_agop_trace).abs() / input_agop_trace;
    assert!(err <= 1e-8, "{err}");
}

/// Measuring leaves the parameters bit for bit as they were; shapes that
/// do not fit are named errors.
#[test]
fn measurement_does_not_touch_parameters_and_bad_shapes_are_named() {
    let net = cnn(Activation::Relu, true, true);
    let (params, x) = setup(&net, 2, 5);
    let copy = params.clone();
    sequential_tangents(&net, &params, x.as_ref(), 1).unwrap();
    assert_eq!(params, copy);
    let short = &params[..params.len() - 1];
    let e = sequential_tangents(&net, short, x.as_ref(), 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected"), "{e}");
    let wide = Mat::<f64>::zeros(2, x.ncols() + 1);
    let e = sequential_tangents(&net, &params, wide.as_ref(), 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("input shape [2, 12, 10]"), "{e}");
    let e = Sequential::new(
        Shape::Image([1, 2, 2]),
        vec![conv(1, 3, 1, 0, false), Layer::Flatten],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("layer 0 (conv2d) receives shape [1, 2, 2]"),
        "{e}"
    );
    let e = Sequential::new(
        Shape::Image([1, 4, 4]),
        vec![Layer::Linear {
            outputs: 2,
            bias: false,
        }],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("flatten first"), "{e}");
}

/// The per-sample parameter gradients against central finite differences
/// of each output with respect to each parameter (tanh and average
/// pooling, smooth: Richardson at h = 1e-3, truncation O(h⁴), rounding
/// ε/h; 1e-8 relative to the largest gradient bounds both).
#[test]
fn parameter_gradients_match_finite_differences() {
    for bias in [false, true] {
        let net = smooth_cnn(Activation::Tanh, bias);
        let (params, x) = setup(&net, 2, 21);
        let g = parameter_gradients(&net, &params, x.as_ref()).unwrap();
        assert_eq!(
            g.nrows(),
            networks::sequential::tangents::parameter_count(&net)
        );
        let (b, outputs) = (x.nrows(), net.outputs());
        let mut probe = params.clone();
        let mut row = 0;
        let scale = g.norm_max();
        for (k, p) in params.iter().enumerate() {
            for i in 0..p.nrows() {
                for j in 0..p.ncols() {
                    for c in 0..outputs {
                        for s in 0..b {
                            let d = test_support::derivative(1e-3, Scheme::Richardson, |t| {
                                probe[k][(i, j)] = p[(i, j)] + t;
                                forward(&net, &probe, x.subrows(s, 1), 1, Par::Seq).unwrap()[(0, c)]
                            });
                            probe[k][(i, j)] = p[(i, j)];
                            let err = (d - g[(row, c * b + s)]).abs();
                            assert!(
                                err <= 1e-8 * scale,
                                "bias {bias}, param {k} ({i}, {j}), output {c}: {err}"
                            );
                        }
                    }
                    row += 1;
                }
            }
        }
        assert_eq!(row, g.nrows());
    }
}

/// RBPB22's gradient-centred AGOP of the first layer against central
/// finite differences of the input gradients, centred over samples by
/// hand (tanh: smooth; central differences at h = 1e-5 leave O(h²) ≈ 1e-10
/// and rounding ε/h ≈ 1e-11 per entry: 1e-7 relative bounds the Gram).
#[test]
fn centred_agop_matches_centred_finite_difference_jacobians() {
    let arch = Architecture {
        widths: vec![4, 6, 5, 3],
        activation: Activation::Tanh,
        bias: true,
    };
    let net = Sequential::from_mlp(&arch).unwrap();
    let (params, x) = setup(&net, 7, 31);
    let got = centred_agop(&net, &params, x.as_ref(), 3).unwrap();
    let j = test_support::input_gradients(&x, 1e-5, |probe| {
        forward(&net, &params, probe, 8, Par::Seq).unwrap()
    });
    let (n, c) = (x.nrows(), net.outputs());
    let mut want = Mat::<f64>::zeros(4, 4);
    for o in 0..c {
        let rows = j.subrows(o * n, n);
        let mean = Mat::from_fn(1, 4, |_, k| rows.col(k).sum() / n as f64);
        for i in 0..n {
            let v = Mat::from_fn(1, 4, |_, k| rows[(i, k)] - mean[(0, k)]);
            want += v.transpose() * &v;
        }
    }
    want *= faer::Scale(1.0 / n as f64);
    let err = rel(got[0].as_ref(), want.as_ref());
    assert!(err < 1e-7, "{err}");
}

/// The centred AGOP removes part of every hidden layer's AGOP, all of the
/// readout's (whose input gradients do not depend on the sample), and all
/// of a linear network's (up to rounding in the means: below 1e-14 of G,
/// SPEC §1.1).
#[test]
fn centred_agop_removes_the_part_that_does_not_vary_with_the_sample() {
    let net = cnn(Activation::Gelu, true, true);
    let (params, x) = setup(&net, 5, 41);
    let centred = centred_agop(&net, &params, x.as_ref(), 2).unwrap();
    let t = sequential_tangents(&net, &params, x.as_ref(), 2).unwrap();
    // Below the last layer the input gradients vary with the sample, so
    // centring removes part of G, not all of it.
    for (j, g) in centred.iter().enumerate().take(centred.len() - 1) {
        assert!(g.norm_l2() < t.agop_input[j].norm_l2(), "layer {j}");
        assert!(g.norm_l2() > 1e-6 * t.agop_input[j].norm_l2(), "layer {j}");
    }
    // The last (linear) layer's input gradients are q_c = W_Lᵀe_c for
    // every sample: the centred AGOP is zero and G = Σ_c W_Lᵀe_c e_cᵀW_L =
    // W_LᵀW_L.
    let last = centred.len() - 1;
    let w = &params[last];
    assert!(centred[last].norm_l2() <= 1e-14 * t.agop_input[last].norm_l2());
    assert!(rel(t.agop_input[last].as_ref(), (w.transpose() * w).as_ref()) < 1e-12);
    let linear = cnn(Activation::Identity, false, false);
    let (params, x) = setup(&linear, 6, 42);
    let centred = centred_agop(&linear, &params, x.as_ref(), 4).unwrap();
    let t = sequential_tangents(&linear, &params, x.as_ref(), 4).unwrap();
    for (g, full) in centred.iter().zip(&t.agop_input) {
        assert!(
            g.norm_l2() <= 1e-14 * full.norm_l2(),
            "{} vs {}",
            g.norm_l2(),
            full.norm_l2()
        );
    }
}

/// The summed gradients and the gradient–vector products, computed
/// without per-sample gradients, against the per-sample gradients (the
/// same products in another order: 1e-12 relative).
#[test]
fn summed_gradients_and_dots_match_the_per_sample_gradients() {
    for bias in [false, true] {
        let net = cnn(Activation::Gelu, bias, true);
        let (params, x) = setup(&net, 4, 51);
        let g = parameter_gradients(&net, &params, x.as_ref()).unwrap();
        let (b, outputs) = (x.nrows(), net.outputs());
        let summed = summed_parameter_gradients(&net, &params, x.as_ref()).unwrap();
        let want = Mat::from_fn(g.nrows(), outputs, |p, c| {
            (0..b).map(|i| g[(p, c * b + i)]).sum()
        });
        assert!(rel(summed.as_ref(), want.as_ref()) < 1e-12);
        let mut rng = ChaCha8Rng::seed_from_u64(52);
        let v = common::gaussian_matrix(g.nrows(), outputs, &mut rng);
        let dots = parameter_gradient_dots(&net, &params, x.as_ref(), v.as_ref()).unwrap();
        let want = Mat::from_fn(b, outputs, |i, c| g.col(c * b + i).transpose() * v.col(c));
        assert!(rel(dots.as_ref(), want.as_ref()) < 1e-12);
    }
}

/// Inputs large enough to be cut into several panels (3×32×32 images and
/// ten outputs: fewer than 20 samples per panel) give the per-sample
/// gradients, their sum and their products one sample at a time would
/// give (the same products: bit for bit; the sum regrouped: 1e-13).
#[test]
fn several_panels_give_the_gradients_of_single_samples() {
    let net = Sequential::new(
        Shape::Image([3, 32, 32]),
        vec![
            conv(2, 3, 1, 1, true),
            Layer::Activation(Activation::Tanh),
            Layer::GlobalAvgPool,
            Layer::Flatten,
            Layer::Linear {
                outputs: 10,
                bias: false,
            },
        ],
    )
    .unwrap();
    let (params, x) = setup(&net, 20, 61);
    let n = x.nrows();
    let g = parameter_gradients(&net, &params, x.as_ref()).unwrap();
    let mut summed = Mat::<f64>::zeros(g.nrows(), 10);
    let v = common::gaussian_matrix(g.nrows(), 10, &mut ChaCha8Rng::seed_from_u64(62));
    let dots = parameter_gradient_dots(&net, &params, x.as_ref(), v.as_ref()).unwrap();
    for i in 0..n {
        let one = parameter_gradients(&net, &params, x.subrows(i, 1)).unwrap();
        for c in 0..10 {
            assert_eq!(g.col(c * n + i), one.col(c), "sample {i}, output {c}");
        }
        summed += summed_parameter_gradients(&net, &params, x.subrows(i, 1)).unwrap();
        let d = parameter_gradient_dots(&net, &params, x.subrows(i, 1), v.as_ref()).unwrap();
        assert_eq!(dots.row(i), d.row(0));
    }
    let all = summed_parameter_gradients(&net, &params, x.as_ref()).unwrap();
    assert!(rel(all.as_ref(), summed.as_ref()) < 1e-13);
}

/// The MSE gradient of a CNN against central finite differences of the
/// loss (tanh and average pooling: smooth; Richardson at h = 1e-3,
/// truncation O(h⁴), rounding ε/h: 1e-8 relative to the largest entry),
/// full batch and on a minibatch.
#[test]
fn objective_gradient_matches_finite_differences() {
    for bias in [false, true] {
        let net = smooth_cnn(Activation::Tanh, bias);
        let (params, x) = setup(&net, 5, 71);
        let y = common::gaussian_matrix(5, net.outputs(), &mut ChaCha8Rng::seed_from_u64(72));
        let mut objective = SequentialObjective::new(net.clone(), x.as_ref(), y.as_ref()).unwrap();
        let mut grad: Vec<Mat<f64>> = params
            .iter()
            .map(|p| Mat::zeros(p.nrows(), p.ncols()))
            .collect();
        let batch = [4usize, 1, 1];
        for rows in [None, Some(&batch[..])] {
            let (xb, yb) = match rows {
                None => (x.clone(), y.clone()),
                Some(b) => (
                    Mat::from_fn(b.len(), x.ncols(), |i, j| x[(b[i], j)]),
                    Mat::from_fn(b.len(), y.ncols(), |i, j| y[(b[i], j)]),
                ),
            };
            let loss = match rows {
                None => objective.loss_and_gradient(&params, &mut grad),
                Some(b) => objective.batch_loss_and_gradient(&params, b, &mut grad),
            };
            let mse = |p: &[Mat<f64>]| {
                let f = forward(&net, p, xb.as_ref(), 8, Par::Seq).unwrap();
                0.5 * (&f - &yb).squared_norm_l2() / xb.nrows() as f64
            };
            assert!((loss - mse(&params)).abs() <= 1e-14 * loss);
            let want = test_support::gradient(&params, 1e-3, Scheme::Richardson, mse);
            let scale = want.iter().map(|g| g.norm_max()).fold(0.0, f64::max);
            for (k, (g, w)) in grad.iter().zip(&want).enumerate() {
                let err = (g - w).norm_max();
                assert!(err <= 1e-8 * scale, "bias {bias}, param {k}: {err}");
            }
        }
    }
}

/// An MLP as a sequential network has the loss and gradient of the fully
/// connected objective (the same sums in another order: 1e-12 relative).
#[test]
fn objective_of_an_mlp_matches_the_fully_connected_objective() {
    let arch = Architecture {
        widths: vec![5, 7, 6, 3],
        activation: Activation::Gelu,
        bias: true,
    };
    let net = Sequential::from_mlp(&arch).unwrap();
    let (params, x) = setup(&net, 9, 81);
    let y = common::gaussian_matrix(9, 3, &mut ChaCha8Rng::seed_from_u64(82));
    let mut grad: Vec<Mat<f64>> = params
        .iter()
        .map(|p| Mat::zeros(p.nrows(), p.ncols()))
        .collect();
    let mut want = grad.clone();
    let loss = SequentialObjective::new(net, x.as_ref(), y.as_ref())
        .unwrap()
        .loss_and_gradient(&params, &mut grad);
    let expected = networks::MlpObjective::new(arch, x.as_ref(), y.as_ref())
        .unwrap()
        .loss_and_gradient(&params, &mut want);
    assert!((loss - expected).abs() <= 1e-12 * expected);
    for (g, w) in grad.iter().zip(&want) {
        assert!(rel(g.as_ref(), w.as_ref()) < 1e-12);
    }
}
