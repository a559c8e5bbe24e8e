//! `kind = "until_converged"`: gradient flow observed at geometrically
//! growing times, each interval integrated from the last state, until the
//! loss has fallen below `tolerance·ℒ(0)`.

use deep_linear::LinearObjective;
use experiment::config::Dynamics;
use experiment::{RunError, run};
use faer::Mat;

use crate::experiment;

/// Relative difference allowed between the weights of a run in intervals
/// and of one integration. Both integrate with rtol = 1e-10 per step and
/// differ only in where the adaptive steps fall, so they agree to the
/// integrator's global error (measured 9e-13 here); a slip in the interval
/// bookkeeping (a lost interval, a state not carried over, a time counted
/// twice) moves the weights by O(1).
const TOLERANCE: f64 = 1e-9;

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

/// The oracle of a run in intervals: one gradient-flow integration from
/// init through all the checkpoint `times` at once
/// (`optim::run_gradient_flow`), whose adaptive steps do not restart at
/// the checkpoints. Returns the weights at each time.
fn in_one_integration(text: &str, times: &[f64]) -> Vec<Vec<Mat<f64>>> {
    let exp = experiment(text);
    let Dynamics::GradientFlow(flow) = exp.dynamics else {
        panic!("a gradient flow run")
    };
    let prepared = experiment::prepare(&exp).unwrap();
    let mut objective =
        LinearObjective::new(prepared.stats.as_ref().unwrap(), &exp.widths).unwrap();
    let mut seen = Vec::new();
    optim::run_gradient_flow(&flow, &mut objective, &prepared.init.weights, times, |c| {
        seen.push(c.params.to_vec())
    })
    .unwrap();
    seen
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
    // The intervals restart the integrator at every checkpoint; one
    // integration through the same times must reach the same weights up
    // to the integrators' error.
    let times: Vec<f64> = s.iter().map(|c| c.time).collect();
    let oracle = in_one_integration(&text, &times);
    assert_eq!(oracle.len(), s.len());
    let mut worst = 0f64;
    for (c, params) in s.iter().zip(&oracle) {
        let (mut diff, mut norm) = (0.0, 0.0);
        for (a, b) in c.weights.iter().zip(params) {
            diff += (a - b).squared_norm_l2();
            norm += b.squared_norm_l2();
        }
        worst = worst.max((diff / norm).sqrt());
    }
    assert!(worst < TOLERANCE, "{worst:e}");
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
