//! `report.json` (schema 2) carries typed claim details: they read back
//! equal to what was written, and the report's figures drawn from the
//! claims read back from it are the figures of the quick report.

use claims::details::{Matrix, Series, Summary};
use claims::{ClaimResult, Details, FamilyRun, Mode, RunOptions};
use cli::figures::figures;
use cli::render::json_report;

/// Every part of [`Details`], with undefined values, through JSON text.
#[test]
fn details_round_trip_through_json() {
    let details = Details::new()
        .with_column(Summary::over_seeds("final loss", &[0.25, 0.5, 0.75]))
        .with_column(Summary::single("cosine change", -0.125))
        .with_statistic(Summary::with_per_seed("row excess", &[0.1, f64::NAN]))
        .with_series(Series::new(
            "relerr",
            "t",
            vec![0.0, 0.5, 1.0],
            [1e-15, f64::NAN, 3e-16],
        ))
        .with_series(
            Series::new("UC-NFA", "epoch", vec![0.0, 1.0], [Some(0.5), None])
                .with_spread([0.01, f64::INFINITY])
                .in_group("layer 2"),
        )
        .with_series(Series::mean_over_seeds(
            "alignment",
            "t",
            vec![0.0, 1.0],
            &[vec![Some(0.1), Some(0.2)], vec![Some(0.3), None]],
        ))
        .with_matrix(Matrix::new(
            "S",
            vec!["K_0".into(), "K_1".into()],
            vec!["y_0".into(), "y_1".into()],
            &[vec![0.9, 0.1], vec![f64::NAN, 0.8]],
        ))
        .with_value("steps", 1234.0)
        .with_value("undefined", f64::NAN)
        .with_list("rate_per_layer", [0.2, 0.2000000001])
        .with_note("relerr_balanced_init", "diverged at step 3");
    let text = serde_json::to_string(&details).unwrap();
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
    let back: Details = serde_json::from_str(&text).unwrap();
    assert_eq!(back, details);
    assert_eq!(back.value("undefined"), None);
    assert_eq!(back.series[0].y, [Some(1e-15), None, Some(3e-16)]);
}

/// The details of every quick claim read back equal from `report.json`.
#[test]
fn quick_claims_details_round_trip_through_report_json() {
    let claims = crate::support::quick_claims();
    let text = json_report(claims, Mode::Quick).to_string();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["schema"], 2);
    let back: Vec<ClaimResult> = serde_json::from_value(json["claims"].clone()).unwrap();
    assert_eq!(back.len(), claims.len());
    for (r, b) in claims.iter().zip(&back) {
        assert_eq!(b.details, r.details, "{}", r.id);
    }
    // Every part is exercised by some claim.
    let all: Vec<&Details> = claims.iter().filter_map(|r| r.details.as_ref()).collect();
    assert!(all.iter().any(|d| !d.summary.is_empty()));
    assert!(all.iter().any(|d| !d.statistics.is_empty()));
    assert!(
        all.iter()
            .any(|d| d.series.iter().any(|s| !s.spread.is_empty()))
    );
    assert!(
        all.iter()
            .any(|d| d.series.iter().any(|s| s.group.is_some()))
    );
    assert!(
        all.iter()
            .any(|d| d.series.iter().any(|s| !s.lower.is_empty()))
    );
    assert!(all.iter().any(|d| d.matrix.is_some()));
    assert!(all.iter().any(|d| !d.values.is_empty()));
    assert!(all.iter().any(|d| !d.lists.is_empty()));
}

/// The quick report's figures, by file name and in order.
pub(crate) const QUICK_FIGURES: [&str; 17] = [
    "tmc25_alpha_depth.svg",
    "tmc25_nfa_relerr.svg",
    "tmc25_imbalance_decay.svg",
    "bma24_nfa_digits_early.svg",
    "bma24_nfa_synthetic_early.svg",
    "bma24_nfa_digits_code.svg",
    "bma24_nfa_mlp_vs_cnn.svg",
    "abp22_silent_alignment.svg",
    "abp22_relu_silent_alignment.svg",
    "sb21_specialisation_digits_one_hot_relu_small_motion.svg",
    "sb21_specialisation_digits_one_hot_linear_small_motion.svg",
    "sb21_specialisation_digits_one_vs_rest_relu_small_motion.svg",
    "sb21_specialisation_synthetic_relu_small_motion.svg",
    "sb21_specialisation_synthetic_linear_small_motion.svg",
    "sb21_specialisation_digits_one_hot_relu_large_motion.svg",
    "sb21_specialisation_digits_one_vs_rest_relu_large_motion.svg",
    "sb21_specialisation_synthetic_relu_large_motion.svg",
];

/// Every figure of the quick report is drawn from the quick claims, and
/// the same figures (file names, count and SVG text) from the claims read
/// back from `report.json`.
#[test]
fn every_quick_figure_is_produced_from_the_claims_and_from_report_json() {
    let runs = crate::support::quick_runs();
    let (direct, missing) = figures(&RunOptions::quick(), runs).unwrap();
    assert!(
        missing.is_empty(),
        "declared figures not drawn: {missing:?}"
    );
    let files: Vec<&str> = direct.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(files, QUICK_FIGURES);
    let claims = crate::support::quick_claims();
    let text = json_report(claims, Mode::Quick).to_string();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut back: Vec<ClaimResult> = serde_json::from_value(json["claims"].clone()).unwrap();
    // The same families, their claims read back from the JSON.
    let read_runs: Vec<FamilyRun> = runs
        .iter()
        .map(|r| FamilyRun {
            claims: back.drain(..r.claims.len()).collect(),
            ..r.clone()
        })
        .collect();
    let (read, _) = figures(&RunOptions::quick(), &read_runs).unwrap();
    assert_eq!(read.len(), direct.len());
    for (a, b) in direct.iter().zip(&read) {
        assert_eq!(a.file, b.file);
        assert_eq!(a.caption, b.caption, "{}", a.file);
        assert!(a.svg == b.svg, "{}: SVG differs", a.file);
    }
}
