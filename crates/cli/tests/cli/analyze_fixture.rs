//! The fixture checkpoint `fixtures/checkpoints/relu_digits/`: a small ReLU
//! network trained by the project's own trainer (`networks::MlpObjective` under
//! full-batch GD), its initial weights, and its data. One test proves that
//! the committed bytes are what the trainer produces from its fixed seed;
//! the other snapshots `feature-learning-checks analyze` on them.
//!
//! To regenerate the files after a deliberate change of the trainer:
//! `UPDATE_FIXTURES=1 cargo test -p cli --test cli analyze_fixture`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::workspace;

use checkpoint::Precision;
use faer::Mat;
use networks::{Activation, Architecture, MlpObjective};
use optim::OptimizerParams;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Master seed of the fixture.
const SEED: u64 = 20_261_123;
/// Digits subset size.
const SAMPLES: usize = 128;
/// `[d_0, d_1, d_2, C]`.
const WIDTHS: [usize; 4] = [64, 24, 24, 10];
/// GD step size and number of steps: the training loss `½‖F − Y‖²/n` falls
/// from 6.1 at the init to 0.014 (the network nearly interpolates its 128
/// samples), so the features have moved well away from the init.
const LEARNING_RATE: f64 = 0.05;
const STEPS: usize = 3000;

fn fixture_dir() -> PathBuf {
    workspace().join("fixtures/checkpoints/relu_digits")
}

/// The layer names of `nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)`.
fn prefixes() -> Vec<String> {
    ["0", "2", "4"].map(String::from).to_vec()
}

/// Architecture, initial and trained parameters, inputs, targets.
type Trained = (
    Architecture,
    Vec<Mat<f64>>,
    Vec<Mat<f64>>,
    Mat<f64>,
    Mat<f64>,
);

/// Train the fixture network.
fn train() -> Trained {
    let mut data_rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut noise_rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let mut init_rng = ChaCha8Rng::seed_from_u64(SEED + 2);
    let data = datasets::digits(
        &datasets::DigitsSpec {
            samples: SAMPLES,
            noise: 0.0,
            held_out: 0,
        },
        &mut data_rng,
        &mut noise_rng,
    )
    .unwrap();
    let arch = Architecture {
        widths: WIDTHS.to_vec(),
        activation: Activation::Relu,
        bias: true,
    };
    // He initialisation (σ = √2) for the weights, zero biases.
    let weights = init::initialise(
        &arch.widths,
        &init::InitScheme::Gaussian {
            sigma: vec![2f64.sqrt()],
        },
        &mut init_rng,
    )
    .unwrap()
    .weights;
    let mut theta0 = weights;
    theta0.extend(WIDTHS[1..].iter().map(|&d| Mat::<f64>::zeros(1, d)));
    let mut objective = MlpObjective::new(arch.clone(), data.x.as_ref(), data.y.as_ref()).unwrap();
    let gd = OptimizerParams::gd(LEARNING_RATE, 0.0).validate().unwrap();
    let (trained, _) = optim::run_optimizer(&gd, &mut objective, &theta0, &[0, STEPS], |_| {})
        .expect("GD on the fixture converges");
    (arch, theta0, trained, data.x, data.y)
}

/// Write the fixture's four files into `dir`. Weights in f32, as PyTorch
/// saves them: rounding to f32 also absorbs any last-bit difference of the
/// f64 training between CPUs, so the bytes are the same everywhere.
fn write_fixture(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let (arch, theta0, trained, x, y) = train();
    checkpoint::write_checkpoint(
        &dir.join("weights.safetensors"),
        &arch,
        &trained,
        &prefixes(),
        Precision::F32,
    )
    .unwrap();
    checkpoint::write_checkpoint(
        &dir.join("init.safetensors"),
        &arch,
        &theta0,
        &prefixes(),
        Precision::F32,
    )
    .unwrap();
    checkpoint::write_npy(&dir.join("x.npy"), x.as_ref()).unwrap();
    checkpoint::write_npy(&dir.join("y.npy"), y.as_ref()).unwrap();
}

const FILES: [&str; 4] = ["weights.safetensors", "init.safetensors", "x.npy", "y.npy"];

#[test]
fn committed_fixture_is_reproduced_by_the_trainer() {
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        write_fixture(&fixture_dir());
    }
    let dir = std::env::temp_dir().join(format!("cli-fixture-{}", std::process::id()));
    write_fixture(&dir);
    for f in FILES {
        let made = std::fs::read(dir.join(f)).unwrap();
        let committed = std::fs::read(fixture_dir().join(f))
            .unwrap_or_else(|e| panic!("fixtures/checkpoints/relu_digits/{f}: {e}"));
        assert!(
            made == committed,
            "{f}: the trainer's bytes differ from the committed fixture"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fixture_metrics_snapshot() {
    let out_dir = std::env::temp_dir().join(format!("cli-fixture-json-{}", std::process::id()));
    let rel = "fixtures/checkpoints/relu_digits";
    let out = Command::new(env!("CARGO_BIN_EXE_feature-learning-checks"))
        .current_dir(workspace())
        .args([
            "analyze",
            "--weights",
            &format!("{rel}/weights.safetensors"),
            "--data",
            &format!("{rel}/x.npy"),
            "--labels",
            &format!("{rel}/y.npy"),
            "--init",
            &format!("{rel}/init.safetensors"),
            "--activation",
            "relu",
            "--out",
            out_dir.join("analysis.json").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
    std::fs::remove_dir_all(&out_dir).unwrap();
}
