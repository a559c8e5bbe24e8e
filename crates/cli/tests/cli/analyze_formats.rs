//! `feature-learning-checks analyze` reads files written by other tools:
//! every file here is built byte by byte from the published specifications
//! (safetensors; NumPy `.npy` versions 1 and 2), not by this workspace's
//! writers, and the results must equal the in-memory analysis of the same
//! numbers.

use crate::support::*;
use analysis::{Inputs, Options};
use faer::Mat;
use networks::{Activation, Architecture};

/// Deterministic, irregular values (no two layers alike).
fn values(count: usize, seed: f64) -> Vec<f64> {
    (0..count)
        .map(|k| ((k as f64 + 1.0) * 0.731 + seed).sin() * 0.9)
        .collect()
}

/// Row-major values of a rows × cols matrix as a faer matrix.
fn mat(rows: usize, cols: usize, v: &[f64]) -> Mat<f64> {
    Mat::from_fn(rows, cols, |i, j| v[i * cols + j])
}

/// Values exactly representable in f32, so F32 files hold the same numbers.
fn f32_exact(v: Vec<f64>) -> Vec<f64> {
    v.into_iter().map(|x| x as f32 as f64).collect()
}

#[test]
fn hand_built_pytorch_style_checkpoint_and_npy_data_match_the_in_memory_analysis() {
    let dir = scratch("spec");
    // nn.Sequential(Linear(3, 4), Tanh(), Linear(4, 2)) saved by PyTorch:
    // names `0.weight`, `0.bias`, `2.weight`, `2.bias`, F32, [out, in].
    let w1 = f32_exact(values(12, 0.1));
    let b1 = f32_exact(values(4, 0.2));
    let w2 = f32_exact(values(8, 0.3));
    let b2 = f32_exact(values(2, 0.4));
    // Tensors deliberately out of layer order in the file: the order comes
    // from the names.
    let bytes = safetensors_bytes(&[
        f32_tensor("2.weight", &[2, 4], &w2),
        f32_tensor("0.bias", &[4], &b1),
        f32_tensor("0.weight", &[4, 3], &w1),
        f32_tensor("2.bias", &[2], &b2),
    ]);
    let weights = dir.join("model.safetensors");
    std::fs::write(&weights, bytes).unwrap();
    let x = values(15, 0.5);
    let y = values(10, 0.6);
    let data = dir.join("x.npy");
    std::fs::write(&data, npy_bytes("<f8", false, &[5, 3], &le_f64(&x), 1)).unwrap();
    let labels = dir.join("y.npy");
    // float32 labels, npy version 2 (4-byte header length).
    let y32 = f32_exact(y);
    std::fs::write(&labels, npy_bytes("<f4", false, &[5, 2], &le_f32(&y32), 2)).unwrap();
    let out = dir.join("a.json");

    let (code, stdout, stderr) = analyze(&[
        "--weights",
        path(&weights),
        "--data",
        path(&data),
        "--labels",
        path(&labels),
        "--activation",
        "tanh",
        "--out",
        path(&out),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("| 1 | `0.weight` | 4×3 |"), "{stdout}");
    assert!(stdout.contains("| 2 | `2.weight` | 2×4 |"), "{stdout}");

    let arch = Architecture {
        widths: vec![3, 4, 2],
        activation: Activation::Tanh,
        bias: true,
    };
    let params = vec![
        mat(4, 3, &w1),
        mat(2, 4, &w2),
        mat(1, 4, &b1),
        mat(1, 2, &b2),
    ];
    let xm = mat(5, 3, &x);
    let ym = mat(5, 2, &y32);
    let expected = analysis::analyse(
        Inputs {
            net: &networks::Sequential::from_mlp(&arch).unwrap(),
            params: &params,
            init: None,
            x: xm.as_ref(),
            y: Some(ym.as_ref()),
        },
        &Options::default(),
    )
    .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["widths"], serde_json::json!([3, 4, 2]));
    assert_eq!(json["bias"], true);
    for (l, layer) in expected.layers.iter().enumerate() {
        let mut got = json["layers"][l].clone();
        let obj = got.as_object_mut().unwrap();
        obj.remove("tensor");
        obj.remove("bias_tensor");
        let want = serde_json::to_value(&layer.metrics).unwrap();
        assert_json_close(&got, &want, &format!("layer {}", l + 1));
    }
    assert_json_close(
        &json["ntk"],
        &serde_json::to_value(&expected.ntk).unwrap(),
        "ntk",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_float_dtype_and_byte_order_reads_the_same_numbers() {
    let dir = scratch("dtypes");
    // 1, -2, 0.5 and 3.25 are exact in f16, bf16, f32 and f64.
    let v = [1.0, -2.0, 0.5, 3.25];
    let f16: Vec<u8> = v
        .iter()
        .flat_map(|&x| half::f16::from_f64(x).to_le_bytes())
        .collect();
    let bf16: Vec<u8> = v
        .iter()
        .flat_map(|&x| half::bf16::from_f64(x).to_le_bytes())
        .collect();
    for (dtype, bytes) in [
        ("F64", le_f64(&v)),
        ("F32", le_f32(&v)),
        ("F16", f16),
        ("BF16", bf16),
    ] {
        let file = dir.join(format!("{dtype}.safetensors"));
        let t = RawTensor {
            name: "weight".into(),
            dtype,
            shape: vec![2, 2],
            bytes,
        };
        std::fs::write(&file, safetensors_bytes(&[t])).unwrap();
        let net = checkpoint::read_checkpoint(&file, None).unwrap();
        assert_eq!(net.layers[0].weight, mat(2, 2, &v), "{dtype}");
        assert!(net.layers[0].bias.is_none());
    }
    let big_endian: Vec<u8> = v.iter().flat_map(|x| x.to_be_bytes()).collect();
    for (name, bytes) in [
        ("le8", npy_bytes("<f8", false, &[2, 2], &le_f64(&v), 1)),
        ("be8", npy_bytes(">f8", false, &[2, 2], &big_endian, 1)),
        ("le4", npy_bytes("<f4", false, &[2, 2], &le_f32(&v), 1)),
        ("v2", npy_bytes("<f8", false, &[2, 2], &le_f64(&v), 2)),
    ] {
        let file = dir.join(format!("{name}.npy"));
        std::fs::write(&file, bytes).unwrap();
        assert_eq!(
            checkpoint::read_npy(&file, "data").unwrap(),
            mat(2, 2, &v),
            "{name}"
        );
    }
    // A 1-D array of length n is an n × 1 column.
    let file = dir.join("column.npy");
    std::fs::write(&file, npy_bytes("<f8", false, &[4], &le_f64(&v), 1)).unwrap();
    assert_eq!(
        checkpoint::read_npy(&file, "labels").unwrap(),
        mat(4, 1, &v)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn layer_order_by_natural_name_order_or_an_explicit_list() {
    let dir = scratch("order");
    // `fc10` must come after `fc2` (numeric, not lexicographic, order).
    let file = dir.join("m.safetensors");
    std::fs::write(
        &file,
        safetensors_bytes(&[
            f64_tensor("fc10.weight", &[1, 2], &[1.0, 2.0]),
            f64_tensor("fc2.weight", &[2, 3], &values(6, 0.0)),
        ]),
    )
    .unwrap();
    let net = checkpoint::read_checkpoint(&file, None).unwrap();
    let names: Vec<_> = net.layers.iter().map(|l| l.weight_name.as_str()).collect();
    assert_eq!(names, ["fc2.weight", "fc10.weight"]);
    assert_eq!(net.widths(), [3, 2, 1]);
    // An explicit list by prefix or by full name gives the same network.
    let by_prefix = ["fc2", "fc10"].map(String::from);
    let by_name = ["fc2.weight", "fc10.weight"].map(String::from);
    assert_eq!(
        checkpoint::read_checkpoint(&file, Some(&by_prefix)).unwrap(),
        net
    );
    assert_eq!(
        checkpoint::read_checkpoint(&file, Some(&by_name)).unwrap(),
        net
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
