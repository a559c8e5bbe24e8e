//! The data and init kinds are the constructions they stand for, bit for
//! bit: the runs of the papers' experiments keep their numbers when they
//! are expressed as configurations.

use common::seed::{Stream, rng};
use experiment::prepare;
use faer::Mat;
use networks::{Activation, Architecture};

/// `relu_teacher`'s targets are the outputs of the bias-free ReLU network
/// of its teacher layers under `networks::forward` (the same products and
/// activation in the same order: equal bits).
#[test]
fn relu_teacher_targets_are_mlp_forward_of_the_teacher() {
    let spec = datasets::ReluTeacherSpec {
        samples: 37,
        input_dim: 11,
        teacher_width: 19,
        outputs: 3,
        noise: 0.0,
    };
    let (data, [t1, t2]) = datasets::relu_teacher(
        &spec,
        &mut rng(5, Stream::Data),
        &mut rng(5, Stream::LabelNoise),
    )
    .unwrap();
    let teacher = Architecture::new(vec![11, 19, 3], Activation::Relu);
    let forward = networks::forward(&teacher, &[t1, t2], data.x.as_ref(), faer::Par::Seq).unwrap();
    assert!(*forward.output() == data.y);
}

/// `[init] kind = "small"` is ABP22's `W_l = σ/√d_{l−1} · G_l`, drawn layer
/// by layer from the init stream (and `gaussian` with the same σ is the
/// same arithmetic).
#[test]
fn small_init_is_sigma_over_root_fan_in_times_gaussian() {
    let widths = [10, 7, 7, 1];
    let sigma = 1e-3;
    let mut r = rng(9, Stream::Init);
    let by_hand: Vec<_> = widths
        .windows(2)
        .map(|w| {
            common::gaussian_matrix(w[1], w[0], &mut r) * faer::Scale(sigma / (w[0] as f64).sqrt())
        })
        .collect();
    for scheme in [
        init::InitScheme::Small { sigma },
        init::InitScheme::Gaussian { sigma: vec![sigma] },
    ] {
        let init = init::initialise(&widths, &scheme, &mut rng(9, Stream::Init)).unwrap();
        assert!(init.weights == by_hand, "{scheme:?}");
    }
}

/// The transforms are applied to the noiseless targets and the noise added
/// after them from the label-noise stream: with σ_ε = 0 a target is exactly
/// the transform of the plain data set.
#[test]
fn noiseless_targets_are_the_transforms_of_the_plain_data_set() {
    let exp = crate::experiment(&crate::with(
        "kind = \"digits\"\nsamples = 40\ntarget = \"parity\"",
        "depth = 1",
    ));
    let parity = prepare(&exp).unwrap().data;
    let plain = datasets::digits(
        &datasets::DigitsSpec {
            samples: 40,
            noise: 0.0,
            held_out: 0,
        },
        &mut rng(3, Stream::Data),
        &mut rng(3, Stream::LabelNoise),
    )
    .unwrap();
    assert!(parity.x == plain.x);
    assert!(parity.y == datasets::parity_targets(plain.y.as_ref()));
    let exp = crate::experiment(&crate::with(
        "kind = \"digits\"\nsamples = 40\ntarget = \"one_vs_rest\"",
        "depth = 1",
    ));
    let coded = prepare(&exp).unwrap().data;
    assert!(coded.x == plain.x);
    // One-hot − 1/C plus 1/C is the one-hot; ±1 is twice that minus one.
    let expected = Mat::from_fn(
        40,
        10,
        |i, k| {
            if plain.y[(i, k)] > 0.0 { 1.0 } else { -1.0 }
        },
    );
    assert!(coded.y == expected && datasets::one_vs_rest_targets(plain.y.as_ref()) == expected);

    let exp = crate::experiment(&crate::with(
        "kind = \"teacher\"\nsamples = 30\ninput_dim = 6\noutputs = 4\ntarget = \"argmax_one_hot\"",
        "depth = 1",
    ));
    let labels = prepare(&exp).unwrap();
    let spec = datasets::TeacherSpec {
        samples: 30,
        input_dim: 6,
        outputs: 4,
        rank: 4,
        noise: 0.0,
        anisotropy: 0.0,
    };
    let (plain, b) = datasets::teacher(
        &spec,
        &mut rng(3, Stream::Data),
        &mut rng(3, Stream::LabelNoise),
    )
    .unwrap();
    assert!(labels.data.x == plain.x && labels.teacher == Some(b));
    assert!(labels.data.y == datasets::argmax_one_hot(plain.y.as_ref()));
}

/// `gaussian` is BMA24's early-time data: X, then Y, drawn from the data
/// stream as two `gaussian_matrix` calls (equal bits).
#[test]
fn gaussian_data_is_inputs_then_targets_from_the_data_stream() {
    let exp = crate::experiment(&crate::with(
        "kind = \"gaussian\"\nsamples = 9\ninput_dim = 5\noutputs = 2",
        "depth = 2\nwidth = 4\nactivation = \"relu\"",
    ));
    let data = prepare(&exp).unwrap().data;
    let mut r = rng(3, Stream::Data);
    assert!(data.x == common::gaussian_matrix(9, 5, &mut r));
    assert!(data.y == common::gaussian_matrix(9, 2, &mut r));
}
