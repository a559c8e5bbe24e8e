//! Each optimiser's first steps against a hand computation on a one-entry
//! problem (the speed-limited rule's on random shapes), and the validation
//! of its hyperparameters.

use faer::Mat;
use optim::{Decay, DynamicsError, Method, Objective, OptimizerParams, run_optimizer};

/// `ℒ(w) = ½(w − 3)²` for one scalar parameter: gradient `w − 3`.
struct Scalar;

impl Objective for Scalar {
    fn loss_and_gradient(&mut self, params: &[Mat<f64>], grad: &mut [Mat<f64>]) -> f64 {
        let d = params[0][(0, 0)] - 3.0;
        grad[0][(0, 0)] = d;
        0.5 * d * d
    }
}

fn params(method: Method, decay: Decay) -> OptimizerParams {
    OptimizerParams {
        method,
        learning_rate: 0.1,
        weight_decay: 0.5,
        decay,
        batch_size: None,
        batch_seed: 0,
    }
}

/// Run two steps from w = 1 and return the iterates.
fn two_steps(p: OptimizerParams) -> (f64, f64) {
    let opt = p.validate().unwrap();
    let w0 = vec![Mat::from_fn(1, 1, |_, _| 1.0)];
    let mut seen = Vec::new();
    run_optimizer(&opt, &mut Scalar, &w0, &[1, 2], |c| {
        seen.push(c.params[0][(0, 0)])
    })
    .unwrap();
    (seen[0], seen[1])
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15 * (1.0 + b.abs())
}

#[test]
fn each_rule_matches_its_hand_computed_update() {
    let (eta, lambda, mu) = (0.1, 0.5, 0.9);
    let g = |w: f64| w - 3.0;

    // GD with L2: w ← w − η(g + λw).
    let w1 = 1.0 - eta * (g(1.0) + lambda * 1.0);
    let w2 = w1 - eta * (g(w1) + lambda * w1);
    let (a, b) = two_steps(params(Method::Gd, Decay::L2));
    assert!(close(a, w1) && close(b, w2), "gd {a} {b}");

    // Heavy ball: v ← μv + (g + λw); w ← w − ηv.
    let v1 = g(1.0) + lambda;
    let w1 = 1.0 - eta * v1;
    let v2 = mu * v1 + g(w1) + lambda * w1;
    let w2 = w1 - eta * v2;
    let (a, b) = two_steps(params(Method::HeavyBall { momentum: mu }, Decay::L2));
    assert!(close(a, w1) && close(b, w2), "momentum {a} {b}");

    // Nesterov: v ← μv + d; w ← w − η(d + μv), d = g + λw.
    let d1 = g(1.0) + lambda;
    let v1 = d1;
    let w1 = 1.0 - eta * (d1 + mu * v1);
    let d2 = g(w1) + lambda * w1;
    let v2 = mu * v1 + d2;
    let w2 = w1 - eta * (d2 + mu * v2);
    let (a, b) = two_steps(params(Method::Nesterov { momentum: mu }, Decay::L2));
    assert!(close(a, w1) && close(b, w2), "nesterov {a} {b}");

    // Adam with L2 and AdamW.
    let (b1, b2, eps) = (0.9, 0.999, 1e-8);
    let adam = |decoupled: bool| {
        let (mut w, mut m, mut v) = (1.0f64, 0.0f64, 0.0f64);
        let mut out = Vec::new();
        for k in 1..=2 {
            let mut d = g(w);
            if decoupled {
                w *= 1.0 - eta * lambda;
            } else {
                d += lambda * w;
            }
            m = b1 * m + (1.0 - b1) * d;
            v = b2 * v + (1.0 - b2) * d * d;
            let (mh, vh) = (m / (1.0 - b1.powi(k)), v / (1.0 - b2.powi(k)));
            w -= eta * mh / (vh.sqrt() + eps);
            out.push(w);
        }
        (out[0], out[1])
    };
    let method = Method::Adam {
        beta1: b1,
        beta2: b2,
        epsilon: eps,
    };
    let (e1, e2) = adam(false);
    let (a, b) = two_steps(params(method, Decay::L2));
    assert!(close(a, e1) && close(b, e2), "adam_l2 {a} {b} vs {e1} {e2}");
    let (e1, e2) = adam(true);
    let (a, b) = two_steps(params(method, Decay::Decoupled));
    assert!(close(a, e1) && close(b, e2), "adamw {a} {b} vs {e1} {e2}");
}

#[test]
fn invalid_hyperparameters_name_their_field() {
    let adam = Method::Adam {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };
    let cases = [
        (
            OptimizerParams {
                learning_rate: -0.1,
                ..params(Method::Gd, Decay::L2)
            },
            "dynamics.learning_rate",
        ),
        (
            OptimizerParams {
                learning_rate: f64::NAN,
                ..params(Method::Gd, Decay::L2)
            },
            "dynamics.learning_rate",
        ),
        (
            OptimizerParams {
                weight_decay: -1.0,
                ..params(Method::Gd, Decay::L2)
            },
            "dynamics.weight_decay",
        ),
        (
            OptimizerParams {
                batch_size: Some(0),
                ..params(Method::Gd, Decay::L2)
            },
            "dynamics.batch_size",
        ),
        (
            params(Method::HeavyBall { momentum: 1.0 }, Decay::L2),
            "dynamics.momentum",
        ),
        (
            params(Method::Nesterov { momentum: -0.1 }, Decay::L2),
            "dynamics.momentum",
        ),
        (
            params(
                Method::Adam {
                    beta1: 1.5,
                    beta2: 0.999,
                    epsilon: 1e-8,
                },
                Decay::L2,
            ),
            "dynamics.beta1",
        ),
        (
            params(
                Method::Adam {
                    beta1: 0.9,
                    beta2: f64::NAN,
                    epsilon: 1e-8,
                },
                Decay::L2,
            ),
            "dynamics.beta2",
        ),
        (
            params(
                Method::Adam {
                    beta1: 0.9,
                    beta2: 0.999,
                    epsilon: 0.0,
                },
                Decay::L2,
            ),
            "dynamics.epsilon",
        ),
        (params(Method::Gd, Decay::Decoupled), "dynamics.decay"),
    ];
    for (p, field) in cases {
        match p.validate() {
            Err(DynamicsError::Invalid { field: f, .. }) => assert_eq!(f, field, "{p:?}"),
            other => panic!("{p:?}: expected an error naming {field}, got {other:?}"),
        }
    }
    assert!(params(adam, Decay::Decoupled).validate().is_ok());
}

#[test]
fn minibatches_need_samples() {
    let opt = OptimizerParams {
        batch_size: Some(2),
        ..params(Method::Gd, Decay::L2)
    }
    .validate()
    .unwrap();
    let w0 = vec![Mat::<f64>::zeros(1, 1)];
    let err = run_optimizer(&opt, &mut Scalar, &w0, &[0, 3], |_| {}).unwrap_err();
    assert!(err.to_string().starts_with("dynamics.batch_size"), "{err}");
}

#[test]
fn a_diverging_momentum_run_names_the_step() {
    // η = 1e308 with |w| = 1e10 overflows the weights to ±∞ at once.
    let opt = OptimizerParams {
        learning_rate: 1e308,
        ..params(Method::HeavyBall { momentum: 0.9 }, Decay::L2)
    }
    .validate()
    .unwrap();
    let w0 = vec![Mat::from_fn(1, 1, |_, _| 1e10)];
    let err = run_optimizer(&opt, &mut Scalar, &w0, &[0, 5], |_| {}).unwrap_err();
    assert!(
        matches!(err, DynamicsError::Diverged { step: 1 | 2, .. }),
        "{err}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// One speed-limited step against its definition (SPEC §4): with
    /// `d = g + λθ`, the chosen matrix moves by exactly `speed·d/‖d‖_F` and
    /// every other one by `η d`, for any shapes, layer, speed and decay.
    #[test]
    fn a_speed_limited_step_moves_its_layer_by_the_speed(
        shapes in proptest::collection::vec((1usize..5, 1usize..5), 1..4),
        layer_pick in 0usize..8,
        speed in 1e-3f64..10.0,
        lambda in 0.0f64..0.5,
        seed in 0u64..1000,
    ) {
        let layer = layer_pick % shapes.len();
        let w0 = crate::mats(&shapes, seed);
        let target = crate::mats(&shapes, seed + 1);
        let eta = 0.1;
        let opt = OptimizerParams {
            method: Method::SpeedLimited { layer, speed },
            learning_rate: eta,
            weight_decay: lambda,
            decay: Decay::L2,
            batch_size: None,
            batch_seed: 0,
        }
        .validate()
        .unwrap();
        let mut objective = crate::Quadratic { target };
        let (w1, _) = run_optimizer(&opt, &mut objective, &w0, &[0, 1], |_| {}).unwrap();
        for l in 0..shapes.len() {
            let d = (&w0[l] - &objective.target[l]) + &w0[l] * faer::Scale(lambda);
            let step = &w0[l] - &w1[l];
            if l == layer {
                // One division and one scaling per entry: a few ε of ‖step‖.
                let expected = &d * faer::Scale(speed / d.norm_l2());
                proptest::prop_assert!((&step - &expected).norm_l2() <= 1e-14 * speed);
                proptest::prop_assert!((step.norm_l2() - speed).abs() <= 1e-14 * speed);
            } else {
                // w − ηd is one rounding per entry of O(1) values.
                let expected = &d * faer::Scale(eta);
                proptest::prop_assert!((&step - &expected).norm_l2() <= 1e-15 * (1.0 + d.norm_l2()));
            }
        }
    }
}

#[test]
fn a_speed_limit_needs_a_positive_speed_and_an_existing_layer() {
    for speed in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let p = params(Method::SpeedLimited { layer: 0, speed }, Decay::L2);
        match p.validate() {
            Err(DynamicsError::Invalid { field, .. }) => assert_eq!(field, "dynamics.speed"),
            other => panic!("speed {speed}: {other:?}"),
        }
    }
    let opt = params(
        Method::SpeedLimited {
            layer: 1,
            speed: 0.1,
        },
        Decay::L2,
    )
    .validate()
    .unwrap();
    assert_eq!(opt.name(), "speed_limited");
    let w0 = vec![Mat::<f64>::zeros(1, 1)];
    let err = run_optimizer(&opt, &mut Scalar, &w0, &[0, 1], |_| {}).unwrap_err();
    assert!(err.to_string().starts_with("dynamics.layer"), "{err}");
}
