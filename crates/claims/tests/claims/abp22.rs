//! ABP22 as a test: every theorem-backed claim passes in quick mode (the
//! q/r closed form, the final alignment, the t_½ exponents, the kernel
//! regression trend and the silent-alignment ordering), and the anisotropy
//! sweep is reported as `info` with finite values; the example experiment
//! `fixtures/experiments/abp22.toml` is one of the family's runs.

use crate::common::assert_pass;
use claims::{Mode, RunOptions, Verdict, run_claims};
use experiment::Experiment;

#[test]
fn abp22_claims() {
    let results = run_claims(&RunOptions::quick(), Some("ABP22."));
    let cfg = claims::abp22::config().unwrap();
    let expected = cfg.qr.sigmas.len()
        + cfg.alignment.depths.get(Mode::Quick).len() * cfg.alignment.sigmas.len()
        + cfg.t_half.depths_quick.len()
        + cfg.regression.depths.len()
        + cfg.silent.gammas.len();
    assert_eq!(results.len(), expected);
    for r in &results {
        let gamma = r.params.get("gamma").and_then(|g| g.as_f64());
        if r.key == "silent_timing" && gamma != Some(0.0) {
            assert_eq!(r.verdict, Verdict::Info, "{}: {}", r.id, r.reason);
            assert!(r.measured.is_some_and(f64::is_finite), "{}", r.id);
        } else {
            assert_pass(r);
        }
    }
}

const EXAMPLE: &str = include_str!("../../../../fixtures/experiments/abp22.toml");

/// `fixtures/experiments/abp22.toml` is the run of the unit
/// `final_alignment[L=2,sigma=0.1]`: through `experiment::run`, the NTK–target
/// alignment at its last checkpoint is the claim's measurement, bit for bit
/// (the same data, init, integration and kernel statistics).
#[test]
fn the_example_experiment_is_the_final_alignment_run() {
    let exp = Experiment::from_toml(EXAMPLE).unwrap();
    let (prepared, traj) = experiment::run(&exp).unwrap();
    let last = &traj.snapshots.last().unwrap().weights;
    let (x, y) = (prepared.data.x.as_ref(), prepared.data.y.as_ref());
    let alignment = ntk::KernelStatistics::compute(&exp.architecture(), last, x, y)
        .unwrap()
        .alignment(0, 0)
        .unwrap();
    let claims = run_claims(
        &RunOptions::quick(),
        Some("ABP22.final_alignment[L=2,sigma=0.1]"),
    );
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].measured, Some(alignment));
}
