//! The analysis against direct computations with the `metrics`, `networks` and
//! `ntk` kernels, its undefined cases, and that it leaves its inputs alone.

use analysis::{AlphaHat, AnalysisError, Exponent, Inputs, Options, Value};
use faer::Mat;
use metrics::{Cutoff, Similarity, psd_power, similarity};
use networks::{Activation, Architecture};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Round-off of O(d²n) double-precision sums on these sizes, with margin.
const ROUND_OFF: f64 = 1e-12;

fn setup(activation: Activation, widths: &[usize]) -> (Architecture, Vec<Mat<f64>>, Mat<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let arch = Architecture::new(widths.to_vec(), activation);
    let params = (0..arch.depth())
        .map(|l| common::gaussian_matrix(widths[l + 1], widths[l], &mut rng))
        .collect();
    let x = common::gaussian_matrix(30, widths[0], &mut rng);
    (arch, params, x)
}

fn number(v: Option<&Value>) -> f64 {
    v.and_then(Value::number).expect("a defined value")
}

#[test]
fn nfa_values_match_the_metric_kernels_and_inputs_are_unchanged() {
    let (arch, params, x) = setup(Activation::Tanh, &[6, 8, 7, 3]);
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let y = common::gaussian_matrix(30, 3, &mut rng);
    let init: Vec<Mat<f64>> = params.iter().map(|w| w * faer::Scale(0.5)).collect();
    let (p0, x0, y0) = (params.clone(), x.clone(), y.clone());
    let a = analysis::analyse(
        Inputs {
            net: &networks::Sequential::from_mlp(&arch).unwrap(),
            params: &params,
            init: Some(&init),
            x: x.as_ref(),
            y: Some(y.as_ref()),
        },
        &Options::default(),
    )
    .unwrap();
    assert_eq!((params, x.clone(), y.clone()), (p0.clone(), x0, y0));
    let g_input = networks::agop_from_input_gradients(&arch, &p0, x.as_ref(), 7).unwrap();
    let tangents = networks::tangents(&arch, &p0, x.as_ref(), 7).unwrap();
    for (l, layer) in a.layers.iter().enumerate() {
        let m = &layer.metrics;
        let w = p0[l].as_ref();
        let f = metrics::nfm(w);
        let g = &g_input[l];
        let d = g.nrows();
        for (kind, alpha, exponent) in [
            (Similarity::Cosine, 1.0, Exponent::One),
            (Similarity::Pearson, 0.5, Exponent::Half),
            (Similarity::RelErr, 1.0, Exponent::One),
        ] {
            let direct = similarity(
                kind,
                f.as_ref(),
                psd_power(g.as_ref(), alpha, Cutoff::for_dim(d))
                    .unwrap()
                    .as_ref(),
            )
            .unwrap();
            let got = number(m.nfa(kind, exponent));
            assert!(
                (got - direct).abs() <= ROUND_OFF * direct.abs().max(1.0),
                "layer {}: {kind} α={alpha}: {got} vs {direct}",
                l + 1
            );
        }
        // The block size does not enter the result beyond round-off.
        let k = &tangents.ptk[l];
        assert!((&layer.matrices.ptk - k).norm_l2() <= ROUND_OFF * k.norm_l2());
        assert!(number(Some(&m.agop_agreement)) <= ROUND_OFF);
        let c =
            networks::ptk_nfa::c_nfa(Similarity::Pearson, w, init[l].as_ref(), k.as_ref()).unwrap();
        assert!((number(m.c_nfa(Similarity::Pearson)) - c).abs() <= ROUND_OFF);
    }
    // K_L = n·I for the output layer, so G_L = F_L: cosine 1 at α = 1.
    let last = &a.layers[2].metrics;
    assert!((number(last.nfa(Similarity::Cosine, Exponent::One)) - 1.0).abs() <= ROUND_OFF);
    let ntk = a.ntk.expect("labels given");
    let kernels = ntk::per_output_ntk(&arch, &p0, x.as_ref(), faer::Par::Seq).unwrap();
    let analysis::MatrixValue::Matrix(s) = &ntk.specialisation else {
        panic!("specialisation undefined")
    };
    for c in 0..3 {
        let direct = ntk::kernel_target_alignment(kernels[c].as_ref(), y.subcols(c, 1)).unwrap();
        assert!((number(Some(&ntk.alignment[c])) - direct).abs() <= ROUND_OFF);
        assert_eq!(ntk.alignment[c], Value::Number(s[c][c]));
        assert!(
            (ntk.kernel_norm[c] - kernels[c].norm_l2()).abs() <= ROUND_OFF * kernels[c].norm_l2()
        );
    }
    // The diagonal contrast from the matrix itself: mean diagonal minus
    // mean off-diagonal entry.
    let diagonal = (0..3).map(|c| s[c][c]).sum::<f64>() / 3.0;
    let off = (0..3)
        .flat_map(|c| (0..3).filter(move |&c2| c2 != c).map(move |c2| (c, c2)))
        .map(|(c, c2)| s[c][c2])
        .sum::<f64>()
        / 6.0;
    assert!((number(ntk.diagonal_contrast.as_ref()) - (diagonal - off)).abs() <= ROUND_OFF);
    let analysis::MatrixValue::Matrix(ka) = &ntk.kernel_alignment else {
        panic!("kernel alignment undefined")
    };
    for c in 0..3 {
        for c2 in 0..3 {
            let direct = ntk::kernel_alignment(kernels[c].as_ref(), kernels[c2].as_ref()).unwrap();
            assert!((ka[c][c2] - direct).abs() <= ROUND_OFF, "A(Θ_{c}, Θ_{c2})");
        }
    }
}

/// A memory budget below what the smallest tiling of the NTK statistics
/// needs is a typed error naming both sizes; a sufficient one gives the
/// same numbers as no budget (the panel size does not enter the result).
#[test]
fn memory_budget_is_refused_or_respected() {
    let (arch, params, x) = setup(Activation::Tanh, &[4, 7, 3]);
    let y = common::gaussian_matrix(x.nrows(), 3, &mut ChaCha8Rng::seed_from_u64(99));
    let inputs = Inputs {
        net: &networks::Sequential::from_mlp(&arch).unwrap(),
        params: &params,
        init: None,
        x: x.as_ref(),
        y: Some(y.as_ref()),
    };
    let with = |memory| {
        analysis::analyse(
            inputs,
            &Options {
                memory,
                ..Options::default()
            },
        )
    };
    let err = with(Some(1000)).unwrap_err();
    assert!(
        matches!(&err, analysis::AnalysisError::Ntk(ntk::NtkError::Memory { budget, .. }) if budget.0 == 1000),
        "{err}"
    );
    assert!(
        err.to_string().contains("more than the budget of 1.0 kB"),
        "{err}"
    );
    let unbounded = with(None).unwrap().ntk.unwrap();
    let budgeted = with(Some(1 << 30)).unwrap().ntk.unwrap();
    assert_eq!(unbounded, budgeted);
}

#[test]
fn undefined_cases_are_values_with_reasons() {
    // A scalar-output linear network: every AGOP has rank 1, α is
    // unidentifiable; C-NFA from an init equal to the weights has ΔW = 0.
    let (arch, params, x) = setup(Activation::Identity, &[4, 5, 1]);
    let a = analysis::analyse(
        Inputs {
            net: &networks::Sequential::from_mlp(&arch).unwrap(),
            params: &params,
            init: Some(&params),
            x: x.as_ref(),
            y: None,
        },
        &Options::default(),
    )
    .unwrap();
    for layer in &a.layers {
        let m = &layer.metrics;
        let AlphaHat::Undefined(reason) = &m.alpha_hat else {
            panic!("α̂ identified for a rank-1 AGOP")
        };
        assert!(reason.contains("unidentifiable"), "{reason}");
        assert!(matches!(
            m.nfa(Similarity::Cosine, Exponent::Fitted),
            Some(Value::Undefined(_))
        ));
        assert!(matches!(
            m.c_nfa(Similarity::Cosine),
            Some(Value::Undefined(r)) if r.contains("zero")
        ));
    }
    assert!(a.ntk.is_none());
}

#[test]
fn bad_init_and_alpha_are_errors() {
    let (arch, params, x) = setup(Activation::Relu, &[4, 5, 2]);
    let short = vec![params[0].clone()];
    let inputs = Inputs {
        net: &networks::Sequential::from_mlp(&arch).unwrap(),
        params: &params,
        init: Some(&short),
        x: x.as_ref(),
        y: None,
    };
    assert!(matches!(
        analysis::analyse(inputs, &Options::default()),
        Err(AnalysisError::Invalid(_))
    ));
    let inputs = Inputs {
        init: None,
        ..inputs
    };
    let nan_alpha = Options {
        alpha: Some(f64::NAN),
        ..Options::default()
    };
    assert!(matches!(
        analysis::analyse(inputs, &nan_alpha),
        Err(AnalysisError::Invalid(_))
    ));
}
