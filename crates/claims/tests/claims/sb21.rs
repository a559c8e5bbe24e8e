//! SB21 as a test: the frozen-kernel comparisons and the linear network's
//! specialisation bounds hold; SB21's specialisation statement is judged
//! over ≥ 5 seeds in four conventions and two regimes by the diagonal
//! contrast's change from init and against the linear network, untestable
//! where the kernels do not move apart (the large-motion regime's do), and
//! a disagreement carries its cause; the depth study is `info` with
//! alignments in range and its gain equal to final − init; the heat-map and
//! series data are present.
//! The example experiment `fixtures/experiments/sb21.toml` is one of the
//! family's runs.

use std::sync::OnceLock;

use crate::common::assert_pass;
use claims::{ClaimResult, Mode, Verdict};
use experiment::Experiment;
use experiment::config::Dynamics;

/// The quick SB21 claims, computed once for the tests of this module.
fn quick_claims() -> &'static [ClaimResult] {
    static CLAIMS: OnceLock<Vec<ClaimResult>> = OnceLock::new();
    CLAIMS.get_or_init(|| crate::common::quick("SB21."))
}

#[test]
fn sb21_claims() {
    let results = quick_claims();
    let cfg = claims::sb21::config().unwrap();
    assert_eq!(
        results.len(),
        // phases: 2 data sets × 2 t_0; depth: per data set, one row per L
        // and three comparisons per consecutive pair; specialisation: 2
        // linear bounds, and per ReLU setting (6) 2 preconditions, 4
        // contrasts against init and a column row, plus 4 contrasts against
        // the linear network where there is one (2 settings).
        4 + 2 * (4 * cfg.depth.depths.get(Mode::Quick).len() - 3) + 2 + 6 * 7 + 2 * 4
    );
    for r in results {
        let details = r.details.as_ref().expect("details");
        let by = r.params.get("by").and_then(|b| b.as_str());
        match (r.key.as_str(), by) {
            ("specialisation", Some("precondition")) => {
                assert_eq!(r.verdict, Verdict::Info, "{}", r.id);
                // The large-motion regime learns features on digits: its
                // per-output kernels without the shared readout block move
                // apart from init.
                let large_one_hot = r.params["kernel_motion"] == "large"
                    && r.params.get("target").is_some_and(|t| t == "one_hot");
                if large_one_hot && r.params["kernel"] == "hidden" {
                    assert!(r.reason.starts_with("precondition holds"), "{}", r.reason);
                }
            }
            ("specialisation", Some(_)) => {
                // An observation judged over ≥ 5 seeds (SPEC §8) with its
                // statement, δ and MDE; untestable exactly when its
                // precondition fails.
                let e = r.evidence.as_ref().expect("evidence");
                assert!(e.seeds >= 5 && e.delta > 0.0 && e.mde > 0.0, "{}", r.id);
                assert_eq!(e.statement, "SB21.specialisation");
                assert!(e.quote.contains("preferentially aligns"));
                if r.verdict == Verdict::Untestable {
                    assert!(r.reason.contains("do not move from init"), "{}", r.reason);
                }
                if r.verdict == Verdict::Contradicted {
                    assert!(!r.reason.is_empty(), "{}", r.id);
                }
            }
            ("phases" | "specialisation", _) => {
                assert_pass(r);
            }
            ("depth", _) if r.params.get("quantity").is_some_and(|q| q == "speed_steps") => {
                // The other time normalisation: a sensitivity check, no verdict.
                assert_eq!(r.verdict, Verdict::Info, "{}", r.id);
            }
            ("depth", _) if r.params.contains_key("vs") => {
                // SB21's trend judged over ≥ 5 paired seeds (SPEC §8).
                assert!(
                    r.evidence.as_ref().is_some_and(|e| e.seeds >= 5),
                    "{}",
                    r.id
                );
                assert!(
                    r.verdict.is_empirical() && r.verdict != Verdict::Untestable,
                    "{}",
                    r.id
                );
            }
            ("depth", _) => {
                assert_eq!(r.verdict, Verdict::Info, "{}: {}", r.id, r.reason);
                // A gain of an alignment in [0, 1].
                let gain = r.measured.expect("alignment gain");
                assert!((-1.0..=1.0).contains(&gain), "{}: {gain}", r.id);
                let mean = |name: &str| details.statistic(name).and_then(|s| s.mean).unwrap();
                let (last, first) = (mean("final_alignment"), mean("initial_alignment"));
                assert!((0.0..=1.0).contains(&last) && (0.0..=1.0).contains(&first));
                assert!((gain - (last - first)).abs() < 1e-12, "{}", r.id);
            }
            (other, _) => panic!("unexpected key {other}"),
        }
        if r.key == "phases" {
            let seeds = r.params["seeds"].as_array().unwrap().len();
            let losses: Vec<_> = details.all_series_named("loss").collect();
            let alignments: Vec<_> = details.all_series_named("alignment").collect();
            assert_eq!((losses.len(), alignments.len()), (seeds, seeds), "{}", r.id);
            for (loss, alignment) in losses.iter().zip(&alignments) {
                let n = loss.x.len();
                assert!(n > 2);
                assert_eq!(loss.y.len(), n);
                assert_eq!(alignment.x, loss.x);
                assert_eq!(alignment.y.len(), n);
            }
        }
        let heat_map = r.params.get("vs").is_some_and(|v| v == "init")
            || r.params.get("net").is_some_and(|n| n == "linear");
        if r.key == "specialisation" && heat_map {
            let m = details.matrix.as_ref().expect("matrix");
            assert_eq!(m.values.len(), m.rows.len());
            assert_eq!(m.values[0].len(), m.columns.len());
        }
    }
}

const EXAMPLE: &str = include_str!("../../../../fixtures/experiments/sb21.toml");

/// `fixtures/experiments/sb21.toml` is the run of the unit
/// `SB21.phases/data=digits,seed=1` with its step written out: its learning
/// rate is the claim's η of seed 1, and through `experiment::run` its
/// checkpoint times and losses are the claim's `loss` series of seed 1, bit
/// for bit (the same data, init, GD and checkpoints).
#[test]
fn the_example_experiment_is_the_phases_run_of_seed_1() {
    let exp = Experiment::from_toml(EXAMPLE).unwrap();
    let claim = (quick_claims().iter())
        .find(|c| c.id == "SB21.phases[data=digits,t0=init]")
        .unwrap();
    let details = claim.details.as_ref().unwrap();
    let Dynamics::Discrete(gd) = exp.dynamics else {
        panic!("the example trains by GD")
    };
    assert_eq!(
        Some(gd.params().learning_rate),
        details.lists["eta_per_seed"][0]
    );
    let (_, traj) = experiment::run(&exp).unwrap();
    let loss = details
        .all_series_named("loss")
        .find(|s| s.group.as_deref() == Some("seed 1"))
        .unwrap();
    let times: Vec<f64> = traj.snapshots.iter().map(|s| s.time).collect();
    let losses: Vec<Option<f64>> = traj.snapshots.iter().map(|s| Some(s.loss)).collect();
    assert_eq!((&loss.x, &loss.y), (&times, &losses));
}
