//! `analyze --arch` on a convolutional network: a good run (tables and
//! record name the conv layers, the PTK is k_out × k_out, the NFM is in
//! patch space), and every mismatch between architecture, weights and data
//! as a one-line error naming the layer and both shapes, exit status 2.

use std::path::PathBuf;

use crate::support::*;

/// `Conv2d(1, 8, 3, padding=1)`, ReLU, max-pool 2, `Flatten`, `Linear(32, 2)`
/// on 1×4×4 images, as a PyTorch `nn.Sequential` names its tensors.
const ARCH: &str = r#"
input = [1, 4, 4]
layers = [
  { type = "conv2d", channels = 8, kernel = 3, padding = 1 },
  { type = "relu" },
  { type = "max_pool2d", kernel = 2 },
  { type = "flatten" },
  { type = "linear", outputs = 2 },
]
"#;

struct Files {
    dir: PathBuf,
}

impl Files {
    fn new(name: &str) -> Self {
        let f = Files { dir: scratch(name) };
        f.write("arch.toml", ARCH.as_bytes());
        let filters: Vec<f64> = (0..72)
            .map(|k| ((k * 37 % 17) as f64 - 8.0) / 10.0)
            .collect();
        let readout: Vec<f64> = (0..64)
            .map(|k| ((k * 13 % 11) as f64 - 5.0) / 10.0)
            .collect();
        f.write(
            "w.safetensors",
            &safetensors_bytes(&[
                f64_tensor("0.weight", &[8, 1, 3, 3], &filters),
                f64_tensor("0.bias", &[8], &[0.05; 8]),
                f64_tensor("4.weight", &[2, 32], &readout),
            ]),
        );
        let images: Vec<f64> = (0..48).map(|k| ((k * 7 % 13) as f64 - 6.0) / 6.0).collect();
        f.write(
            "x.npy",
            &npy_bytes("<f8", false, &[3, 1, 4, 4], &le_f64(&images), 1),
        );
        f
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn run(&self, arch: &str, weights: &str, data: &str) -> (Option<i32>, String, String) {
        let out = self.file("out.json");
        analyze(&[
            "--arch",
            path(&self.file(arch)),
            "--weights",
            path(&self.file(weights)),
            "--data",
            path(&self.file(data)),
            "--out",
            path(&out),
            "--quiet",
        ])
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_cnn_is_analysed_layer_by_layer() {
    let f = Files::new("cli-conv-good");
    let (code, stdout, stderr) = f.run("arch.toml", "w.safetensors", "x.npy");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("input [1, 4, 4] → conv2d(8, 3×3, stride 1, padding 1, bias) → relu → max_pool2d(2×2, stride 2) → flatten → linear(2)"), "{stdout}");
    assert!(
        stdout.contains("| 1 | `0.weight` | 8×9 (patches) |"),
        "{stdout}"
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.file("out.json")).unwrap()).unwrap();
    assert_eq!(record["input"], serde_json::json!([1, 4, 4]));
    assert_eq!(record["layers"][0]["kind"], "conv2d");
    assert_eq!(record["layers"][0]["bias_tensor"], "0.bias");
    assert_eq!(record["layers"][1]["bias_tensor"], serde_json::Value::Null);
    assert_eq!(record["layers"][0]["inputs"], 9);
    assert_eq!(record["layers"][0]["outputs"], 8);
    assert!(record.get("widths").is_none(), "{record}");
}

/// A case: its name, (architecture, weights, data) files, and what the
/// error must name.
type Case<'a> = (&'a str, (&'a str, &'a str, &'a str), &'a [&'a str]);

#[test]
fn mismatches_name_the_layer_and_both_shapes() {
    let f = Files::new("cli-conv-bad");
    // Filters of the wrong input channels.
    f.write(
        "w3.safetensors",
        &safetensors_bytes(&[
            f64_tensor("0.weight", &[8, 3, 3, 3], &[0.1; 216]),
            f64_tensor("4.weight", &[2, 32], &[0.1; 64]),
        ]),
    );
    // One weight too many.
    f.write(
        "w_extra.safetensors",
        &safetensors_bytes(&[
            f64_tensor("0.weight", &[8, 1, 3, 3], &[0.1; 72]),
            f64_tensor("4.weight", &[2, 32], &[0.1; 64]),
            f64_tensor("6.weight", &[2, 2], &[0.1; 4]),
        ]),
    );
    // NHWC images.
    f.write(
        "nhwc.npy",
        &npy_bytes("<f8", false, &[3, 4, 4, 1], &le_f64(&[0.5; 48]), 1),
    );
    // A kernel larger than its input, and an unknown key.
    f.write(
        "big.toml",
        ARCH.replace("kernel = 3, padding = 1", "kernel = 7")
            .as_bytes(),
    );
    f.write(
        "typo.toml",
        ARCH.replace("channels = 8", "chanels = 8").as_bytes(),
    );
    let cases: [Case; 5] = [
        (
            "filter shape",
            ("arch.toml", "w3.safetensors", "x.npy"),
            &[
                "w3.safetensors",
                "`0.weight`",
                "[8, 3, 3, 3]",
                "expects [8, 1, 3, 3]",
            ],
        ),
        (
            "layer count",
            ("arch.toml", "w_extra.safetensors", "x.npy"),
            &[
                "3 weight tensors",
                "`6.weight`",
                "has 2 convolution and linear layers",
            ],
        ),
        (
            "image layout",
            ("arch.toml", "w.safetensors", "nhwc.npy"),
            &["nhwc.npy", "[4, 4, 1]", "[1, 4, 4]", "NCHW"],
        ),
        (
            "kernel too large",
            ("big.toml", "w.safetensors", "x.npy"),
            &[
                "big.toml",
                "layer 0 (conv2d) receives shape [1, 4, 4]",
                "does not fit",
            ],
        ),
        (
            "unknown key",
            ("typo.toml", "w.safetensors", "x.npy"),
            &["typo.toml", "chanels"],
        ),
    ];
    for (case, (arch, weights, data), needles) in cases {
        let (code, _, stderr) = f.run(arch, weights, data);
        assert_eq!(code, Some(2), "{case}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{case}: {stderr}");
        assert!(!stderr.contains("panicked"), "{case}: {stderr}");
        for n in needles {
            assert!(stderr.contains(n), "{case}: `{n}` missing from: {stderr}");
        }
    }
}

#[test]
fn labels_on_a_cnn_give_the_ntk_statistics_and_kernels() {
    let f = Files::new("cli-conv-labels");
    f.write(
        "y.npy",
        &npy_bytes(
            "<f8",
            false,
            &[3, 2],
            &le_f64(&[0.1, -0.2, 0.3, 0.4, -0.5, 0.6]),
            1,
        ),
    );
    let out = f.file("out.json");
    let ntk_dir = f.file("ntk");
    let (code, _, stderr) = analyze(&[
        "--arch",
        path(&f.file("arch.toml")),
        "--weights",
        path(&f.file("w.safetensors")),
        "--data",
        path(&f.file("x.npy")),
        "--labels",
        path(&f.file("y.npy")),
        "--save-ntk",
        path(&ntk_dir),
        "--out",
        path(&out),
        "--quiet",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let alignment = record["ntk"]["alignment"].as_array().unwrap();
    assert_eq!(alignment.len(), 2, "{record}");
    assert!(
        alignment
            .iter()
            .all(|a| a.as_f64().is_some_and(|v| v.abs() <= 1.0)),
        "{record}"
    );
    for c in 1..=2 {
        assert!(ntk_dir.join(format!("ntk{c}.npy")).exists());
    }
}
