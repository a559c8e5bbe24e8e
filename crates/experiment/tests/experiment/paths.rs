//! The two training paths: the deep-linear statistics path and
//! backpropagation through `networks::MlpObjective`.

use experiment::{Experiment, run, run::run_prepared};
use faer::Mat;

use crate::experiment;

const RELU: &str = include_str!("../../../../fixtures/experiments/relu_digits_parity.toml");

/// A deep linear teacher task with the given `[dynamics]` and
/// `[checkpoints]` bodies.
fn linear(dynamics: &str, checkpoints: &str) -> Experiment {
    experiment(&format!(
        "seed = 4\n[data]\nkind = \"teacher\"\nsamples = 64\ninput_dim = 8\noutputs = 3\nnoise = 0.1\n\
         [network]\ndepth = 3\nwidth = 10\n[init]\nkind = \"gaussian\"\nsigma = 1.0\n\
         [dynamics]\n{dynamics}\n[checkpoints]\n{checkpoints}\n"
    ))
}

/// Largest difference of losses and parameters between two trajectories,
/// relative to the size of each (1 where it is smaller than 1).
fn max_relative_difference(exp: &Experiment) -> f64 {
    let (mut prepared, fast) = run(exp).unwrap();
    assert!(prepared.stats.is_some());
    // Without statistics the run backpropagates through MlpObjective.
    prepared.stats = None;
    let slow = run_prepared(exp, &prepared).unwrap();
    assert_eq!(fast.snapshots.len(), slow.snapshots.len());
    let rel = |a: f64, b: f64| (a - b).abs() / a.abs().max(1.0);
    let mut worst = 0.0f64;
    for (a, b) in fast.snapshots.iter().zip(&slow.snapshots) {
        assert_eq!((a.time, a.step), (b.time, b.step));
        worst = worst.max(rel(a.loss, b.loss));
        for (wa, wb) in a.weights.iter().zip(&b.weights) {
            worst = worst.max((wa - wb).norm_l2() / wa.norm_l2().max(1.0));
        }
    }
    worst
}

/// The deep-linear path computes the same loss and gradient as
/// backpropagation, from `XᵀX/n` and `YᵀX/n` instead of the samples (and
/// of the same minibatches): only the order of the sums differs, so the
/// trajectories agree to round-off. Observed: below 1e-15 relative after
/// 300 steps; 1e-12 allows round-off to grow a thousandfold along the run.
#[test]
fn identity_mlp_path_follows_the_deep_linear_path() {
    let steps = "kind = \"steps\"\nsteps = [0, 10, 100, 300]";
    for dynamics in [
        "kind = \"gd\"\nlearning_rate = 0.05",
        "kind = \"sgd\"\nlearning_rate = 0.05\nbatch_size = 16",
        "kind = \"adamw\"\nlearning_rate = 0.01\nweight_decay = 0.01\nbatch_size = 16",
    ] {
        let worst = max_relative_difference(&linear(dynamics, steps));
        assert!(worst < 1e-12, "{dynamics}: {worst:e}");
    }
}

/// Gradient flow: the adaptive integrator's step sizes come from its error
/// estimates, which see the round-off of the two paths, so a step could be
/// accepted on one path and rejected on the other; the trajectories are
/// then only guaranteed to agree to the integration tolerance (rtol = 1e-10
/// per step, times the number of steps). Observed: 3e-15, the same steps.
#[test]
fn identity_mlp_path_follows_the_deep_linear_flow() {
    let exp = linear(
        "kind = \"gradient_flow\"\nrtol = 1e-10\natol = 1e-14",
        "kind = \"log\"\nt_min = 0.1\nt_end = 10.0\ncount = 5",
    );
    let (_, fast) = run(&exp).unwrap();
    let bound = fast.stats.steps as f64 * 1e-10;
    let worst = max_relative_difference(&exp);
    assert!(worst < bound, "{worst:e} ≥ {bound:e}");
}

/// The fixture's ReLU network learns: with η = 0.02, far below the
/// stability limit, each checkpoint's loss is below the previous one, and
/// the loss falls tenfold over the run.
#[test]
fn a_relu_network_decreases_its_loss() {
    let exp = experiment(RELU);
    assert!(!exp.is_deep_linear());
    let (prepared, traj) = run(&exp).unwrap();
    assert!(prepared.stats.is_none());
    let losses: Vec<f64> = traj.snapshots.iter().map(|s| s.loss).collect();
    assert!(losses.windows(2).all(|w| w[1] < w[0]), "{losses:?}");
    assert!(losses[losses.len() - 1] < 0.1 * losses[0], "{losses:?}");
}

/// With biases the parameters are `[W_1..W_L, b_1..b_L]`, the biases start
/// at 0 and are trained.
#[test]
fn biases_follow_the_weights_in_the_snapshots() {
    let exp = experiment(RELU);
    let arch = exp.architecture();
    assert!(arch.bias && exp.biases);
    let (prepared, traj) = run(&exp).unwrap();
    let first = &traj.snapshots[0];
    assert_eq!(first.weights.len(), 2 * exp.depth());
    arch.check(&first.weights).unwrap();
    assert!(first.weights[..exp.depth()] == prepared.init.weights[..]);
    for (b, &d) in first.weights[exp.depth()..].iter().zip(&exp.widths[1..]) {
        assert!(*b == Mat::<f64>::zeros(1, d));
    }
    let last = traj.snapshots.last().unwrap();
    assert!(
        last.weights[exp.depth()..]
            .iter()
            .all(|b| b.norm_l2() > 0.0)
    );
}

/// A run is the optimiser the claims call by hand: the same
/// `optim::run_optimizer` on `networks::MlpObjective`, minibatches seeded by
/// `common::seed::batch_seed` of the master seed — equal bits.
#[test]
fn an_sgd_run_is_run_optimizer_on_the_mlp_objective() {
    let text = RELU
        .replace(
            "kind = \"gd\"\nlearning_rate = 0.02",
            "kind = \"sgd\"\nlearning_rate = 0.02\nbatch_size = 32",
        )
        .replace(
            "kind = \"log_steps\"\ntotal = 400\ncount = 12",
            "kind = \"steps\"\nsteps = [0, 7, 30]",
        );
    let exp = experiment(&text);
    let (prepared, traj) = run(&exp).unwrap();
    let opt = optim::OptimizerParams {
        method: optim::Method::Gd,
        learning_rate: 0.02,
        weight_decay: 0.0,
        decay: optim::Decay::L2,
        batch_size: Some(32),
        batch_seed: common::seed::batch_seed(1),
    }
    .validate()
    .unwrap();
    let mut objective = networks::MlpObjective::new(
        exp.architecture(),
        prepared.data.x.as_ref(),
        prepared.data.y.as_ref(),
    )
    .unwrap();
    let theta0 = experiment::initial_params(&exp, &prepared);
    let mut by_hand = Vec::new();
    optim::run_optimizer(&opt, &mut objective, &theta0, &[0, 7, 30], |c| {
        by_hand.push((c.step, c.loss, c.params.to_vec()))
    })
    .unwrap();
    assert_eq!(traj.snapshots.len(), 3);
    for (s, (step, loss, params)) in traj.snapshots.iter().zip(&by_hand) {
        assert!(s.step == *step && s.loss.to_bits() == loss.to_bits() && s.weights == *params);
    }
}

/// `Experiment::updates` is the number of optimiser steps a run takes: the
/// last snapshot's step (times map to `round(t/η)`); gradient flow has none.
#[test]
fn updates_are_the_last_snapshots_step() {
    for (dynamics, checkpoints) in [
        (
            "kind = \"gd\"\nlearning_rate = 0.05",
            "kind = \"steps\"\nsteps = [0, 7]",
        ),
        (
            "kind = \"gd\"\nlearning_rate = 0.05",
            "kind = \"linear\"\nt_end = 1.0\ncount = 2",
        ),
    ] {
        let exp = linear(dynamics, checkpoints);
        let (_, traj) = run(&exp).unwrap();
        assert_eq!(exp.updates(), traj.snapshots.last().map(|s| s.step));
    }
    let flow = linear(
        "kind = \"gradient_flow\"",
        "kind = \"linear\"\nt_end = 1.0\ncount = 2",
    );
    assert_eq!(flow.updates(), None);
}
