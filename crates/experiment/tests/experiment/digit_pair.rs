//! `kind = "digit_pair"` (ABP22 on digits, SPEC §5, §8): the training rows
//! in `data`, the held-out rows beside them, label noise on the training
//! targets only; the other kinds hold nothing out.

use experiment::prepare;

use crate::{experiment, with};

const PAIR: &str = "kind = \"digit_pair\"\nclasses = [0, 1]\nsamples = 240";

#[test]
fn the_pair_prepares_training_and_held_out_rows() {
    let exp = experiment(&with(PAIR, "depth = 2\nwidth = 4\nactivation = \"relu\""));
    assert_eq!(
        (exp.data.samples(), exp.data.input_dim(), exp.data.outputs()),
        (240, 64, 1)
    );
    let p = prepare(&exp).unwrap();
    let held = p.held_out.as_ref().unwrap();
    assert_eq!(
        (p.data.len(), p.data.input_dim(), p.data.output_dim()),
        (240, 64, 1)
    );
    assert_eq!(
        (held.len(), held.input_dim(), held.output_dim()),
        (120, 64, 1)
    );
    assert!(p.teacher.is_none() && p.stats.is_none());
    // The same split as the data set's own function on the seed's streams.
    let spec = datasets::DigitPairSpec {
        classes: [0, 1],
        samples: 240,
        gamma: 0.0,
        noise: 0.0,
    };
    let split = datasets::digit_pair(
        &spec,
        &mut common::seed::rng(3, common::seed::Stream::Data),
        &mut common::seed::rng(3, common::seed::Stream::LabelNoise),
    )
    .unwrap();
    assert!(split.train.x == p.data.x && split.held_out.x == held.x);

    let noisy = prepare(&experiment(&with(
        &format!("{PAIR}\nnoise = 0.1"),
        "depth = 1",
    )))
    .unwrap();
    let mut expected = p.data.y.clone();
    datasets::add_label_noise(
        &mut expected,
        0.1,
        &mut common::seed::rng(3, common::seed::Stream::LabelNoise),
    );
    assert!(noisy.data.y == expected);
    assert!(
        noisy.held_out.unwrap().y == held.y,
        "held-out targets stay clean"
    );

    let teacher = "kind = \"teacher\"\nsamples = 30\ninput_dim = 6\noutputs = 3";
    assert!(
        prepare(&experiment(&with(teacher, "depth = 1")))
            .unwrap()
            .held_out
            .is_none()
    );
}

#[test]
fn pair_fields_are_named() {
    for (data, field) in [
        (PAIR.replace("[0, 1]", "[1, 1]"), "data.classes"),
        (PAIR.replace("240", "360"), "data.samples"),
        (format!("{PAIR}\ngamma = -1.0"), "data.gamma"),
    ] {
        let e = experiment::Experiment::from_toml(&with(&data, "depth = 1"))
            .expect_err(&data)
            .to_string();
        assert!(e.starts_with(&format!("{field}: ")), "{e}");
    }
}
