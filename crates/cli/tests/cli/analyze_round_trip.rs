//! Round trip: a network and data written with the workspace's own writers
//! (`checkpoint::write_checkpoint` in f64, `write_npy`, `write_csv`) are
//! read back bit for bit, and `feature-learning-checks analyze` on them
//! reports the metrics computed in memory; `--save-matrices` writes the
//! in-memory matrices and `--save-ntk` the dense per-output kernels.

use crate::support::*;
use analysis::{Inputs, Options};
use checkpoint::Precision;
use faer::Mat;
use networks::{Activation, Architecture};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Architecture, parameters, initial weights, inputs, targets.
type Case = (
    Architecture,
    Vec<Mat<f64>>,
    Vec<Mat<f64>>,
    Mat<f64>,
    Mat<f64>,
);

/// A random 5 → 6 → 6 → 3 GELU network with biases, its init, and data.
fn network() -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let arch = Architecture {
        widths: vec![5, 6, 6, 3],
        activation: Activation::Gelu,
        bias: true,
    };
    let mut params: Vec<Mat<f64>> = (0..3)
        .map(|l| ::common::gaussian_matrix(arch.widths[l + 1], arch.widths[l], &mut rng))
        .collect();
    params.extend((0..3).map(|l| ::common::gaussian_matrix(1, arch.widths[l + 1], &mut rng)));
    let init: Vec<Mat<f64>> = (0..3)
        .map(|l| ::common::gaussian_matrix(arch.widths[l + 1], arch.widths[l], &mut rng))
        .collect();
    let x = ::common::gaussian_matrix(20, 5, &mut rng);
    let y = ::common::gaussian_matrix(20, 3, &mut rng);
    (arch, params, init, x, y)
}

fn names() -> Vec<String> {
    ["fc1", "fc2", "out"].map(String::from).to_vec()
}

#[test]
fn written_network_reads_back_bit_for_bit() {
    let dir = scratch("bits");
    let (arch, params, _, x, _) = network();
    let file = dir.join("net.safetensors");
    checkpoint::write_checkpoint(&file, &arch, &params, &names(), Precision::F64).unwrap();
    let net = checkpoint::read_checkpoint(&file, None).unwrap();
    assert_eq!(net.params(), params);
    assert_eq!(net.architecture(Activation::Gelu), arch);
    let names: Vec<_> = net.layers.iter().map(|l| l.weight_name.as_str()).collect();
    assert_eq!(names, ["fc1.weight", "fc2.weight", "out.weight"]);
    // Same bits in, same process: the metrics are exactly equal.
    let run = |p: &[Mat<f64>]| {
        let a = analysis::analyse(
            Inputs {
                net: &networks::Sequential::from_mlp(&arch).unwrap(),
                params: p,
                init: None,
                x: x.as_ref(),
                y: None,
            },
            &Options::default(),
        )
        .unwrap();
        a.layers
            .into_iter()
            .map(|l| serde_json::to_value(&l.metrics).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(&net.params()), run(&params));
    let npy = dir.join("x.npy");
    checkpoint::write_npy(&npy, x.as_ref()).unwrap();
    assert_eq!(checkpoint::read_npy(&npy, "data").unwrap(), x);
    let csv = dir.join("x.csv");
    checkpoint::write_csv(&csv, x.as_ref()).unwrap();
    assert_eq!(checkpoint::read_csv(&csv, "data").unwrap(), x);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn analyze_of_written_files_equals_the_in_memory_analysis() {
    let dir = scratch("round");
    let (arch, params, init, x, y) = network();
    let weights = dir.join("net.safetensors");
    checkpoint::write_checkpoint(&weights, &arch, &params, &names(), Precision::F64).unwrap();
    let init_file = dir.join("init.safetensors");
    let mut init_params = init.clone();
    init_params.extend(params[3..].iter().cloned());
    checkpoint::write_checkpoint(&init_file, &arch, &init_params, &names(), Precision::F64)
        .unwrap();
    let (xf, yf) = (dir.join("x.csv"), dir.join("y.npy"));
    checkpoint::write_csv(&xf, x.as_ref()).unwrap();
    checkpoint::write_npy(&yf, y.as_ref()).unwrap();
    let (out, mats, kernels_dir) = (dir.join("a.json"), dir.join("matrices"), dir.join("ntk"));
    let (code, stdout, stderr) = analyze(&[
        "--weights",
        path(&weights),
        "--data",
        path(&xf),
        "--labels",
        path(&yf),
        "--init",
        path(&init_file),
        "--activation",
        "gelu",
        "--layers",
        "fc1,fc2,out",
        "--similarity",
        "pearson",
        "--alpha",
        "0.25",
        "--save-matrices",
        path(&mats),
        "--save-ntk",
        path(&kernels_dir),
        "--out",
        path(&out),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("pearson α=0.25"), "{stdout}");

    let params_before = params.clone();
    let expected = analysis::analyse(
        Inputs {
            net: &networks::Sequential::from_mlp(&arch).unwrap(),
            params: &params,
            init: Some(&init),
            x: x.as_ref(),
            y: Some(y.as_ref()),
        },
        &Options {
            alpha: Some(0.25),
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(params, params_before, "the analysis changed the weights");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["activation"], "gelu");
    assert_eq!(json["samples"], 20);
    for (l, layer) in expected.layers.iter().enumerate() {
        let mut got = json["layers"][l].clone();
        assert_eq!(got["tensor"], format!("{}.weight", names()[l]));
        assert_eq!(got["bias_tensor"], format!("{}.bias", names()[l]));
        let obj = got.as_object_mut().unwrap();
        obj.remove("tensor");
        obj.remove("bias_tensor");
        let want = serde_json::to_value(&layer.metrics).unwrap();
        assert_json_close(&got, &want, &format!("layer {}", l + 1));
        assert!(!got["c_nfa"].is_null());
        // The saved matrices are the in-memory ones (f64 written exactly;
        // products may differ by round-off between the two binaries).
        let m = &layer.matrices;
        for (what, want) in [("nfm", &m.nfm), ("agop", &m.agop), ("ptk", &m.ptk)] {
            let file = mats.join(format!("layer{}_{what}.npy", l + 1));
            let got = checkpoint::read_npy(&file, what).unwrap();
            let err = (&got - want).norm_l2() / want.norm_l2();
            assert!(err <= CROSS_BINARY_RTOL, "layer {} {what}: {err:e}", l + 1);
        }
    }
    assert_json_close(
        &json["ntk"],
        &serde_json::to_value(&expected.ntk).unwrap(),
        "ntk",
    );
    // The saved kernels are the dense closed form, whose statistics the
    // JSON holds (tiled, so equal up to round-off).
    for (c, want) in ntk::per_output_ntk(&arch, &params, x.as_ref(), faer::Par::Seq)
        .unwrap()
        .iter()
        .enumerate()
    {
        let got =
            checkpoint::read_npy(&kernels_dir.join(format!("ntk{}.npy", c + 1)), "ntk").unwrap();
        let err = (&got - want).norm_l2() / want.norm_l2();
        assert!(err <= CROSS_BINARY_RTOL, "Θ_{}: {err:e}", c + 1);
        let norm = json["ntk"]["kernel_norm"][c].as_f64().unwrap();
        assert!((norm - got.norm_l2()).abs() <= CROSS_BINARY_RTOL * norm);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
