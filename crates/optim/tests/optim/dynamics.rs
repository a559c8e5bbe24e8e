//! The integrators against closed-form solutions.

use faer::Mat;
use optim::{
    DynamicsError, GradientFlow, Objective, OptimizerParams, Schedule, run_gradient_flow,
    run_optimizer,
};
use proptest::prelude::*;

use crate::{Quadratic, mats};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Dormand–Prince with rtol = 1e-10 reproduces the exponential solution
    /// at every checkpoint to 1e-8 relative: the global error is bounded by
    /// the sum of the accepted local errors (≲ steps·rtol with steps ≲ 100).
    #[test]
    fn gradient_flow_matches_closed_form(seed in 0u64..1000, lambda in 0.0f64..0.5, t_end in 0.5f64..20.0) {
        let shapes = [(3, 2), (2, 4)];
        let w0 = mats(&shapes, seed);
        let target = mats(&shapes, seed + 1);
        let mut obj = Quadratic { target: target.clone() };
        let settings = GradientFlow { rtol: 1e-10, atol: 1e-12, weight_decay: lambda, max_steps: 100_000 };
        let times = Schedule::Log { t_min: 0.01, t_end, count: 10 }.times();
        let mut seen = 0;
        run_gradient_flow(&settings, &mut obj, &w0, &times, |c| {
            seen += 1;
            let decay = (-(1.0 + lambda) * c.time).exp();
            for ((w, w0), t) in c.params.iter().zip(&w0).zip(&target) {
                let star = t * faer::Scale(1.0 / (1.0 + lambda));
                let exact = &star + (w0 - &star) * faer::Scale(decay);
                let err = (w - &exact).norm_l2() / exact.norm_l2().max(1e-300);
                assert!(err < 1e-8, "t = {}: relative error {err}", c.time);
            }
        }).unwrap();
        prop_assert_eq!(seen, times.len());
    }

    /// GD with decay: one step is `(1 − ηλ)W − η(W − T)`, by hand.
    #[test]
    fn gd_step_matches_hand_computation(seed in 0u64..1000, eta in 0.001f64..0.5, lambda in 0.0f64..1.0) {
        let shapes = [(2, 3)];
        let w0 = mats(&shapes, seed);
        let target = mats(&shapes, seed + 3);
        let mut obj = Quadratic { target: target.clone() };
        let gd = OptimizerParams::gd(eta, lambda).validate().unwrap();
        let (w1, stats) = run_optimizer(&gd, &mut obj, &w0, &[0, 1], |_| {}).unwrap();
        prop_assert_eq!(stats.steps, 1);
        let hand = Mat::from_fn(2, 3, |i, j| (1.0 - eta * lambda) * w0[0][(i, j)] - eta * (w0[0][(i, j)] - target[0][(i, j)]));
        prop_assert!((&w1[0] - &hand).norm_l2() <= 1e-15 * (1.0 + hand.norm_l2()));
    }
}

/// An objective whose gradient blows up after a few evaluations.
struct Exploding {
    calls: usize,
}

impl Objective for Exploding {
    fn loss_and_gradient(&mut self, params: &[Mat<f64>], grad: &mut [Mat<f64>]) -> f64 {
        self.calls += 1;
        let v = if self.calls > 3 { f64::NAN } else { 1.0 };
        grad[0].fill(v);
        params[0].squared_norm_l2() * v
    }
}

#[test]
fn divergence_is_a_typed_error_naming_the_step() {
    let w0 = vec![Mat::from_fn(2, 2, |_, _| 1.0)];
    let gd = OptimizerParams::gd(0.1, 0.0).validate().unwrap();
    let err = run_optimizer(&gd, &mut Exploding { calls: 0 }, &w0, &[0, 10], |_| {}).unwrap_err();
    assert_eq!(
        err,
        DynamicsError::Diverged {
            step: 3,
            time: 3.0 * 0.1
        }
    );
    assert!(err.to_string().contains("step 3"));
    let flow = GradientFlow::default();
    let err = run_gradient_flow(&flow, &mut Exploding { calls: 0 }, &w0, &[0.0, 1.0], |_| {})
        .unwrap_err();
    assert!(matches!(err, DynamicsError::Diverged { .. }), "{err}");
}

#[test]
fn invalid_hyperparameters_are_named() {
    let w0 = vec![Mat::<f64>::zeros(1, 1)];
    let mut obj = Quadratic { target: w0.clone() };
    for ((eta, lambda), field) in [
        ((-1.0, 0.0), "dynamics.learning_rate"),
        ((f64::NAN, 0.0), "dynamics.learning_rate"),
        ((0.1, -1.0), "dynamics.weight_decay"),
    ] {
        let e = OptimizerParams::gd(eta, lambda).validate().unwrap_err();
        assert!(e.to_string().starts_with(field), "{e}");
    }
    let flow = GradientFlow {
        rtol: 0.0,
        ..GradientFlow::default()
    };
    let e = run_gradient_flow(&flow, &mut obj, &w0, &[0.0, 1.0], |_| {}).unwrap_err();
    assert!(e.to_string().starts_with("dynamics.rtol"), "{e}");
    let e = run_gradient_flow(&GradientFlow::default(), &mut obj, &w0, &[1.0, 0.5], |_| {})
        .unwrap_err();
    assert!(e.to_string().starts_with("checkpoints"), "{e}");
}

#[test]
fn schedules_start_at_zero_and_end_at_t_end() {
    let log = Schedule::Log {
        t_min: 0.01,
        t_end: 50.0,
        count: 20,
    }
    .times();
    assert_eq!(log.len(), 21);
    assert_eq!(log[0], 0.0);
    assert_eq!(log[1], 0.01);
    assert_eq!(*log.last().unwrap(), 50.0);
    assert!(log.windows(2).all(|w| w[1] > w[0]));
    let lin = Schedule::Linear {
        t_end: 2.0,
        count: 4,
    }
    .times();
    assert_eq!(lin, vec![0.0, 0.5, 1.0, 1.5, 2.0]);
    assert!(
        Schedule::Log {
            t_min: 5.0,
            t_end: 1.0,
            count: 3
        }
        .validate()
        .is_err()
    );
    assert!(
        Schedule::Linear {
            t_end: f64::NAN,
            count: 3
        }
        .validate()
        .is_err()
    );
}
