//! The files real PyTorch wrote (`fixtures/checkpoints/torch/`, made by its
//! `make.py`): the layers and shapes of `nn.Sequential(Linear(8, 16),
//! ReLU, Linear(16, 16), ReLU, Linear(16, 3))`, the training checkpoint's
//! state dict alone, and a forward pass against PyTorch's own outputs.

use checkpoint::{Checkpoint, read_checkpoint, read_npy};
use faer::{Mat, Par};
use networks::{Activation, Architecture, forward};

use crate::support::torch_fixture;

/// Layer prefixes and weight shapes `[out, in]` of the fixture's network.
const LAYERS: [(&str, [usize; 2]); 3] = [("0", [16, 8]), ("2", [16, 16]), ("4", [3, 16])];

fn read(name: &str) -> Checkpoint {
    let path = torch_fixture(name);
    read_checkpoint(&path, None).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_file_has_the_three_linear_layers_with_biases() {
    for file in ["model.pt", "checkpoint.pt", "model_f64.pt"] {
        let net = read(file);
        assert_eq!(net.layers.len(), 3, "{file}");
        for (layer, (prefix, [out, inp])) in net.layers.iter().zip(LAYERS) {
            assert_eq!(layer.weight_name, format!("{prefix}.weight"), "{file}");
            assert_eq!((layer.weight.nrows(), layer.weight.ncols()), (out, inp));
            let (name, b) = layer.bias.as_ref().expect("nn.Linear has a bias");
            assert_eq!(name, &format!("{prefix}.bias"), "{file}");
            assert_eq!((b.nrows(), b.ncols()), (1, out), "{file}");
        }
        assert_eq!(net.widths(), [8, 16, 16, 3], "{file}");
        // An explicit layer list finds the same layers.
        let prefixes: Vec<String> = LAYERS.iter().map(|(p, _)| p.to_string()).collect();
        let explicit = read_checkpoint(&torch_fixture(file), Some(&prefixes)).unwrap();
        assert_eq!(explicit.layers, net.layers, "{file}");
    }
}

#[test]
fn the_training_checkpoint_gives_the_same_matrices_as_the_state_dict() {
    // checkpoint.pt also holds "epoch" and the optimiser's state (six
    // momentum buffers of the parameters' shapes, under integer keys):
    // only the state dict is read, and its values are model.pt's.
    let (model, ckpt) = (read("model.pt"), read("checkpoint.pt"));
    assert_eq!(model.layers, ckpt.layers);
    // The weights after one SGD step are not PyTorch's initialisation
    // alone: nothing here is zero or repeated by construction.
    for l in &model.layers {
        let w = &l.weight;
        assert!((0..w.nrows()).all(|i| (0..w.ncols()).all(|j| w[(i, j)] != 0.0)));
    }
}

#[test]
fn float32_values_are_exact_and_the_float64_copy_equals_them() {
    // `.double()` widens exactly, so model_f64.pt holds model.pt's float32
    // values: equality, and every value is a float32.
    let (f32s, f64s) = (read("model.pt"), read("model_f64.pt"));
    assert_eq!(f32s.params(), f64s.params());
    for p in f32s.params() {
        for j in 0..p.ncols() {
            for i in 0..p.nrows() {
                let v = p[(i, j)];
                assert_eq!(v as f32 as f64, v);
            }
        }
    }
}

/// u = 2^-53, the unit round-off of f64, and γ_k = k·u / (1 − k·u).
fn gamma(k: usize) -> f64 {
    let u = f64::EPSILON / 2.0;
    k as f64 * u / (1.0 - k as f64 * u)
}

/// |M| entrywise.
fn abs(m: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].abs())
}

#[test]
fn the_forward_pass_reproduces_pytorchs_float64_outputs() {
    let net = read("model_f64.pt");
    let x = read_npy(&torch_fixture("x.npy"), "x").unwrap();
    let expected = read_npy(&torch_fixture("expected_f64.npy"), "expected").unwrap();
    let arch = Architecture {
        widths: net.widths(),
        activation: Activation::Relu,
        bias: true,
    };
    let params = net.params();
    let fwd = forward(&arch, &params, x.as_ref(), Par::Seq).unwrap();
    let out = fwd.output();
    assert_eq!((out.nrows(), out.ncols()), (20, 3));

    // Tolerance, derived rather than guessed: both sides compute h_l = W_l
    // a_{l−1} + b_l in f64 from the same weights and inputs, in different
    // summation orders (faer here, PyTorch's BLAS there, with or without
    // FMA). Any order of a length-k sum of products is within
    // γ_{k+1}·Σ|w||a| (+|b|) of the exact value (Higham, Accuracy and
    // Stability, §3.1; the +1 is the bias), so the two differ by at most
    // twice that; a difference δ_{l−1} already in the inputs grows by
    // |W_l|δ_{l−1}, and ReLU is 1-Lipschitz. Hence per entry
    //   δ_l ≤ |W_l| δ_{l−1} + 2 γ_{d_{l−1}+1} (|W_l||a_{l−1}| + |b_l|),
    // δ_0 = 0, evaluated below on our activations (second-order terms in
    // u are below the bound's own rounding). This is the tightest bound
    // f64 arithmetic allows without knowing PyTorch's summation order.
    let n = x.nrows();
    let mut delta = Mat::<f64>::zeros(n, arch.widths[0]);
    for l in 0..arch.depth() {
        let input = if l == 0 { &x } else { &fwd.post[l - 1] };
        let w = abs(&params[l]);
        let b = abs(&params[arch.depth() + l]);
        let g = 2.0 * gamma(arch.widths[l] + 1);
        let mut next = Mat::<f64>::zeros(n, arch.widths[l + 1]);
        for i in 0..n {
            for o in 0..w.nrows() {
                let (mut prop, mut scale) = (0.0, b[(0, o)]);
                for k in 0..w.ncols() {
                    prop += w[(o, k)] * delta[(i, k)];
                    scale += w[(o, k)] * input[(i, k)].abs();
                }
                next[(i, o)] = prop + g * scale;
            }
        }
        delta = next;
    }

    let (mut worst, mut worst_ratio, mut out_scale) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        for c in 0..3 {
            let d = (out[(i, c)] - expected[(i, c)]).abs();
            assert!(
                d <= delta[(i, c)],
                "output [{i}, {c}]: {} vs PyTorch {}: |Δ| = {d:e} > bound {:e}",
                out[(i, c)],
                expected[(i, c)],
                delta[(i, c)]
            );
            worst = worst.max(d);
            worst_ratio = worst_ratio.max(d / delta[(i, c)]);
            out_scale = out_scale.max(expected[(i, c)].abs());
        }
    }
    // The bound is not vacuous: it is ~1.5e-13 of the outputs' largest
    // magnitude (more than u·d because Σ|w||a| exceeds |Σ w a| where terms
    // cancel), checked below 1e-12 of it, while a weight read in the wrong
    // order or from the wrong tensor moves the outputs by O(1) of their
    // scale.
    let max_bound = (0..n)
        .flat_map(|i| (0..3).map(move |c| (i, c)))
        .map(|(i, c)| delta[(i, c)])
        .fold(0.0, f64::max);
    assert!(
        max_bound <= 1e-12 * out_scale,
        "bound {max_bound:e} vs max |F| {out_scale}"
    );
    eprintln!(
        "forward vs PyTorch: max |Δ| = {worst:e} (max |F| = {out_scale:.3}, max bound {max_bound:e}, worst |Δ|/bound = {worst_ratio:.3})"
    );
}
