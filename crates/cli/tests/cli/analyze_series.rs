//! `analyze --weights DIR|GLOB`: a series of checkpoints against one data
//! set and one init. Each point's record equals `analyze` of that file
//! alone; the order is natural in the names (`epoch_2` before `epoch_10`)
//! or by modification time; steps come from the names; a checkpoint that
//! cannot be read is reported and skipped with exit status 1; a series
//! without a file, and options that need one checkpoint, are usage errors.

use std::path::PathBuf;

use crate::support::*;

/// A 3 → 4 → 2 bias-free network whose weights depend on `t`.
fn weights(t: f64) -> Vec<u8> {
    let w1: Vec<f64> = (0..12)
        .map(|k| ((k * 5 % 7) as f64 - 3.0) / 4.0 + 0.05 * t * (k % 3) as f64)
        .collect();
    let w2: Vec<f64> = (0..8)
        .map(|k| ((k * 3 % 5) as f64 - 2.0) / 3.0 - 0.02 * t)
        .collect();
    safetensors_bytes(&[
        f64_tensor("fc1.weight", &[4, 3], &w1),
        f64_tensor("fc2.weight", &[2, 4], &w2),
    ])
}

struct Series {
    dir: PathBuf,
}

impl Series {
    /// Checkpoints `epoch_{t}.safetensors` for `epochs`, written in that
    /// order, with data and labels.
    fn new(name: &str, epochs: &[usize]) -> Self {
        let s = Series { dir: scratch(name) };
        std::fs::create_dir_all(s.dir.join("ckpt")).unwrap();
        for &t in epochs {
            s.write(&format!("ckpt/epoch_{t}.safetensors"), &weights(t as f64));
            // Distinct modification times, in the order written.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let x: Vec<f64> = (0..24).map(|k| ((k * 7 % 11) as f64 - 5.0) / 5.0).collect();
        s.write("x.npy", &npy_bytes("<f8", false, &[8, 3], &le_f64(&x), 1));
        let y: Vec<f64> = (0..16)
            .map(|k| if k % 3 == 0 { 1.0 } else { -0.5 })
            .collect();
        s.write("y.npy", &npy_bytes("<f8", false, &[8, 2], &le_f64(&y), 1));
        s
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.dir.join(name), bytes).unwrap();
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn run(&self, weights: &str, extra: &[&str]) -> (Option<i32>, String, String) {
        let (w, x, y, out) = (
            self.file(weights),
            self.file("x.npy"),
            self.file("y.npy"),
            self.file("out"),
        );
        let mut args = vec![
            "--weights",
            path(&w),
            "--data",
            path(&x),
            "--labels",
            path(&y),
            "--activation",
            "relu",
            "--out",
            path(&out),
            "--quiet",
        ];
        args.extend_from_slice(extra);
        analyze(&args)
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.file("out/series.json")).unwrap())
            .unwrap()
    }
}

impl Drop for Series {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn steps(series: &serde_json::Value) -> Vec<f64> {
    series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["step"].as_f64().unwrap())
        .collect()
}

#[test]
fn every_point_is_the_record_of_its_checkpoint_alone() {
    let s = Series::new("cli-series-records", &[0, 2, 10]);
    let (code, stdout, stderr) = s.run(
        "ckpt",
        &["--init", path(&s.file("ckpt/epoch_0.safetensors"))],
    );
    assert_eq!(code, Some(0), "{stderr}");
    // The printed table (three significant digits), with the scratch
    // directory's path replaced.
    insta::assert_snapshot!(stdout.replace(path(&s.dir), "[dir]"));
    let series = s.json();
    assert_eq!(steps(&series), [0.0, 2.0, 10.0]);
    for (point, t) in series["points"].as_array().unwrap().iter().zip([0, 2, 10]) {
        let one = s.file("one.json");
        let (code, _, stderr) = analyze(&[
            "--weights",
            path(&s.file(&format!("ckpt/epoch_{t}.safetensors"))),
            "--init",
            path(&s.file("ckpt/epoch_0.safetensors")),
            "--data",
            path(&s.file("x.npy")),
            "--labels",
            path(&s.file("y.npy")),
            "--activation",
            "relu",
            "--out",
            path(&one),
            "--quiet",
        ]);
        assert_eq!(code, Some(0), "{stderr}");
        let alone: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&one).unwrap()).unwrap();
        // Same computation on the same inputs: the same bits.
        assert_eq!(point["layers"], alone["layers"], "epoch {t}");
        assert_eq!(point["ntk"], alone["ntk"], "epoch {t}");
    }
    let csv = std::fs::read_to_string(s.file("out/series.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "step,checkpoint,nfa_1,nfa_2,alpha_hat_1,alpha_hat_2,uc_nfa_1,uc_nfa_2,c_nfa_1,c_nfa_2,ntk_alignment,ntk_centred_alignment,ntk_diagonal_contrast"
    );
    // At the initial weights ΔW = 0: the C-NFA cells are empty.
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!((first[0], first[8], first[9]), ("0", "", ""));
    assert_eq!(csv.lines().count(), 4);
    let svg = std::fs::read_to_string(s.file("out/series.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("UC-NFA"), "{svg}");
}

#[test]
fn names_without_a_number_are_stepped_by_position() {
    let s = Series::new("cli-series-names", &[0, 1]);
    std::fs::rename(
        s.file("ckpt/epoch_1.safetensors"),
        s.file("ckpt/final.safetensors"),
    )
    .unwrap();
    let (code, _, stderr) = s.run("ckpt", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let series = s.json();
    assert_eq!(steps(&series), [0.0, 1.0]);
    assert!(
        series["points"][1]["checkpoint"]
            .as_str()
            .unwrap()
            .ends_with("final.safetensors")
    );
}

#[test]
fn a_glob_and_the_modification_time_order() {
    let s = Series::new("cli-series-order", &[10, 2, 1]);
    let pattern = format!("{}/epoch_*.safetensors", path(&s.file("ckpt")));
    let (code, _, stderr) = s.run(&pattern, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(steps(&s.json()), [1.0, 2.0, 10.0]);
    let (code, _, stderr) = s.run(&pattern, &["--order", "mtime"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(steps(&s.json()), [10.0, 2.0, 1.0]);
}

#[test]
fn an_unreadable_checkpoint_is_skipped_and_exits_1() {
    let s = Series::new("cli-series-skip", &[0, 1]);
    s.write("ckpt/epoch_2.safetensors", b"not a checkpoint");
    // A checkpoint of other shapes does not fit the data.
    s.write(
        "ckpt/epoch_3.safetensors",
        &safetensors_bytes(&[
            f64_tensor("fc1.weight", &[4, 5], &[0.1; 20]),
            f64_tensor("fc2.weight", &[2, 4], &[0.1; 8]),
        ]),
    );
    let (code, stdout, stderr) = s.run("ckpt", &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("skipped:") && stderr.contains("epoch_2.safetensors"),
        "{stderr}"
    );
    assert!(stderr.contains("epoch_3.safetensors"), "{stderr}");
    assert!(
        stdout.contains("2 checkpoints analysed, 2 skipped"),
        "{stdout}"
    );
    let series = s.json();
    assert_eq!(steps(&series), [0.0, 1.0]);
    assert_eq!(series["skipped"].as_array().unwrap().len(), 2);
}

#[test]
fn series_usage_errors_exit_2() {
    let s = Series::new("cli-series-errors", &[0, 1]);
    let none = format!("{}/nothing_*.pt", path(&s.file("ckpt")));
    let (code, _, stderr) = s.run(&none, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no checkpoint file"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let (code, _, stderr) = s.run("ckpt", &["--save-matrices", "m"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--save-matrices"), "{stderr}");
    let (code, _, stderr) = s.run("ckpt", &["--init", path(&s.file("x.npy"))]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--init"), "{stderr}");
}
