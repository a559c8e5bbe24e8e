//! SB21 as a test: the frozen-kernel comparisons, the linear network's
//! specialisation bounds and the nonlinear network's column-wise
//! specialisation hold; SPEC §6's row-wise claim is judged over ≥ 5 seeds in
//! four conventions and two regimes, the rich regime's kernels do move apart,
//! and a disagreement carries its cause; the depth study is `info` with alignments in
//! range and its gain equal to final − init; the heat-map and series data are present.
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
        // and two comparisons per consecutive pair; specialisation: 2
        // linear, 2 column and 6 ReLU settings × 4 row conventions.
        4 + 2 * (3 * cfg.depth.depths.get(Mode::Quick).len() - 2) + 2 + 2 + 6 * 4
    );
    for r in results {
        let details = r.details.as_ref().expect("details");
        match r.key.as_str() {
            "specialisation" if r.params.get("by").is_some_and(|b| b == "row") => {
                // An observation judged over ≥ 5 seeds (SPEC §8), every
                // verdict pinned by the baseline; a disagreement gives its
                // cause: the kernels did not move apart, or which rows
                // fail and how far the kernels moved.
                assert!(r.evidence.as_ref().is_some_and(|e| e.seeds >= 5));
                let kernels = details
                    .statistic("min_pairwise_kernel_alignment")
                    .and_then(|s| s.mean)
                    .unwrap();
                if r.verdict.is_disagreement() {
                    assert!(
                        r.reason.contains("A(K_c, K_c')")
                            || r.reason.contains("aligned with one another"),
                        "{}",
                        r.reason
                    );
                }
                if kernels >= 0.94 {
                    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.id);
                }
                // The rich regime learns features on digits: its per-output
                // kernels without the shared readout block move apart, far
                // below SPEC §8's 0.94 (0.59 at the quick sizes).
                let rich_one_hot = r.params["regime"] == "rich"
                    && r.params.get("target").is_some_and(|t| t == "one_hot");
                if rich_one_hot && r.params["kernel"] == "hidden" {
                    assert!(kernels < 0.8, "{}: {kernels}", r.id);
                }
            }
            "phases" | "specialisation" => {
                assert_pass(r);
            }
            "depth" if r.params.contains_key("vs") => {
                // SB21's trend judged over ≥ 5 paired seeds (SPEC §8).
                assert!(
                    r.evidence.as_ref().is_some_and(|e| e.seeds >= 5),
                    "{}",
                    r.id
                );
                assert!(
                    matches!(
                        r.verdict,
                        Verdict::Reproduced | Verdict::Contradicted | Verdict::Inconclusive
                    ),
                    "{}",
                    r.id
                );
            }
            "depth" => {
                assert_eq!(r.verdict, Verdict::Info, "{}: {}", r.id, r.reason);
                // A gain of an alignment in [0, 1].
                let gain = r.measured.expect("alignment gain");
                assert!((-1.0..=1.0).contains(&gain), "{}: {gain}", r.id);
                let mean = |name: &str| details.statistic(name).and_then(|s| s.mean).unwrap();
                let (last, first) = (mean("final_alignment"), mean("initial_alignment"));
                assert!((0.0..=1.0).contains(&last) && (0.0..=1.0).contains(&first));
                assert!((gain - (last - first)).abs() < 1e-12, "{}", r.id);
            }
            other => panic!("unexpected key {other}"),
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
        if r.key == "specialisation" {
            let m = details.matrix.as_ref().expect("matrix");
            assert_eq!(m.values.len(), m.rows.len());
            assert_eq!(m.values[0].len(), m.columns.len());
        }
    }
}

const EXAMPLE: &str = include_str!("../../../../fixtures/experiments/sb21.toml");

/// `fixtures/experiments/sb21.toml` is the run of the unit
/// `phases[data=digits,seed=1]` with its step written out: its learning
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
