//! Measurement never mutates the model it measures, and runs are
//! reproducible from their seed.

use experiment::{Experiment, measure, run};

const CONFIG: &str = include_str!("../../../../fixtures/experiments/balanced_gradient_flow.toml");

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

const RELU: &str = include_str!("../../../../fixtures/experiments/relu_digits_parity.toml");

/// The MLP measurements read the snapshots without changing them; the
/// C-NFA of a layer that has not moved (t = 0) is undefined, not NaN.
#[test]
fn measuring_an_mlp_leaves_snapshots_unchanged() {
    let exp = Experiment::from_toml(RELU).unwrap();
    let (prepared, trajectory) = run(&exp).unwrap();
    let before: Vec<_> = trajectory
        .snapshots
        .iter()
        .map(|s| s.weights.clone())
        .collect();
    let network = exp.network();
    let init = experiment::initial_params(&exp, &prepared);
    let rows: Vec<_> = trajectory
        .snapshots
        .iter()
        .map(|s| experiment::measure_network(&network, s, &init, prepared.data.x.as_ref()).unwrap())
        .collect();
    for (s, w) in trajectory.snapshots.iter().zip(&before) {
        assert!(
            s.weights == *w,
            "measurement changed the weights at t = {}",
            s.time
        );
    }
    let hidden = exp.depth() - 1;
    for m in &rows {
        assert_eq!((m.uc_nfa.len(), m.c_nfa.len()), (hidden, hidden));
        assert!(m.cosine.as_ref().is_ok_and(|c| (0.0..=1.0).contains(c)));
        assert!(
            m.uc_nfa
                .iter()
                .all(|v| v.as_ref().is_ok_and(|c| c.is_finite()))
        );
    }
    assert!(rows[0].c_nfa.iter().all(Result::is_err));
    assert!(rows[1].c_nfa.iter().all(Result::is_ok));
}

/// A CNN trains (its loss falls) through the sequential objective, and
/// its measurement reads every convolution without changing the weights.
#[test]
fn a_convolutional_run_trains_and_is_measured_per_convolution() {
    let text = include_str!("../../../../fixtures/experiments/bma24_conv.toml")
        .replace("kind = \"digits\"", "kind = \"digits\"\nsamples = 64")
        .replace("channels = 128", "channels = 8")
        .replace("channels = 64", "channels = 8")
        .replace("channels = 32", "channels = 4")
        .replace(
            "sigmas = [0.25, 1.0, 1.0, 1.4142135623730951, 0.11313708498984762]",
            "sigma = 1.0",
        )
        .replace("batch_size = 256", "batch_size = 16")
        .replace("learning_rate = 0.2", "learning_rate = 0.02")
        .replace("steps = [0, 8, 40, 80, 160, 240]", "steps = [0, 40]");
    let exp = experiment::Experiment::from_toml(&text).unwrap();
    let (prepared, trajectory) = experiment::run(&exp).unwrap();
    let (first, last) = (&trajectory.snapshots[0], &trajectory.snapshots[1]);
    assert!(last.loss < first.loss, "{} → {}", first.loss, last.loss);
    let network = exp.network();
    let init = experiment::initial_params(&exp, &prepared);
    let before = last.weights.clone();
    let m = experiment::measure_network(&network, last, &init, prepared.data.x.as_ref()).unwrap();
    assert!(last.weights == before, "measurement changed the weights");
    // Four convolutions before the readout, every value a correlation.
    assert_eq!((m.uc_nfa.len(), m.c_nfa.len()), (4, 4));
    for v in m.uc_nfa.iter().chain(&m.c_nfa) {
        let v = *v.as_ref().unwrap();
        assert!((-1.0..=1.0).contains(&v), "{v}");
    }
}
