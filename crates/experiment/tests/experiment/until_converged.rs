//! `kind = "until_converged"`: gradient flow observed at geometrically
//! growing times, each interval integrated from the last state, until the
//! loss has fallen below `tolerance·ℒ(0)`.

use deep_linear::LinearObjective;
use experiment::config::{Checkpoints, Dynamics};
use experiment::{RunError, run};
use faer::Mat;

use crate::experiment;

/// ABP22's setting: a scalar teacher on whitened inputs, a two-layer linear
/// network from small init.
fn abp22(noise: f64, t_first: f64, per_decade: usize) -> String {
    format!(
        "seed = 2\n[data]\nkind = \"whitened_teacher\"\nsamples = 30\ninput_dim = 10\nnoise = {noise}\n\
         [network]\ndepth = 2\nwidth = 10\n[init]\nkind = \"small\"\nsigma = 0.01\n\
         [dynamics]\nkind = \"gradient_flow\"\nrtol = 1e-10\natol = 1e-16\nmax_steps = 2000000\n\
         [checkpoints]\nkind = \"until_converged\"\nt_first = {t_first}\nper_decade = {per_decade}\ntolerance = 1e-10\n"
    )
}

/// The observations of integrating `[0, t_first]`, then each
/// `[t, t·10^{1/per_decade}]` separately from the state at t, with
/// `optim::run_gradient_flow`, until `ℒ ≤ tolerance·ℒ(0)` (the loop of
/// ABP22's runs, written out).
fn by_intervals(text: &str) -> Vec<(f64, f64, Vec<Mat<f64>>)> {
    let exp = experiment(text);
    let (Dynamics::GradientFlow(flow), Checkpoints::UntilConverged(until)) =
        (exp.dynamics, exp.checkpoints.clone())
    else {
        panic!("a gradient flow run until converged")
    };
    let prepared = experiment::prepare(&exp).unwrap();
    let mut objective =
        LinearObjective::new(prepared.stats.as_ref().unwrap(), &exp.widths).unwrap();
    let growth = 10f64.powf(1.0 / until.per_decade as f64);
    let (mut theta, mut t) = (prepared.init.weights.clone(), 0.0);
    let mut seen: Vec<(f64, f64, Vec<Mat<f64>>)> = Vec::new();
    loop {
        let length = if t == 0.0 {
            until.t_first
        } else {
            t * (growth - 1.0)
        };
        let times = if t == 0.0 {
            vec![0.0, length]
        } else {
            vec![length]
        };
        let (next, _) = optim::run_gradient_flow(&flow, &mut objective, &theta, &times, |c| {
            seen.push((t + c.time, c.loss, c.params.to_vec()))
        })
        .unwrap();
        t += length;
        theta = next;
        if seen.last().unwrap().1 <= until.tolerance * seen[0].1 {
            return seen;
        }
    }
}

#[test]
fn a_run_stops_at_the_first_converged_checkpoint_with_the_interval_states() {
    let text = abp22(0.0, 0.01, 4);
    let exp = experiment(&text);
    let (_, traj) = run(&exp).unwrap();
    let s = &traj.snapshots;
    let loss0 = s[0].loss;
    assert!(s.last().unwrap().loss <= 1e-10 * loss0);
    assert!(s[..s.len() - 1].iter().all(|c| c.loss > 1e-10 * loss0));
    assert!(s.len() < 10 * 4 + 3, "{} checkpoints", s.len());
    // Times 0, t_first, then growing by 10^{1/4}; steps summed over the
    // intervals.
    assert_eq!((s[0].time, s[1].time), (0.0, 0.01));
    for w in s[1..].windows(2) {
        let ratio = w[1].time / w[0].time;
        assert!((ratio - 10f64.powf(0.25)).abs() < 1e-12, "{ratio}");
        assert!(w[1].step > w[0].step);
    }
    assert_eq!(s.last().unwrap().step, traj.stats.steps);
    // The same bits as integrating each interval by hand.
    let oracle = by_intervals(&text);
    assert_eq!(oracle.len(), s.len());
    for (c, (t, loss, params)) in s.iter().zip(&oracle) {
        assert!(c.time == *t && c.loss.to_bits() == loss.to_bits() && c.weights == *params);
    }
}

/// With label noise and more samples than dimensions the loss has a floor
/// far above 1e-10·ℒ(0): the run gives up after its 10·per_decade + 2
/// intervals (here ten decades beyond t_first = 1e-9, i.e. up to t = 100).
#[test]
fn a_run_that_cannot_converge_is_an_error() {
    let exp = experiment(&abp22(0.3, 1e-9, 1));
    match run(&exp) {
        Err(RunError::NotConverged {
            intervals,
            loss,
            initial_loss,
            time,
            ..
        }) => {
            assert_eq!(intervals, 12);
            assert!(loss > 1e-10 * initial_loss && loss < initial_loss);
            assert!((time - 1e-9 * 1e11).abs() < 1e-6 * 100.0, "{time}");
        }
        other => panic!("{other:?}"),
    }
    let e = run(&exp).unwrap_err().to_string();
    assert!(e.starts_with("not converged by t = 1.000e2"), "{e}");
}
