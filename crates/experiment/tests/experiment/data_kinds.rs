//! Every data kind prepares a data set of the shape its `DataSpec` states,
//! with its teacher where it has one, and statistics only for deep linear
//! networks.

use experiment::prepare;

use crate::{experiment, with};

/// (`[data]` body, n, d, C, has a teacher matrix).
const KINDS: [(&str, usize, usize, usize, bool); 8] = [
    (
        "kind = \"teacher\"\nsamples = 30\ninput_dim = 6\noutputs = 3",
        30,
        6,
        3,
        true,
    ),
    (
        "kind = \"teacher\"\nsamples = 30\ninput_dim = 6\noutputs = 3\ntarget = \"argmax_one_hot\"",
        30,
        6,
        3,
        true,
    ),
    ("kind = \"digits\"\nsamples = 25", 25, 64, 10, false),
    (
        "kind = \"digits\"\nsamples = 25\ntarget = \"parity\"",
        25,
        64,
        1,
        false,
    ),
    (
        "kind = \"synthetic\"\nsamples = 20\ninput_dim = 5\noutputs = 2",
        20,
        5,
        2,
        false,
    ),
    (
        "kind = \"relu_teacher\"\nsamples = 20\ninput_dim = 5\nteacher_width = 3\noutputs = 2",
        20,
        5,
        2,
        false,
    ),
    (
        "kind = \"whitened_teacher\"\nsamples = 20\ninput_dim = 8\nsignal = 2.0",
        20,
        8,
        1,
        true,
    ),
    (
        "kind = \"gaussian\"\nsamples = 15\ninput_dim = 4\noutputs = 3",
        15,
        4,
        3,
        false,
    ),
];

#[test]
fn every_kind_has_the_shapes_its_spec_states() {
    for (data, n, d, c, has_teacher) in KINDS {
        for network in [
            "depth = 2\nwidth = 4",
            "depth = 2\nwidth = 4\nactivation = \"tanh\"",
        ] {
            let exp = experiment(&with(data, network));
            assert_eq!(
                (exp.data.samples(), exp.data.input_dim(), exp.data.outputs()),
                (n, d, c),
                "{data}"
            );
            assert_eq!(exp.widths, [d, 4, c]);
            assert_eq!(exp.data.noise(), 0.0);
            let p = prepare(&exp).unwrap();
            assert_eq!(
                (p.data.len(), p.data.input_dim(), p.data.output_dim()),
                (n, d, c),
                "{data}"
            );
            assert_eq!(p.teacher.is_some(), has_teacher, "{data}");
            assert_eq!(p.stats.is_some(), exp.is_deep_linear(), "{data}\n{network}");
        }
    }
}

#[test]
fn targets_take_the_values_of_their_kind() {
    let parity = prepare(&experiment(&with(KINDS[3].0, "depth = 1"))).unwrap();
    assert!((0..25).all(|i| parity.data.y[(i, 0)].abs() == 1.0));
    let labels = prepare(&experiment(&with(KINDS[1].0, "depth = 1"))).unwrap();
    for i in 0..30 {
        let row: Vec<f64> = (0..3).map(|k| labels.data.y[(i, k)]).collect();
        assert_eq!(row.iter().filter(|&&v| v == 1.0 - 1.0 / 3.0).count(), 1);
        assert_eq!(row.iter().filter(|&&v| v == -1.0 / 3.0).count(), 2);
    }
    // ABP22: y = s·Xβ with ‖β‖ = 1 (the product re-done: equal bits).
    let whitened = prepare(&experiment(&with(KINDS[6].0, "depth = 1"))).unwrap();
    let beta = whitened.teacher.unwrap();
    assert!(
        (beta.norm_l2() - 1.0).abs() < 1e-15,
        "one rounding of β/‖β‖"
    );
    assert!(&whitened.data.x * &beta * faer::Scale(2.0) == whitened.data.y);
}

#[test]
fn label_noise_is_added_to_the_transformed_targets() {
    for data in [
        KINDS[1].0, KINDS[3].0, KINDS[4].0, KINDS[5].0, KINDS[6].0, KINDS[7].0,
    ] {
        let clean = prepare(&experiment(&with(data, "depth = 1"))).unwrap();
        let noisy_exp = experiment(&with(&format!("{data}\nnoise = 0.1"), "depth = 1"));
        assert_eq!(noisy_exp.data.noise(), 0.1);
        let noisy = prepare(&noisy_exp).unwrap();
        assert!(noisy.data.x == clean.data.x, "{data}");
        let mut expected = clean.data.y.clone();
        datasets::add_label_noise(
            &mut expected,
            0.1,
            &mut common::seed::rng(3, common::seed::Stream::LabelNoise),
        );
        assert!(noisy.data.y == expected, "{data}");
    }
}
