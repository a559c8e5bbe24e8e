//! TMC25 Theorem B as a test: every claim of the family passes in quick mode;
//! one unit of each family, run from its example config, gives the claim's
//! number.

use crate::common::assert_pass;
use claims::{Mode, Verdict};
use experiment::{Experiment, ExperimentConfig};

/// The unit `run=decay_rate,L=3,lambda=0.1` as an experiment config.
const DECAY_RATE: &str = include_str!("../../../../fixtures/experiments/tmc25_theorem_b.toml");

/// The unit `data=teacher,optimizer=adam_l2,lambda=0.01,init=gaussian,noise=0.5,seed=1`.
const ADAM: &str = include_str!("../../../../fixtures/experiments/tmc25_optimizers.toml");

#[test]
fn theorem_b_claims_hold() {
    let results = crate::common::quick("TMC25.B.")
        .into_iter()
        .filter(|r| !["B.optimizers", "B.label_noise"].contains(&r.key.as_str()))
        .collect::<Vec<_>>();
    let cfg = claims::tmc25::theorem_b::config().unwrap();
    let l = cfg.depths.len();
    // decay_rate per (L, λ); gd_contraction at η and η/2; asymptotic and
    // no-decay per L.
    assert_eq!(
        results.len(),
        l * cfg.decay_rate.weight_decays.len() + 2 * l + 2 * l
    );
    for r in &results {
        assert_pass(r);
    }
}

/// The GD deviation from (1−ηλ)² is second order: halving η divides it by
/// 4(1 + O(η)); at η = 0.02 the O(η) correction is a few per cent, so the
/// ratio must lie in [3, 5].
#[test]
fn gd_contraction_deviation_is_second_order() {
    let results = crate::common::quick("TMC25.B.gd_contraction[L=2");
    assert_eq!(results.len(), 2);
    let dev = |r: &claims::ClaimResult| (r.measured.unwrap() - r.predicted.unwrap()).abs();
    let ratio = dev(&results[0]) / dev(&results[1]);
    assert!((3.0..5.0).contains(&ratio), "ratio {ratio}");
}

/// The optimiser study: gradient-flow and GD rows carry a passing verdict,
/// every other row is `info` and says there is no theorem; each data set has
/// a label-noise comparison row.
#[test]
fn optimizer_study_rows() {
    let results = crate::common::quick("TMC25.B.optimizers");
    let cfg = claims::tmc25::optimizers::config().unwrap();
    let cells = cfg.data_sets.get(Mode::Quick).len()
        * cfg.optimizers.len()
        * cfg.weight_decays.get(Mode::Quick).len()
        * cfg.inits.len()
        * cfg.noises.len();
    assert_eq!(results.len(), cells);
    for r in &results {
        match r.params["optimizer"].as_str() {
            Some("gradient_flow") | Some("gd") => assert_pass(r),
            _ => {
                assert_eq!(r.verdict, Verdict::Info, "{}", r.id);
                assert!(r.reason.contains("no theorem"));
            }
        }
        let summary = &r.details.as_ref().expect("details").summary;
        assert!(!summary.is_empty(), "{}: summary columns", r.id);
        assert!(
            summary.iter().all(|c| c.mean.is_some_and(f64::is_finite)),
            "{}",
            r.id
        );
    }
}

/// `fixtures/experiments/tmc25_theorem_b.toml` run by `experiment::run`
/// gives B.decay_rate[L=3,lambda=0.1] exactly: the worst layer's
/// least-squares rate `−slope(t, ln‖D_l(t)‖_F)` (the same run and the same
/// arithmetic, so the same bits).
#[test]
fn decay_rate_unit_from_its_config() {
    let exp = Experiment::from_toml(DECAY_RATE).unwrap();
    let (_, traj) = experiment::run(&exp).unwrap();
    let times: Vec<f64> = traj.snapshots.iter().map(|s| s.time).collect();
    let predicted = 2.0 * exp.dynamics.weight_decay();
    let worst = (0..exp.depth() - 1)
        .map(|l| {
            let ln: Vec<f64> = traj
                .snapshots
                .iter()
                .map(|s| s.imbalance_norms()[l].ln())
                .collect();
            -common::stats::slope(&times, &ln)
        })
        .max_by(|a, b| (a - predicted).abs().total_cmp(&(b - predicted).abs()))
        .unwrap();
    let claim = crate::common::quick("TMC25.B.decay_rate[L=3,lambda=0.1]");
    assert_eq!(claim.len(), 1);
    assert_eq!(claim[0].measured, Some(worst));
}

/// `fixtures/experiments/tmc25_optimizers.toml` (seed 1) and the same
/// config at the row's other seeds (2–10), run by `experiment::run`, give
/// the row's final loss and NFA cosine exactly: means over the ten seeds of
/// the last checkpoint's loss and `experiment::measure` cosine.
#[test]
fn optimizer_unit_from_its_config() {
    let mut cfg = ExperimentConfig::from_toml(ADAM).unwrap();
    let (mut loss, mut cosine) = (Vec::new(), Vec::new());
    for seed in 1..=10 {
        cfg.seed = seed;
        let (_, traj) = experiment::run(&cfg.validate().unwrap()).unwrap();
        let last = traj.snapshots.last().unwrap();
        loss.push(last.loss);
        cosine.push(experiment::measure(last).cosine.unwrap());
    }
    let row = crate::common::quick(
        "TMC25.B.optimizers[data=teacher,optimizer=adam_l2,lambda=0.01,init=gaussian,noise=0.5]",
    );
    assert_eq!(row.len(), 1);
    assert_eq!(
        row[0].params["seeds"],
        serde_json::json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    );
    let column = |name: &str| {
        let summary = &row[0].details.as_ref().unwrap().summary;
        summary.iter().find(|c| c.name == name).unwrap().mean
    };
    let mean = |v: &[f64]| common::stats::mean_and_spread(v).map(|m| m.0);
    // A positive quantity: the geometric mean (SPEC §8).
    let geometric = (loss.iter().map(|l| l.ln()).sum::<f64>() / loss.len() as f64).exp();
    assert!((column("final loss").unwrap() / geometric - 1.0).abs() < 1e-14);
    assert_eq!(column("cosine(F_1, G_1^{1/L})"), mean(&cosine));
}
