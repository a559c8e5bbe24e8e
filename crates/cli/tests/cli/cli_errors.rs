//! Bad configurations give a one-line error naming the field, exit code 2,
//! and no panic; good ones (deep linear and MLP) write their trajectory.

const GOOD: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/experiments/balanced_gradient_flow.toml"
));

fn run_config(name: &str, text: &str) -> (Option<i32>, String, String) {
    let dir = std::env::temp_dir().join(format!("cli-run-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    crate::support::cli(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ])
}

fn assert_one_line_error(name: &str, text: &str, needles: &[&str]) {
    let (code, _, stderr) = run_config(name, text);
    assert_eq!(
        code,
        Some(2),
        "{name}: exit code {code:?}, stderr: {stderr}"
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{name}: not one line: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{name}: `{n}` missing from: {stderr}");
    }
}

#[test]
fn unknown_key_is_named() {
    let text = GOOD.replace("width = 10", "width = 10\nwidht = 3");
    assert_one_line_error("unknown", &text, &["widht", "unknown field"]);
}

#[test]
fn zero_depth_is_named() {
    assert_one_line_error(
        "depth0",
        &GOOD.replace("depth = 3", "depth = 0"),
        &["network.depth"],
    );
}

#[test]
fn width_below_balanced_rank_is_named() {
    assert_one_line_error(
        "narrow",
        &GOOD.replace("width = 10", "width = 2"),
        &["network.width", "rank"],
    );
}

#[test]
fn negative_and_nan_step_sizes_are_named() {
    let gd = GOOD.replace(
        "kind = \"gradient_flow\"\nrtol = 1e-12\natol = 1e-14",
        "kind = \"gd\"\nlearning_rate = -0.1",
    );
    assert!(gd.contains("learning_rate = -0.1"));
    assert_one_line_error("negative", &gd, &["dynamics.learning_rate"]);
    assert_one_line_error(
        "nan",
        &gd.replace("-0.1", "nan"),
        &["dynamics.learning_rate"],
    );
    assert_one_line_error(
        "nan_rtol",
        &GOOD.replace("rtol = 1e-12", "rtol = nan"),
        &["dynamics.rtol"],
    );
}

#[test]
fn malformed_toml_reports_a_line() {
    assert_one_line_error(
        "malformed",
        &GOOD.replace("depth = 3", "depth = = 3"),
        &["line"],
    );
}

#[test]
fn a_good_config_writes_csv_and_json() {
    let (code, _, stderr) = run_config("good", GOOD);
    assert_eq!(code, Some(0), "{stderr}");
    let dir = std::env::temp_dir().join(format!("cli-run-{}-good", std::process::id()));
    let csv = std::fs::read_to_string(dir.join("balanced_gradient_flow.csv")).unwrap();
    assert!(csv.starts_with(
        "time,step,loss,max_imbalance,relerr,cosine,alpha_corr,alpha_eig,alpha_fit\n"
    ));
    assert_eq!(
        csv.lines().count(),
        1 + 21,
        "header plus t = 0 and 20 checkpoints"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("balanced_gradient_flow.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["checkpoints"].as_array().unwrap().len(), 21);
}

const ADAMW: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/experiments/adamw_digits.toml"
));

#[test]
fn optimizer_hyperparameters_are_named() {
    let momentum = ADAMW
        .replace("kind = \"adamw\"", "kind = \"momentum\"")
        .replace("weight_decay = 0.01", "weight_decay = 0.01\nmomentum = 1.5");
    assert_one_line_error("momentum", &momentum, &["dynamics.momentum"]);
    assert_one_line_error(
        "beta",
        &ADAMW.replace("batch_size = 32", "batch_size = 32\nbeta2 = 2.0"),
        &["dynamics.beta2"],
    );
    assert_one_line_error(
        "batch0",
        &ADAMW.replace("batch_size = 32", "batch_size = 0"),
        &["dynamics.batch_size"],
    );
    assert_one_line_error(
        "digits",
        &ADAMW.replace("noise = 0.0", "noise = 0.0\nsamples = 5000"),
        &["data.samples"],
    );
}

#[test]
fn a_digits_adamw_config_runs() {
    let (code, _, stderr) = run_config("adamw", ADAMW);
    assert_eq!(code, Some(0), "{stderr}");
    let dir = std::env::temp_dir().join(format!("cli-run-{}-adamw", std::process::id()));
    let csv = std::fs::read_to_string(dir.join("adamw_digits.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 21);
    assert!(!csv.contains("NaN"));
}

const RELU: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/experiments/relu_digits_parity.toml"
));

#[test]
fn network_and_data_fields_of_mlp_configs_are_named() {
    assert_one_line_error(
        "activation",
        &RELU.replace("activation = \"relu\"", "activation = \"foo\""),
        &["network.activation", "unknown activation `foo`"],
    );
    let synthetic = RELU.replace(
        "kind = \"digits\"\nsamples = 200\ntarget = \"parity\"",
        "kind = \"synthetic\"\nsamples = 50\ninput_dim = 3\noutputs = 4",
    );
    assert!(synthetic.contains("synthetic"));
    assert_one_line_error("synthetic", &synthetic, &["data.outputs", "input_dim = 3"]);
    assert_one_line_error(
        "target",
        &RELU.replace("target = \"parity\"", "target = \"odd\""),
        &["data.target", "`odd`"],
    );
    assert_one_line_error(
        "converged",
        &RELU.replace(
            "kind = \"log_steps\"\ntotal = 400\ncount = 12",
            "kind = \"until_converged\"\nt_first = 0.1\nper_decade = 2\ntolerance = 1e-6",
        ),
        &["checkpoints.kind"],
    );
}

/// The MLP columns: loss, the layer-1 NFA, α̂, and UC-NFA and C-NFA of the
/// two hidden layers; the C-NFA is undefined at step 0 (nothing has moved).
#[test]
fn a_relu_config_writes_the_mlp_columns() {
    let (code, _, stderr) = run_config("relu", RELU);
    assert_eq!(code, Some(0), "{stderr}");
    let dir = std::env::temp_dir().join(format!("cli-run-{}-relu", std::process::id()));
    let csv = std::fs::read_to_string(dir.join("relu_digits_parity.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "time,step,loss,cosine,alpha_corr,alpha_eig,alpha_fit,uc_nfa_1,uc_nfa_2,c_nfa_1,c_nfa_2"
    );
    assert_eq!(lines.len(), 1 + 12, "header and the 12 log-spaced steps");
    // The C-NFA at init is undefined (W − W_0 = 0): empty cells, so that
    // the column stays numeric; every later cell is a number.
    assert!(
        lines[1].starts_with("0e0,0,") && lines[1].ends_with(",,"),
        "{}",
        lines[1]
    );
    assert!(!csv.contains("NaN") && !csv.contains("undefined"));
    assert!(
        lines[2].split(',').all(|c| c.parse::<f64>().is_ok()),
        "{}",
        lines[2]
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("relu_digits_parity.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["activation"], "relu");
    assert_eq!(json["biases"], true);
    assert_eq!(json["widths"], serde_json::json!([64, 32, 32, 1]));
    let checkpoints = json["checkpoints"].as_array().unwrap();
    assert_eq!(checkpoints.len(), 12);
    assert_eq!(checkpoints[0]["c_nfa"], serde_json::json!([null, null]));
    assert!(checkpoints[0]["undefined"]["c_nfa_1"].is_string());
    assert_eq!(checkpoints[11]["step"], 400);
    let loss = |k: usize| checkpoints[k]["loss"].as_f64().unwrap();
    assert!(loss(11) < loss(0));
}
