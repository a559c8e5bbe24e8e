//! SB21 as a test: the frozen-kernel comparisons, the linear network's
//! specialisation bounds and the nonlinear network's column-wise
//! specialisation hold; SPEC §6's row-wise check fails at these sizes (with
//! its cause in the reason); the depth study is `info` with alignments in
//! range and its gain equal to final − init; the heat-map and series data are present.

use crate::common::assert_pass;
use claims::{Mode, RunOptions, Verdict, run_claims};

#[test]
fn sb21_claims() {
    let results = run_claims(&RunOptions::quick(), Some("SB21."));
    let cfg = claims::sb21::config().unwrap();
    assert_eq!(
        results.len(),
        4 + 2 * cfg.depth.depths.get(Mode::Quick).len() + 6
    );
    for r in &results {
        let details = r.details.as_ref().expect("details");
        match r.key.as_str() {
            "specialisation" if r.params.get("by").is_some_and(|b| b == "row") => {
                assert_eq!(r.verdict, Verdict::Fail, "{}: {:?}", r.id, r.measured);
                assert!(r.measured.is_some_and(|m| m < 0.0), "{}", r.id);
                assert!(r.reason.contains("A(K_c, K_c')"), "{}", r.reason);
            }
            "phases" | "specialisation" => {
                assert_pass(r);
            }
            "depth" => {
                assert_eq!(r.verdict, Verdict::Info, "{}: {}", r.id, r.reason);
                // A gain of an alignment in [0, 1].
                let gain = r.measured.expect("alignment gain");
                assert!((-1.0..=1.0).contains(&gain), "{}: {gain}", r.id);
                let s = &details["summary"];
                let last = s["final_alignment"]["mean"].as_f64().unwrap();
                let first = s["initial_alignment"]["mean"].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&last) && (0.0..=1.0).contains(&first));
                assert!((gain - (last - first)).abs() < 1e-12, "{}", r.id);
            }
            other => panic!("unexpected key {other}"),
        }
        if r.key == "phases" {
            for s in details["series"].as_array().unwrap() {
                let n = s["time"].as_array().unwrap().len();
                assert!(n > 2);
                assert_eq!(s["loss"].as_array().unwrap().len(), n);
                assert_eq!(s["alignment"].as_array().unwrap().len(), n);
            }
        }
        if r.key == "specialisation" && r.params.get("by").is_none_or(|b| b != "row") {
            let m = details["matrix"].as_array().unwrap();
            assert_eq!(m.len(), details["rows"].as_array().unwrap().len());
            assert_eq!(
                m[0].as_array().unwrap().len(),
                details["cols"].as_array().unwrap().len()
            );
        }
    }
}
