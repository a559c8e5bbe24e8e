//! Invalid configurations are one-line errors that name the field.

use experiment::{ConfigError, Experiment};

use crate::with;

/// The error of `text`, checked to be one line naming `field`.
fn error(text: &str, field: &str) -> String {
    let e = Experiment::from_toml(text).expect_err(text).to_string();
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with(&format!("{field}: ")),
        "`{field}` not named: {e}"
    );
    e
}

const TEACHER: &str = "kind = \"teacher\"\nsamples = 20\ninput_dim = 4\noutputs = 2";
const NETWORK: &str = "depth = 2\nwidth = 5";

#[test]
fn an_unknown_activation_is_named() {
    let e = error(
        &with(TEACHER, &format!("{NETWORK}\nactivation = \"foo\"")),
        "network.activation",
    );
    assert!(
        e.contains("unknown activation `foo`") && e.contains("relu"),
        "{e}"
    );
}

#[test]
fn every_activation_name_of_mlp_is_accepted() {
    for a in networks::Activation::ALL {
        let exp = crate::experiment(&with(
            TEACHER,
            &format!("{NETWORK}\nactivation = \"{}\"", a.name()),
        ));
        assert_eq!(exp.activation, a);
        assert_eq!(exp.architecture().activation, a);
        assert_eq!(exp.is_deep_linear(), a == networks::Activation::Identity);
    }
}

#[test]
fn synthetic_needs_no_more_outputs_than_inputs() {
    let e = error(
        &with(
            "kind = \"synthetic\"\nsamples = 10\ninput_dim = 3\noutputs = 4",
            NETWORK,
        ),
        "data.outputs",
    );
    assert!(
        e.contains("at most input_dim = 3") && e.contains("got 4"),
        "{e}"
    );
}

#[test]
fn data_fields_are_named() {
    let cases = [
        (
            format!("{TEACHER}\ntarget = \"argmax_one_hot\"").replace("outputs = 2", "outputs = 1"),
            "data.outputs",
        ),
        (
            "kind = \"relu_teacher\"\nsamples = 10\ninput_dim = 3\nteacher_width = 0\noutputs = 1"
                .to_owned(),
            "data.teacher_width",
        ),
        (
            "kind = \"whitened_teacher\"\nsamples = 10\ninput_dim = 3\ngamma = -0.5".to_owned(),
            "data.gamma",
        ),
        (
            "kind = \"whitened_teacher\"\nsamples = 10\ninput_dim = 3\nsignal = 0.0".to_owned(),
            "data.signal",
        ),
        (
            "kind = \"synthetic\"\nsamples = 0\ninput_dim = 3".to_owned(),
            "data.samples",
        ),
        (
            "kind = \"digits\"\nsamples = 10\ntarget = \"parity\"\nnoise = -1.0".to_owned(),
            "data.noise",
        ),
    ];
    for (data, field) in cases {
        error(&with(&data, NETWORK), field);
    }
}

/// A target is read while its `[data]` table is (the table's kind decides
/// its fields), so the error's line is the table's and its message names
/// the field.
#[test]
fn an_unknown_target_is_named() {
    let text = with(&format!("{TEACHER}\ntarget = \"parity\""), NETWORK);
    match Experiment::from_toml(&text) {
        Err(ConfigError::Parse { line, message }) => {
            assert_eq!(line, 2, "{message}");
            assert_eq!(
                message,
                "data.target: unknown target `parity`, expected `linear` or `argmax_one_hot`"
            );
        }
        other => panic!("{other:?}"),
    }
    let text = with("kind = \"digits\"\ntarget = \"linear\"", NETWORK);
    let e = Experiment::from_toml(&text).unwrap_err().to_string();
    assert!(e.contains("expected `one_hot` or `parity`"), "{e}");
}

#[test]
fn checkpoints_must_suit_the_dynamics() {
    let gd = with(TEACHER, NETWORK);
    let flow = gd.replace(
        "kind = \"gd\"\nlearning_rate = 0.05",
        "kind = \"gradient_flow\"",
    );
    let e = error(&flow, "checkpoints.kind");
    assert!(e.contains("discrete optimiser"), "{e}");
    let converged = "kind = \"until_converged\"\nt_first = 0.01\nper_decade = 2\ntolerance = 1e-6";
    let e = error(
        &gd.replace("kind = \"steps\"\nsteps = [0, 10, 50]", converged),
        "checkpoints.kind",
    );
    assert!(e.contains("gradient flow"), "{e}");
    crate::experiment(&flow.replace("kind = \"steps\"\nsteps = [0, 10, 50]", converged));
}

#[test]
fn checkpoint_fields_are_named() {
    let gd = with(TEACHER, NETWORK);
    let flow = gd.replace(
        "kind = \"gd\"\nlearning_rate = 0.05",
        "kind = \"gradient_flow\"",
    );
    let steps = "kind = \"steps\"\nsteps = [0, 10, 50]";
    for (body, field) in [
        ("kind = \"steps\"\nsteps = [0, 10, 10]", "checkpoints.steps"),
        ("kind = \"steps\"\nsteps = []", "checkpoints.steps"),
        (
            "kind = \"log_steps\"\ntotal = 0\ncount = 3",
            "checkpoints.total",
        ),
        (
            "kind = \"log_steps\"\ntotal = 10\ncount = 0",
            "checkpoints.count",
        ),
    ] {
        error(&gd.replace(steps, body), field);
    }
    for (body, field) in [
        (
            "kind = \"until_converged\"\nt_first = 0.0\nper_decade = 2\ntolerance = 1e-6",
            "checkpoints.t_first",
        ),
        (
            "kind = \"until_converged\"\nt_first = 0.1\nper_decade = 0\ntolerance = 1e-6",
            "checkpoints.per_decade",
        ),
        (
            "kind = \"until_converged\"\nt_first = 0.1\nper_decade = 2\ntolerance = 1.0",
            "checkpoints.tolerance",
        ),
    ] {
        error(&flow.replace(steps, body), field);
    }
    let e = error(
        &gd.replace(steps, "kind = \"steps\"\nsteps = [0, 10, 10]"),
        "checkpoints.steps",
    );
    assert!(e.contains("strictly increasing, got 10 after 10"), "{e}");
}

/// SB21's checkpoints (`log_steps` of `crates/claims/src/sb21/mod.rs`): step 0
/// and distinct rounded powers `total^{j/(count−2)}`.
#[test]
fn log_steps_are_zero_and_distinct_rounded_powers() {
    use experiment::config::log_steps;
    assert_eq!(log_steps(1000, 5), [0, 1, 10, 100, 1000]);
    assert_eq!(
        log_steps(100, 12),
        [0, 1, 2, 3, 4, 6, 10, 16, 25, 40, 63, 100]
    );
    assert_eq!(log_steps(1, 4), [0, 1]);
    let exp = crate::experiment(&with(TEACHER, NETWORK).replace(
        "kind = \"steps\"\nsteps = [0, 10, 50]",
        "kind = \"log_steps\"\ntotal = 1000\ncount = 5",
    ));
    assert_eq!(
        exp.checkpoints,
        experiment::config::Checkpoints::Steps(vec![0, 1, 10, 100, 1000])
    );
}

#[test]
fn a_speed_limit_names_its_layer_and_speed() {
    let speed_limited = |fields: &str| {
        with(TEACHER, NETWORK).replace(
            "kind = \"gd\"\nlearning_rate = 0.05",
            &format!("kind = \"speed_limited\"\nlearning_rate = 0.05\n{fields}"),
        )
    };
    // Layers are 1-based weight layers of this depth-2 network.
    for layer in [0, 3] {
        let e = error(
            &speed_limited(&format!("speed = 0.1\nlayer = {layer}")),
            "dynamics.layer",
        );
        assert!(e.contains("1..=2") && e.contains(&layer.to_string()), "{e}");
    }
    error(&speed_limited("speed = 0.0\nlayer = 1"), "dynamics.speed");
    let exp =
        Experiment::from_toml(&speed_limited("speed = 0.1\nlayer = 2\nbatch_size = 4")).unwrap();
    // Weight layer 2 is parameter matrix 1.
    match exp.dynamics {
        experiment::config::Dynamics::Discrete(o) => assert_eq!(
            o.params().method,
            optim::Method::SpeedLimited {
                layer: 1,
                speed: 0.1
            }
        ),
        other => panic!("{other:?}"),
    }
}

const DIGITS: &str = "kind = \"digits\"\nsamples = 40";
const CONV: &str = "input = [1, 8, 8]\n\
    [[network.layers]]\ntype = \"conv2d\"\nchannels = 3\nkernel = 3\npadding = 1\n\
    [[network.layers]]\ntype = \"relu\"\n\
    [[network.layers]]\ntype = \"global_avg_pool\"\n\
    [[network.layers]]\ntype = \"flatten\"\n\
    [[network.layers]]\ntype = \"linear\"\noutputs = 10";

#[test]
fn a_convolutional_network_is_checked_against_its_data() {
    let exp = Experiment::from_toml(&with(DIGITS, CONV)).unwrap();
    assert_eq!(exp.depth(), 2);
    assert!(!exp.is_deep_linear());
    // 3 filters of 1·3·3 at 64 positions, and the 10 × 3 readout.
    assert_eq!(exp.weight_count(), 27 + 30);
    assert_eq!(exp.sample_work(), 27 * 64 + 30);
    let e = error(
        &with(DIGITS, &CONV.replace("[1, 8, 8]", "[1, 8, 7]")),
        "network.input",
    );
    assert!(e.contains("56 values") && e.contains("64"), "{e}");
    let e = error(
        &with(DIGITS, &CONV.replace("outputs = 10", "outputs = 3")),
        "network.layers",
    );
    assert!(e.contains("3 values") && e.contains("10 outputs"), "{e}");
    error(
        &with(DIGITS, &format!("depth = 2\n{CONV}")),
        "network.depth",
    );
    error(
        &with(
            DIGITS,
            &CONV.replace("kernel = 3\npadding = 1", "kernel = 9"),
        ),
        "network.layers",
    );
    let balanced = with(DIGITS, CONV).replace(
        "kind = \"gaussian\"\nsigma = 1.0",
        "kind = \"balanced\"\nscale = 1.0",
    );
    error(&balanced, "init.kind");
}
