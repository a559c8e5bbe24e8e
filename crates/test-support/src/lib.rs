//! Test oracles: computations independent of the library paths they check,
//! used only by tests (a dev-dependency; no library depends on this crate).
//!
//! * [`derivative`], [`gradient`], [`input_gradients`]: finite differences,
//!   the one implementation every gradient test uses;
//! * [`parameter_jacobian`], [`jacobian_ntk`]: the empirical NTK as `J Jᵀ`
//!   from the loss backpropagation of [`networks::MlpObjective`], against the
//!   closed form of `ntk`;
//! * [`mse_direct`]: a deep linear network's MSE from its residual, against
//!   the sufficient-statistics objective of `deep-linear`.
#![warn(missing_docs)]

use faer::{Mat, MatRef};
use metrics::MetricError;
use networks::{Architecture, MlpObjective, NetworkError, forward};
use optim::Objective;

/// A finite-difference scheme for `f'(0)` with step h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `D(h) = (f(h) − f(−h)) / 2h`: truncation `O(h²·f‴)`, rounding
    /// `O(ε·|f|/h)`.
    Central,
    /// Richardson extrapolation `(4·D(h/2) − D(h)) / 3`: truncation
    /// `O(h⁴·f⁽⁵⁾)`, same rounding order.
    Richardson,
}

/// `f'(0)` of a function of the perturbation t, by `scheme` with step `h`.
pub fn derivative(h: f64, scheme: Scheme, mut f: impl FnMut(f64) -> f64) -> f64 {
    let mut central = |h: f64| (f(h) - f(-h)) / (2.0 * h);
    match scheme {
        Scheme::Central => central(h),
        Scheme::Richardson => (4.0 * central(h / 2.0) - central(h)) / 3.0,
    }
}

/// The gradient of `loss` with respect to every entry of `params`, each
/// entry perturbed alone.
pub fn gradient(
    params: &[Mat<f64>],
    h: f64,
    scheme: Scheme,
    loss: impl Fn(&[Mat<f64>]) -> f64,
) -> Vec<Mat<f64>> {
    let mut probe = params.to_vec();
    params
        .iter()
        .enumerate()
        .map(|(k, p)| {
            Mat::from_fn(p.nrows(), p.ncols(), |i, j| {
                let d = derivative(h, scheme, |t| {
                    probe[k][(i, j)] = p[(i, j)] + t;
                    loss(&probe)
                });
                probe[k][(i, j)] = p[(i, j)];
                d
            })
        })
        .collect()
}

/// Per-sample input gradients of every output by central differences of
/// `forward` (n × d inputs to n × C outputs): row `o·n + i` is
/// `∇_x f_o(x_i)ᵀ` (d columns).
pub fn input_gradients(
    x: &Mat<f64>,
    h: f64,
    forward: impl Fn(MatRef<'_, f64>) -> Mat<f64>,
) -> Mat<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    let mut rows: Option<Mat<f64>> = None;
    let mut probe = x.clone();
    for i in 0..n {
        for k in 0..d {
            probe[(i, k)] = x[(i, k)] + h;
            let up = forward(probe.as_ref());
            probe[(i, k)] = x[(i, k)] - h;
            let down = forward(probe.as_ref());
            probe[(i, k)] = x[(i, k)];
            let rows = rows.get_or_insert_with(|| Mat::zeros(up.ncols() * n, d));
            for o in 0..up.ncols() {
                rows[(o * n + i, k)] = (up[(i, o)] - down[(i, o)]) / (2.0 * h);
            }
        }
    }
    rows.unwrap_or_else(|| Mat::zeros(0, d))
}

/// The explicit parameter Jacobian `J` ((C·n) × P, row `c·n + i` is
/// `∇_θ f_c(x_i)ᵀ`, parameters in the order of `params`, each matrix
/// column-major), from the loss backpropagation of [`MlpObjective`]: with
/// one sample and target `f(x_i) − e_c`, the gradient of
/// `½‖f(x_i) − y‖²` is exactly `∇_θ f_c(x_i)`. Cost: one backpropagation
/// per sample and output, memory `C·n·P`.
pub fn parameter_jacobian(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Mat<f64>, NetworkError> {
    let outputs_all = forward(arch, params, x, faer::Par::Seq)?;
    let f = outputs_all.output();
    let (n, outputs) = (x.nrows(), f.ncols());
    let count: usize = params.iter().map(|p| p.nrows() * p.ncols()).sum();
    let mut jac = Mat::<f64>::zeros(outputs * n, count);
    let mut grad: Vec<Mat<f64>> = params
        .iter()
        .map(|p| Mat::zeros(p.nrows(), p.ncols()))
        .collect();
    for i in 0..n {
        let xi = x.subrows(i, 1);
        for c in 0..outputs {
            let target = Mat::from_fn(1, outputs, |_, k| {
                f[(i, k)] - if k == c { 1.0 } else { 0.0 }
            });
            let mut objective = MlpObjective::new(arch.clone(), xi, target.as_ref())?;
            objective.loss_and_gradient(params, &mut grad);
            let mut col = 0;
            for g in &grad {
                for j in 0..g.ncols() {
                    for &v in g.col_as_slice(j) {
                        jac[(c * n + i, col)] = v;
                        col += 1;
                    }
                }
            }
        }
    }
    Ok(jac)
}

/// The full empirical NTK ((C·n) × (C·n), row and column `c·n + i`) as
/// `J Jᵀ` from [`parameter_jacobian`] (small networks only: `(C·n)²·P`).
pub fn jacobian_ntk(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<Mat<f64>, NetworkError> {
    let jac = parameter_jacobian(arch, params, x)?;
    Ok(&jac * jac.transpose())
}

/// Direct MSE `1/(2n) ‖X Pᵀ − Y‖_F²` of a deep linear network from its
/// residual on the samples.
pub fn mse_direct(
    layers: &[Mat<f64>],
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
) -> Result<f64, MetricError> {
    let out = deep_linear::forward(layers, x)?;
    Ok(0.5 * (out - y).squared_norm_l2() / x.nrows() as f64)
}
