//! `analyze --arch` on a CNN saved by real PyTorch
//! (`fixtures/checkpoints/torch_cnn/`, see its README) against what
//! PyTorch's own automatic differentiation computed for it in float64: the
//! PTK of every layer, the patch AGOP of the conv layers, the per-output
//! NTK; and the float32 checkpoint of the same weights gives the same
//! record.

use std::path::{Path, PathBuf};

use crate::support::*;

/// The same sums as PyTorch's in another order: float64 round-off times
/// the number of terms, far below 1e-10 relative (observed ≈ 1e-15).
const RTOL: f64 = 1e-10;

fn fixture(name: &str) -> PathBuf {
    workspace()
        .join("fixtures/checkpoints/torch_cnn")
        .join(name)
}

fn read(path: &Path) -> faer::Mat<f64> {
    checkpoint::read_npy(path, "matrix").unwrap()
}

fn relative(a: &faer::Mat<f64>, b: &faer::Mat<f64>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    (a - b).norm_l2() / b.norm_l2()
}

fn run(weights: &str, out: &Path, extra: &[&str]) -> serde_json::Value {
    let arch = fixture("arch.toml");
    let (w, x, y, init) = (
        fixture(weights),
        fixture("x.npy"),
        fixture("y.npy"),
        fixture("init_f64.pt"),
    );
    let mut args = vec![
        "--arch",
        path(&arch),
        "--weights",
        path(&w),
        "--init",
        path(&init),
        "--data",
        path(&x),
        "--labels",
        path(&y),
        "--quiet",
        "--out",
    ];
    let json = out.join(format!("{weights}.json"));
    args.push(path(&json));
    args.extend(extra);
    let (code, _, stderr) = analyze(&args);
    assert_eq!(code, Some(0), "{stderr}");
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

#[test]
fn ptk_patch_agop_and_ntk_equal_pytorch_autodiff() {
    let dir = scratch("cli-torch-cnn");
    let (m, k) = (dir.join("m"), dir.join("ntk"));
    let record = run(
        "model_f64.pt",
        &dir,
        &["--save-matrices", path(&m), "--save-ntk", path(&k)],
    );
    for j in 1..=3 {
        let err = relative(
            &read(&m.join(format!("layer{j}_ptk.npy"))),
            &read(&fixture(&format!("expected_ptk{j}.npy"))),
        );
        assert!(err <= RTOL, "PTK {j}: {err}");
    }
    for j in 1..=2 {
        let err = relative(
            &read(&m.join(format!("layer{j}_agop.npy"))),
            &read(&fixture(&format!("expected_agop{j}.npy"))),
        );
        assert!(err <= RTOL, "AGOP {j}: {err}");
    }
    let ntk = checkpoint::read_npy(&fixture("expected_ntk.npy"), "ntk");
    // A (3, 12, 12) array reads as 3 rows of 144 values.
    let ntk = ntk.unwrap();
    for c in 0..3 {
        let want = faer::Mat::from_fn(12, 12, |i, j| ntk[(c, i * 12 + j)]);
        let err = relative(&read(&k.join(format!("ntk{}.npy", c + 1))), &want);
        assert!(err <= RTOL, "NTK {c}: {err}");
    }
    assert_eq!(record["layers"][0]["tensor"], "0.weight");
    assert_eq!(record["layers"][1]["bias_tensor"], "3.bias");
    assert_eq!(record["layers"][2]["kind"], "linear");
    // The float32 file holds the same values: the same record.
    let f32_record = run("model.pt", &dir, &[]);
    assert_eq!(f32_record["layers"], record["layers"]);
    assert_eq!(f32_record["ntk"], record["ntk"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The README's convolutional `cargo xtask analyze` line runs as written
/// (from the repository root, with the binary `cargo xtask` aliases).
#[test]
fn the_readme_cnn_command_runs_as_written() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo xtask analyze --arch"))
        .expect("the README shows a convolutional analyze command");
    let args: Vec<&str> = line.split_whitespace().skip(2).collect();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feature-learning-checks"))
        .args(&args)
        .args(["--quiet", "--out"])
        .arg(std::env::temp_dir().join(format!("readme-cnn-{}.json", std::process::id())))
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("| 1 | `0.weight` | 4×9 (patches) |"),
        "{stdout}"
    );
    assert!(stdout.contains("NTK kernel–target alignment"), "{stdout}");
}
