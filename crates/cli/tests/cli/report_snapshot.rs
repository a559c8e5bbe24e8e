//! Snapshot of the `--quick` report tables. Numbers are printed with
//! `Precision::Stable` (three significant digits, round-off-level values
//! reduced to their bounding power of ten) and seeds are fixed by the
//! fixtures, so the snapshot is the same on every machine.

use claims::{Mode, RunOptions, run_claims};
use cli::render::{Precision, json_report, markdown_report};

#[test]
fn quick_report_tables() {
    insta::assert_snapshot!(markdown_report(
        crate::support::quick_claims(),
        Mode::Quick,
        Precision::Stable
    ));
}

#[test]
fn json_report_follows_the_contract() {
    let results = run_claims(&RunOptions::quick(), Some("TMC25.A.alpha"));
    let json = json_report(&results, Mode::Quick);
    assert_eq!(json["schema"], 2);
    assert_eq!(json["mode"], "quick");
    let claims = json["claims"].as_array().unwrap();
    assert!(!claims.is_empty());
    let mut ids = std::collections::HashSet::new();
    for c in claims {
        for field in [
            "id",
            "paper",
            "key",
            "params",
            "statement",
            "convention",
            "predicted",
            "measured",
            "tolerance",
            "verdict",
            "reason",
        ] {
            assert!(c.get(field).is_some(), "claim {} lacks `{field}`", c["id"]);
        }
        assert!(
            ids.insert(c["id"].as_str().unwrap().to_owned()),
            "duplicate id {}",
            c["id"]
        );
        assert!(c["params"].get("estimator").is_some());
        let verdict = c["verdict"].as_str().unwrap();
        assert!(["pass", "fail", "undefined", "info"].contains(&verdict));
        if verdict == "undefined" {
            assert!(c["measured"].is_null());
            assert!(c["reason"].as_str().unwrap().contains("unidentifiable"));
        }
    }
}

#[test]
fn stable_numbers_bound_round_off() {
    use cli::render::number;
    assert_eq!(number(3.9e-14, Precision::Stable), "<1e-10");
    assert_eq!(number(1e-9, Precision::Stable), "1e-9");
    assert_eq!(number(1e-12, Precision::Stable), "1e-12");
    assert_eq!(number(6.66e-10, Precision::Stable), "≤1e-9");
    assert_eq!(number(0.333333, Precision::Stable), "0.333");
    assert_eq!(number(2.0115, Precision::Stable), "2.01");
    assert_eq!(number(3.9e-14, Precision::Display), "3.90e-14");
    assert_eq!(number(0.0, Precision::Display), "0");
}

/// The JSON report of quick family runs made on `threads` threads, with
/// the wall times and thread count (the only machine-dependent fields)
/// removed.
fn quick_json(runs: &[claims::FamilyRun], threads: usize) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("wall_time_s");
                m.remove("threads");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let provenance = cli::render::Provenance {
        version: "test".into(),
        commit: None,
        dirty: false,
        mode: Mode::Quick,
        seed: None,
        threads,
        shards: None,
        wall_seconds: 0.0,
        families: runs.iter().map(cli::render::FamilyTime::of).collect(),
        not_run: Vec::new(),
        units: Vec::new(),
    };
    let mut json = cli::render::json_document(runs, &provenance);
    strip(&mut json);
    json
}

#[test]
fn quick_report_is_bitwise_identical_on_one_and_two_threads() {
    let one = quick_json(&crate::support::quick_runs_on(1), 1);
    let two = quick_json(crate::support::quick_runs(), 2);
    assert!(one["claims"].as_array().is_some_and(|c| c.len() > 100));
    // Compared as text: serde_json prints every f64 exactly (shortest
    // round-trip form), so equal text means equal bits.
    assert_eq!(one.to_string(), two.to_string());
}
