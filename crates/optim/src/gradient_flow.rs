//! Gradient flow `dθ/dt = −∇ℒ(θ) − λθ` by the Dormand–Prince 5(4) pair.
//!
//! Each step computes seven stages (six new ones thanks to first-same-as-last)
//! and advances with the fifth-order solution; the difference to the embedded
//! fourth-order solution estimates the local error, measured in the
//! mixed norm `err = rms_i( e_i / (atol + rtol·max(|θ_i|, |θ'_i|)) )`.
//! A step is accepted when `err ≤ 1`; the next step size is
//! `h·clamp(0.9·err^{−1/5}, 0.2, 5)`. Steps are shortened to land exactly on
//! every checkpoint time.
//!
//! Accuracy: the local error per step is held below `rtol` relative (plus
//! `atol` absolute) per entry, so quantities that the exact flow conserves
//! (the imbalances `D_l` when λ = 0, SPEC §2.1) drift by at most about
//! (number of steps)·rtol relative; the checks of TMC25's theorems derive
//! their tolerances from this.

use faer::Mat;

use crate::params::{all_finite, axpy, copy, zeros_like};
use crate::{Checkpoint, DynamicsError, Objective, RunStats};

/// Settings of the adaptive integrator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientFlow {
    /// Relative local error tolerance per entry.
    pub rtol: f64,
    /// Absolute local error tolerance per entry.
    pub atol: f64,
    /// Weight decay λ ≥ 0 (coupled L2).
    pub weight_decay: f64,
    /// Maximum number of accepted plus rejected steps.
    pub max_steps: usize,
}

impl Default for GradientFlow {
    fn default() -> Self {
        GradientFlow {
            rtol: 1e-12,
            atol: 1e-14,
            weight_decay: 0.0,
            max_steps: 1_000_000,
        }
    }
}

impl GradientFlow {
    /// Check the settings; the error names the field.
    pub fn validate(&self) -> Result<(), DynamicsError> {
        let bad = |field, message: String| Err(DynamicsError::Invalid { field, message });
        if !(self.rtol.is_finite() && self.rtol > 0.0 && self.rtol < 1.0) {
            return bad(
                "dynamics.rtol",
                format!("must be in (0, 1), got {}", self.rtol),
            );
        }
        if !(self.atol.is_finite() && self.atol > 0.0) {
            return bad(
                "dynamics.atol",
                format!("must be finite and > 0, got {}", self.atol),
            );
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(
                "dynamics.weight_decay",
                format!("must be finite and ≥ 0, got {}", self.weight_decay),
            );
        }
        if self.max_steps == 0 {
            return bad("dynamics.max_steps", "must be at least 1".into());
        }
        Ok(())
    }
}

// Dormand–Prince 5(4) tableau (the field is autonomous, so the nodes
// c_i are not needed).
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// Fifth-order weights (equal to the last row of A: first same as last).
const B5: [f64; 7] = [
    35.0 / 384.0,
    0.0,
    500.0 / 1113.0,
    125.0 / 192.0,
    -2187.0 / 6784.0,
    11.0 / 84.0,
    0.0,
];
/// Embedded fourth-order weights.
const B4: [f64; 7] = [
    5179.0 / 57600.0,
    0.0,
    7571.0 / 16695.0,
    393.0 / 640.0,
    -92097.0 / 339200.0,
    187.0 / 2100.0,
    1.0 / 40.0,
];

/// The vector field `−∇ℒ(θ) − λθ`, written into `out`; returns `ℒ(θ)`.
fn field<O: Objective>(obj: &mut O, lambda: f64, theta: &[Mat<f64>], out: &mut [Mat<f64>]) -> f64 {
    let loss = obj.loss_and_gradient(theta, out);
    crate::params::scale(out, -1.0);
    if lambda != 0.0 {
        axpy(out, -lambda, theta);
    }
    loss
}

/// Integrate gradient flow from `theta0` through the increasing checkpoint
/// `times` (the first may be 0), calling `observe` at each.
///
/// Returns the final parameters and run statistics, or the reason the run
/// stopped (divergence, step-size underflow, step limit).
pub fn run_gradient_flow<O: Objective>(
    settings: &GradientFlow,
    objective: &mut O,
    theta0: &[Mat<f64>],
    times: &[f64],
    mut observe: impl FnMut(Checkpoint<'_>),
) -> Result<(Vec<Mat<f64>>, RunStats), DynamicsError> {
    settings.validate()?;
    let increasing = times
        .windows(2)
        .all(|w| w[1].partial_cmp(&w[0]) == Some(std::cmp::Ordering::Greater));
    if !increasing || times.first().is_some_and(|t| t.is_nan() || *t < 0.0) {
        return Err(DynamicsError::Invalid {
            field: "checkpoints",
            message: "times must be ≥ 0 and strictly increasing".into(),
        });
    }
    let lambda = settings.weight_decay;
    let mut y = theta0.to_vec();
    let mut k: Vec<Vec<Mat<f64>>> = (0..7).map(|_| zeros_like(theta0)).collect();
    let mut stage = zeros_like(theta0);
    let mut y_new = zeros_like(theta0);
    let mut err = zeros_like(theta0);
    let mut stats = RunStats {
        steps: 0,
        rejected: 0,
        evaluations: 1,
    };

    let mut t = 0.0;
    let mut loss = field(objective, lambda, &y, &mut k[0]);
    if !loss.is_finite() || !all_finite(&k[0]) {
        return Err(DynamicsError::Diverged { step: 0, time: 0.0 });
    }
    let mut h = initial_step(settings, &y, &k[0]);

    for (index, &target) in times.iter().enumerate() {
        while t < target {
            if stats.steps + stats.rejected >= settings.max_steps {
                return Err(DynamicsError::StepLimit {
                    limit: settings.max_steps,
                    time: t,
                });
            }
            let remaining = target - t;
            let (step, lands) = if h >= remaining {
                (remaining, true)
            } else {
                (h, false)
            };
            if step < 1e-14 * t.max(1.0) && !lands {
                return Err(DynamicsError::StepSizeUnderflow {
                    time: t,
                    step_size: step,
                });
            }
            // Stages 2..7; stage 7 is evaluated at the fifth-order solution,
            // and becomes stage 1 of the next step (first same as last).
            let mut loss_new = loss;
            for s in 1..7 {
                copy(&mut stage, &y);
                for (j, kj) in k.iter().enumerate().take(s) {
                    if A[s][j] != 0.0 {
                        axpy(&mut stage, step * A[s][j], kj);
                    }
                }
                let l = field(objective, lambda, &stage, &mut k[s]);
                stats.evaluations += 1;
                if s == 6 {
                    copy(&mut y_new, &stage);
                    loss_new = l;
                }
            }
            // Error estimate e = h Σ (B5 − B4)_i k_i.
            for m in err.iter_mut() {
                m.fill(0.0);
            }
            for (i, ki) in k.iter().enumerate() {
                let e = B5[i] - B4[i];
                if e != 0.0 {
                    axpy(&mut err, step * e, ki);
                }
            }
            if !loss_new.is_finite() || !all_finite(&y_new) || !all_finite(&k[6]) {
                return Err(DynamicsError::Diverged {
                    step: stats.steps + 1,
                    time: t + step,
                });
            }
            let e = error_norm(settings, &y, &y_new, &err);
            if e <= 1.0 {
                t = if lands { target } else { t + step };
                copy(&mut y, &y_new);
                loss = loss_new;
                k.swap(0, 6);
                stats.steps += 1;
                let factor = if e == 0.0 {
                    5.0
                } else {
                    (0.9 * e.powf(-0.2)).clamp(0.2, 5.0)
                };
                // A step shortened to land on a checkpoint does not shrink h.
                h = if lands {
                    h.max(step * factor)
                } else {
                    step * factor
                };
            } else {
                stats.rejected += 1;
                h = step * (0.9 * e.powf(-0.2)).clamp(0.2, 1.0);
            }
        }
        observe(Checkpoint {
            index,
            time: t,
            step: stats.steps,
            loss,
            params: &y,
        });
    }
    Ok((y, stats))
}

/// Starting step `0.01·‖θ‖/‖θ'‖` in the error norm (Hairer, Nørsett & Wanner,
/// *Solving ODEs I*, §II.4), or 1e-6 when either norm is tiny.
fn initial_step(settings: &GradientFlow, y: &[Mat<f64>], f0: &[Mat<f64>]) -> f64 {
    let (mut d0, mut d1, mut count) = (0.0, 0.0, 0usize);
    for (ym, fm) in y.iter().zip(f0) {
        for j in 0..ym.ncols() {
            for (yi, fi) in ym.col_as_slice(j).iter().zip(fm.col_as_slice(j)) {
                let sc = settings.atol + settings.rtol * yi.abs();
                d0 += (yi / sc).powi(2);
                d1 += (fi / sc).powi(2);
                count += 1;
            }
        }
    }
    let n = count.max(1) as f64;
    let (d0, d1) = ((d0 / n).sqrt(), (d1 / n).sqrt());
    if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    }
}

/// `rms_i( e_i / (atol + rtol·max(|y_i|, |y'_i|)) )`.
fn error_norm(
    settings: &GradientFlow,
    y: &[Mat<f64>],
    y_new: &[Mat<f64>],
    err: &[Mat<f64>],
) -> f64 {
    let (mut acc, mut count) = (0.0, 0usize);
    for ((ym, nm), em) in y.iter().zip(y_new).zip(err) {
        for j in 0..ym.ncols() {
            let cols = ym
                .col_as_slice(j)
                .iter()
                .zip(nm.col_as_slice(j))
                .zip(em.col_as_slice(j));
            for ((a, b), e) in cols {
                let sc = settings.atol + settings.rtol * a.abs().max(b.abs());
                acc += (e / sc).powi(2);
                count += 1;
            }
        }
    }
    (acc / count.max(1) as f64).sqrt()
}
