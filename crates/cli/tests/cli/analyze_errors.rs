//! Bad input to `feature-learning-checks analyze` is a one-line error
//! naming the file and the tensor or dimension, exit status 2, never a
//! panic. Every file is built in the test, byte by byte from the format
//! specifications.

use std::path::{Path, PathBuf};

use crate::support::*;

/// A valid 3 → 4 → 2 network with biases (PyTorch names) and 5 samples.
struct Good {
    dir: PathBuf,
}

impl Good {
    fn new(name: &str) -> Self {
        let dir = scratch(name);
        let g = Good { dir };
        g.weights("model.safetensors", &Self::tensors());
        g.npy(
            "x.npy",
            &npy_bytes("<f8", false, &[5, 3], &le_f64(&[0.5; 15]), 1),
        );
        g.npy(
            "y.npy",
            &npy_bytes("<f8", false, &[5, 2], &le_f64(&[0.1; 10]), 1),
        );
        g
    }

    fn tensors() -> Vec<RawTensor> {
        vec![
            f32_tensor("0.weight", &[4, 3], &[0.1; 12]),
            f32_tensor("0.bias", &[4], &[0.0; 4]),
            f32_tensor("2.weight", &[2, 4], &[0.2; 8]),
            f32_tensor("2.bias", &[2], &[0.0; 2]),
        ]
    }

    fn weights(&self, name: &str, tensors: &[RawTensor]) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, safetensors_bytes(tensors)).unwrap();
        p
    }

    fn npy(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Run with the good files, `weights` and `data` replaced, and extra
    /// arguments.
    fn run(&self, weights: &Path, data: &Path, extra: &[&str]) -> (Option<i32>, String) {
        let out = self.dir.join("out.json");
        let mut args = vec![
            "--weights",
            path(weights),
            "--data",
            path(data),
            "--activation",
            "relu",
            "--out",
            path(&out),
        ];
        args.extend(extra);
        let (code, _, stderr) = analyze(&args);
        (code, stderr)
    }
}

impl Drop for Good {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn assert_one_line_error(case: &str, (code, stderr): (Option<i32>, String), needles: &[&str]) {
    assert_eq!(
        code,
        Some(2),
        "{case}: exit code {code:?}, stderr: {stderr}"
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{case}: not one line: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{case}: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{case}: `{n}` missing from: {stderr}");
    }
}

#[test]
fn the_good_files_are_accepted() {
    let g = Good::new("good");
    let (code, stderr) = g.run(
        &g.file("model.safetensors"),
        &g.file("x.npy"),
        &["--labels", path(&g.file("y.npy"))],
    );
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn mismatched_consecutive_layers_name_the_tensor_and_dimension() {
    let g = Good::new("chain");
    let mut t = Good::tensors();
    t[2] = f32_tensor("2.weight", &[2, 5], &[0.2; 10]);
    let w = g.weights("bad.safetensors", &t);
    assert_one_line_error(
        "chain",
        g.run(&w, &g.file("x.npy"), &[]),
        &[
            "bad.safetensors",
            "`2.weight`",
            "takes 5 inputs",
            "`0.weight`",
            "4 outputs",
        ],
    );
}

#[test]
fn data_that_do_not_fit_the_first_layer_name_both_files() {
    let g = Good::new("data");
    let x = g.npy(
        "x7.npy",
        &npy_bytes("<f8", false, &[5, 7], &le_f64(&[0.0; 35]), 1),
    );
    assert_one_line_error(
        "data",
        g.run(&g.file("model.safetensors"), &x, &[]),
        &[
            "x7.npy",
            "7 features",
            "`0.weight`",
            "model.safetensors",
            "3 inputs",
        ],
    );
}

#[test]
fn labels_that_do_not_fit_name_the_dimension() {
    let g = Good::new("labels");
    let rows = g.npy(
        "y4.npy",
        &npy_bytes("<f8", false, &[4, 2], &le_f64(&[0.0; 8]), 1),
    );
    assert_one_line_error(
        "label rows",
        g.run(
            &g.file("model.safetensors"),
            &g.file("x.npy"),
            &["--labels", path(&rows)],
        ),
        &["y4.npy", "4 rows", "5 samples"],
    );
    let cols = g.npy(
        "y3.npy",
        &npy_bytes("<f8", false, &[5, 3], &le_f64(&[0.0; 15]), 1),
    );
    assert_one_line_error(
        "label columns",
        g.run(
            &g.file("model.safetensors"),
            &g.file("x.npy"),
            &["--labels", path(&cols)],
        ),
        &["y3.npy", "3 columns", "`2.weight`", "2 outputs"],
    );
}

#[test]
fn a_missing_tensor_is_named() {
    let g = Good::new("missing");
    assert_one_line_error(
        "missing",
        g.run(
            &g.file("model.safetensors"),
            &g.file("x.npy"),
            &["--layers", "0,3"],
        ),
        &["model.safetensors", "no tensor `3`", "`0.weight`"],
    );
}

#[test]
fn non_finite_weights_name_the_tensor_and_entry() {
    let g = Good::new("nan");
    for (case, bad) in [("nan", f64::NAN), ("inf", f64::INFINITY)] {
        let mut t = Good::tensors();
        let mut v = [0.2; 8];
        v[5] = bad;
        t[2] = f32_tensor("2.weight", &[2, 4], &v);
        let w = g.weights(&format!("{case}.safetensors"), &t);
        assert_one_line_error(
            case,
            g.run(&w, &g.file("x.npy"), &[]),
            &[
                &format!("{case}.safetensors"),
                "`2.weight`",
                "non-finite",
                "[1, 1]",
            ],
        );
    }
}

#[test]
fn unsupported_dtypes_are_named() {
    let g = Good::new("dtype");
    let mut t = Good::tensors();
    t[0] = RawTensor {
        name: "0.weight".into(),
        dtype: "I64",
        shape: vec![4, 3],
        bytes: vec![0; 96],
    };
    let w = g.weights("int.safetensors", &t);
    assert_one_line_error(
        "I64 weight",
        g.run(&w, &g.file("x.npy"), &[]),
        &["int.safetensors", "`0.weight`", "I64", "F32"],
    );
    let x = g.npy("xi.npy", &npy_bytes("<i8", false, &[5, 3], &[0; 120], 1));
    assert_one_line_error(
        "int data",
        g.run(&g.file("model.safetensors"), &x, &[]),
        &["xi.npy", "<i8", "float64"],
    );
}

#[test]
fn truncated_files_are_reported_as_such() {
    let g = Good::new("truncated");
    let full = safetensors_bytes(&Good::tensors());
    // Cut into the data section: the last tensor by offset is named.
    let cut = g.npy("cut.safetensors", &full[..full.len() - 4]);
    assert_one_line_error(
        "data cut",
        g.run(&cut, &g.file("x.npy"), &[]),
        &["cut.safetensors", "truncated", "`2.bias`"],
    );
    // Cut into the header.
    let head = g.npy("head.safetensors", &full[..20]);
    assert_one_line_error(
        "header cut",
        g.run(&head, &g.file("x.npy"), &[]),
        &["head.safetensors", "truncated", "header"],
    );
    let tiny = g.npy("tiny.safetensors", &full[..5]);
    assert_one_line_error(
        "length cut",
        g.run(&tiny, &g.file("x.npy"), &[]),
        &["tiny.safetensors", "truncated", "8-byte"],
    );
    let x = npy_bytes("<f8", false, &[5, 3], &le_f64(&[0.5; 15]), 1);
    let xcut = g.npy("xcut.npy", &x[..x.len() - 8]);
    assert_one_line_error(
        "npy cut",
        g.run(&g.file("model.safetensors"), &xcut, &[]),
        &["xcut.npy", "truncated", "[5, 3]", "120"],
    );
}

#[test]
fn fortran_order_arrays_are_rejected_with_the_fix() {
    let g = Good::new("fortran");
    let x = g.npy(
        "xf.npy",
        &npy_bytes("<f8", true, &[5, 3], &le_f64(&[0.5; 15]), 1),
    );
    assert_one_line_error(
        "fortran",
        g.run(&g.file("model.safetensors"), &x, &[]),
        &["xf.npy", "Fortran order", "ascontiguousarray"],
    );
}

#[test]
fn layer_structure_errors_are_named() {
    let g = Good::new("structure");
    let mut mixed = Good::tensors();
    mixed.pop();
    let w = g.weights("mixed.safetensors", &mixed);
    assert_one_line_error(
        "mixed biases",
        g.run(&w, &g.file("x.npy"), &[]),
        &["mixed.safetensors", "`0.bias`", "`2.weight`", "none"],
    );
    let mut extra = Good::tensors();
    extra.push(f32_tensor("norm.running_mean", &[2], &[0.0; 2]));
    let w = g.weights("extra.safetensors", &extra);
    assert_one_line_error(
        "unknown tensor",
        g.run(&w, &g.file("x.npy"), &[]),
        &["extra.safetensors", "`norm.running_mean`", "explicitly"],
    );
    // With an explicit list, the extra tensor is ignored.
    let (code, stderr) = g.run(&w, &g.file("x.npy"), &["--layers", "0,2"]);
    assert_eq!(code, Some(0), "{stderr}");
    let mut bias2d = Good::tensors();
    bias2d[1] = f32_tensor("0.bias", &[1, 4], &[0.0; 4]);
    let w = g.weights("bias2d.safetensors", &bias2d);
    assert_one_line_error(
        "2-D bias",
        g.run(&w, &g.file("x.npy"), &[]),
        &["bias2d.safetensors", "`0.bias`", "1-dimensional"],
    );
    let w = g.weights(
        "vector.safetensors",
        &[f32_tensor("weight", &[3], &[1.0; 3])],
    );
    assert_one_line_error(
        "1-D weight",
        g.run(&w, &g.file("x.npy"), &[]),
        &["vector.safetensors", "`weight`", "2-dimensional"],
    );
}

#[test]
fn an_init_checkpoint_of_another_shape_is_named() {
    let g = Good::new("init");
    let mut t = Good::tensors();
    t[2] = f32_tensor("2.weight", &[3, 4], &[0.2; 12]);
    t[3] = f32_tensor("2.bias", &[3], &[0.0; 3]);
    let init = g.weights("init.safetensors", &t);
    assert_one_line_error(
        "init",
        g.run(
            &g.file("model.safetensors"),
            &g.file("x.npy"),
            &["--init", path(&init)],
        ),
        &["init.safetensors", "`2.weight`", "[3, 4]", "[2, 4]"],
    );
}

#[test]
fn bad_options_and_unreadable_files_are_one_line_errors() {
    let g = Good::new("options");
    let (w, x) = (g.file("model.safetensors"), g.file("x.npy"));
    let no_activation = {
        let (code, _, stderr) = analyze(&[
            "--weights",
            path(&w),
            "--data",
            path(&x),
            "--activation",
            "softplus",
        ]);
        (code, stderr)
    };
    assert_one_line_error("activation", no_activation, &["--activation", "softplus"]);
    assert_one_line_error("alpha", g.run(&w, &x, &["--alpha=-1"]), &["--alpha", "-1"]);
    assert_one_line_error(
        "similarity",
        g.run(&w, &x, &["--similarity", "spearman"]),
        &["--similarity", "spearman"],
    );
    assert_one_line_error(
        "no such file",
        g.run(&g.file("absent.safetensors"), &x, &[]),
        &["absent.safetensors"],
    );
    let garbage = g.npy(
        "garbage.safetensors",
        b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}",
    );
    assert_one_line_error(
        "not JSON",
        g.run(&garbage, &x, &[]),
        &["garbage.safetensors", "not a valid safetensors file"],
    );
    let text = g.npy("x.txt", b"1,2,3\n");
    assert_one_line_error(
        "extension",
        g.run(&w, &text, &[]),
        &["x.txt", ".npy or .csv"],
    );
    let ragged = g.npy("ragged.csv", b"a,b,c\n1,2,3\n4,5\n");
    assert_one_line_error(
        "ragged CSV",
        g.run(&w, &ragged, &[]),
        &["ragged.csv", "line 3", "2 columns"],
    );
    let nan_csv = g.npy("nan.csv", b"1,2,3\n4,NaN,6\n");
    assert_one_line_error(
        "NaN in CSV",
        g.run(&w, &nan_csv, &[]),
        &["nan.csv", "non-finite", "line 2, column 2"],
    );
    let not_number = g.npy("word.csv", b"1,2,3\n4,x,6\n");
    assert_one_line_error(
        "word in CSV",
        g.run(&w, &not_number, &[]),
        &["word.csv", "line 2, column 2"],
    );
}

#[test]
fn a_memory_budget_below_the_ntk_tiling_is_refused_before_any_work() {
    let g = Good::new("memory");
    let y = g.file("y.npy");
    let labels = ["--labels", path(&y)];
    let with = |memory: &str| {
        let mut extra = labels.to_vec();
        extra.extend(["--memory", memory]);
        g.run(&g.file("model.safetensors"), &g.file("x.npy"), &extra)
    };
    assert_one_line_error(
        "memory",
        with("0.000001"),
        &[
            "--memory",
            "per-output NTK statistics at n = 5",
            "of memory needed",
            "budget of 1.0 kB",
        ],
    );
    for bad in ["-1", "0", "nan"] {
        assert_one_line_error(bad, with(bad), &["--memory", "not a positive number of GB"]);
    }
    assert!(!g.file("out.json").exists(), "no work before the refusal");
}

#[test]
fn dense_kernels_that_do_not_fit_the_budget_are_refused() {
    let g = Good::new("save_ntk_big");
    // 3000 samples: the two 3000 × 3000 kernels need 144 MB, the budget is
    // 100 MB (the tiled statistics need far less).
    let x = g.npy(
        "x3000.npy",
        &npy_bytes("<f8", false, &[3000, 3], &le_f64(&vec![0.5; 9000]), 1),
    );
    let dir = g.file("kernels");
    assert_one_line_error(
        "save-ntk",
        g.run(
            &g.file("model.safetensors"),
            &x,
            &["--save-ntk", path(&dir), "--memory", "0.1"],
        ),
        &[
            "--save-ntk",
            "2 per-output kernels at n = 3000",
            "144.",
            "budget of 100.0 MB",
        ],
    );
    assert!(
        !dir.exists() && !g.file("out.json").exists(),
        "no work before the refusal"
    );
}
