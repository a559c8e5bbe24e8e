//! Every figure the families declare renders from the quick claims and
//! names its series and axes; a declared figure whose claims are absent is
//! named as not drawn.

use claims::{FamilyRun, RunHooks, RunOptions, run_families};
use cli::figures::{figures, markdown_section};

#[test]
fn each_figure_names_its_series_and_axes() {
    let (figs, missing) = figures(&RunOptions::quick(), crate::support::quick_runs()).unwrap();
    assert!(
        missing.is_empty(),
        "declared figures not drawn: {missing:?}"
    );
    let names: Vec<&str> = figs.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(names, crate::details::QUICK_FIGURES);
    let heat: &[&str] = &["K_0", "y_0", "per-output kernel K_c", "target column y_c"];
    let expect: [&[&str]; 17] = [
        &[
            "α̂ (corr)",
            "α̂ (eig)",
            "α̂ (fit)",
            "predicted 1/L",
            "depth L (number of weight matrices)",
            "α̂ in W_1ᵀW_1 ∝ G_1^α (worst checkpoint)",
        ],
        &[
            "balanced, λ = 0 (A.identity)",
            "balanced, λ = 0.1",
            "unbalanced, λ = 0.1 (B.asymptotic_nfa)",
            "unbalanced, λ = 0 (B.no_decay_persists)",
            "time t (gradient-flow time, log scale",
            "relerr(W_1ᵀW_1, G_1^(1/L)) (log scale)",
        ],
        &[
            "‖D_1‖_F, λ = 0.001",
            "‖D_2‖_F, λ = 0.1",
            "predicted ‖D_1(0)‖_F e^(−2λt)",
            "predicted ‖D_2(0)‖_F e^(−2λt)",
            "2λt (weight decay λ × gradient-flow time t, dimensionless)",
            "‖D_l(t)‖_F, D_l = W_(l+1)ᵀW_(l+1) − W_lW_lᵀ (log scale)",
        ],
        &[
            "layer 1",
            "layer 4",
            "epoch (passes over the training set)",
            "UC-NFA: pearson(W_lᵀK_lW_l, W_lᵀW_l)",
            "C-NFA: pearson(ΔW_lᵀK_lΔW_l, ΔW_lᵀΔW_l)",
            "digits, early regime; band: 95 % interval over 5 seeds",
        ],
        &["layer 1", "layer 4", "synthetic, early regime; band"],
        &["layer 1", "layer 5", "digits, code regime; band"],
        &[
            "MLP, hidden layer: UC-NFA",
            "CNN, convolution: C-NFA",
            "epoch ÷ last epoch of the run",
            "MLP and CNN",
        ],
        &[
            "loss",
            "alignment A(K_t, y) (right axis)",
            "t: A ≥ 0.9·A_final",
            "t: ℒ ≤ 0.9·ℒ_0",
            "γ = 0",
            "γ = 0.5",
            "time t (gradient-flow time, log scale)",
            "training loss ℒ(t) (MSE / 2)",
            "kernel–target alignment yᵀKy/(‖K‖_F‖y‖²)",
            "kernel–target alignment A(K_t, y)",
        ],
        &[
            "loss",
            "kernel scale ‖K_t‖_F/‖K_T‖_F (right axis)",
            "t_align (geometric mean)",
            "t_loss (geometric mean)",
            "A(K_t, y) = yᵀKy/(‖K‖_F‖y‖²)",
            "centred A(HK_tH, Hy)",
            "time t = kη (full-batch GD, log scale",
            "digits01 (95 % bands, 10 seeds)",
        ],
        heat,
        heat,
        heat,
        heat,
        heat,
        heat,
        heat,
        heat,
    ];
    for (f, needles) in figs.iter().zip(expect) {
        assert!(f.svg.starts_with("<svg"), "{}", f.file);
        for n in needles {
            assert!(f.svg.contains(n), "{}: `{n}` missing", f.file);
        }
    }
    let md = markdown_section(&figs, &[]);
    for f in &figs {
        assert!(md.contains(&format!("]({})", f.file)));
    }
    // The code-regime caption states the epochs this mode measured, read
    // from its rows, not the full report's.
    let code_rows = crate::support::quick_claims()
        .iter()
        .find(|r| r.key == "nfa.uc_vs_c" && r.params["regime"] == "code")
        .unwrap();
    let last = code_rows.params["epochs"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    let code = figs
        .iter()
        .find(|f| f.file == "bma24_nfa_digits_code.svg")
        .unwrap();
    assert!(
        code.caption.contains(&format!("measured to epoch {last})")),
        "{}",
        code.caption
    );
}

#[test]
fn figures_of_absent_claims_are_named_not_drawn() {
    let quick = RunOptions::quick();
    let runs = run_families(&quick, Some("TMC25.A.alpha"), &RunHooks::default());
    let (figs, missing) = figures(&quick, &runs).unwrap();
    let names: Vec<&str> = figs.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(names, ["tmc25_alpha_depth.svg"]);
    assert!(missing.is_empty());
    // Theorem A's family ran, but its α̂ rows are filtered out.
    let runs = run_families(&quick, Some("TMC25.A.identity"), &RunHooks::default());
    let (figs, missing) = figures(&quick, &runs).unwrap();
    assert!(figs.is_empty());
    let files: Vec<&str> = missing.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(files, ["tmc25_alpha_depth.svg"]);
    let md = markdown_section(&figs, &missing);
    assert!(
        md.contains("Not drawn") && md.contains("`tmc25_alpha_depth.svg`"),
        "{md}"
    );
    let (figs, missing) = figures(&quick, &[]).unwrap();
    assert!(figs.is_empty() && missing.is_empty());
    assert_eq!(markdown_section(&[], &[]), "");
}

/// Figures take the depth, width and output dimension they show from the
/// claims' parameters, not from constants: with every Theorem A claim's
/// hidden width changed from 10 to 12 (as a fixture edit would), the
/// figures still render the same series and their captions name width 12.
#[test]
fn figures_follow_the_claims_parameters() {
    let mut runs: Vec<FamilyRun> = crate::support::quick_runs()
        .iter()
        .filter(|r| r.label.starts_with("TMC25 "))
        .cloned()
        .collect();
    let mut edited = 0;
    for r in runs
        .iter_mut()
        .flat_map(|f| f.claims.iter_mut())
        .filter(|r| r.key.starts_with("A."))
    {
        if let Some(w) = r.params.get_mut("width")
            && w.as_u64() == Some(10)
        {
            *w = serde_json::json!(12);
            edited += 1;
        }
    }
    assert!(edited > 0);
    let (figs, _) = figures(&RunOptions::quick(), &runs).unwrap();
    let by_name = |name: &str| figs.iter().find(|f| f.file == name).expect(name);
    for name in ["tmc25_nfa_relerr.svg", "tmc25_alpha_depth.svg"] {
        let f = by_name(name);
        assert!(f.caption.contains("width 12"), "{name}: {}", f.caption);
        assert!(!f.caption.contains("width 10"), "{name}: {}", f.caption);
    }
    assert!(
        by_name("tmc25_nfa_relerr.svg")
            .svg
            .contains("balanced, λ = 0 (A.identity)")
    );
    assert!(by_name("tmc25_alpha_depth.svg").svg.contains("α̂ (eig)"));
}
