//! Measurement never mutates the model it measures, and runs are
//! reproducible from their seed.

use experiment::{Experiment, measure, run};

const CONFIG: &str = include_str!("../../../fixtures/experiments/balanced_gradient_flow.toml");

#[test]
fn measuring_leaves_snapshots_unchanged() {
    let exp = Experiment::from_toml(CONFIG).unwrap();
    let (_, trajectory) = run(&exp).unwrap();
    let before: Vec<_> = trajectory
        .snapshots
        .iter()
        .map(|s| s.weights.clone())
        .collect();
    let rows: Vec<_> = trajectory.snapshots.iter().map(measure).collect();
    assert_eq!(rows.len(), trajectory.snapshots.len());
    for (s, w) in trajectory.snapshots.iter().zip(&before) {
        assert!(
            s.weights == *w,
            "measurement changed the weights at t = {}",
            s.time
        );
    }
    // The measured identity holds on this balanced run (cf. Theorem A).
    for m in &rows {
        assert!(
            *m.relerr.as_ref().unwrap() < 1e-9,
            "t = {}: {:?}",
            m.time,
            m.relerr
        );
    }
}

#[test]
fn same_seed_same_bits() {
    let exp = Experiment::from_toml(CONFIG).unwrap();
    let (_, a) = run(&exp).unwrap();
    let (_, b) = run(&exp).unwrap();
    for (x, y) in a.snapshots.iter().zip(&b.snapshots) {
        assert!(x.weights == y.weights && x.loss.to_bits() == y.loss.to_bits());
    }
}
