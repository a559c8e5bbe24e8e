//! Architecture, forward pass, MSE loss and exact backpropagation.
//!
//! Samples are rows: `A_0 = X ∈ R^{n×d}`, `H_l = A_{l−1}W_lᵀ + 1b_lᵀ`,
//! `A_l = φ(H_l)`, `F = H_L`. With residual `R = (F − Y)/n`, backpropagation
//! is `Δ_L = R`, `∇W_l = Δ_lᵀA_{l−1}`, `∇b_l = Δ_lᵀ1`,
//! `Δ_{l−1} = φ'(H_{l−1}) ⊙ (Δ_l W_l)`.

use common::linalg::rows;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use crate::Activation;

/// Inputs that do not fit the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The parameters do not match the architecture; the message names the
    /// layer and dimension.
    #[error("parameters: {0}")]
    Params(String),
    /// The data do not match the network.
    #[error("data: {0}")]
    Data(String),
}

/// A fully connected architecture. Parameters are the list
/// `[W_1, …, W_L]` (bias-free) or `[W_1, …, W_L, b_1, …, b_L]` with
/// `W_l ∈ R^{d_l×d_{l−1}}` and `b_l ∈ R^{1×d_l}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Architecture {
    /// `[d_0, …, d_L]`.
    pub widths: Vec<usize>,
    /// φ on hidden layers.
    pub activation: Activation,
    /// Whether layers have biases.
    pub bias: bool,
}

impl Architecture {
    /// A bias-free architecture.
    pub fn new(widths: Vec<usize>, activation: Activation) -> Self {
        Architecture {
            widths,
            activation,
            bias: false,
        }
    }

    /// Depth L.
    pub fn depth(&self) -> usize {
        self.widths.len().saturating_sub(1)
    }

    /// Check the shapes of `params`.
    pub fn check(&self, params: &[Mat<f64>]) -> Result<(), NetworkError> {
        let depth = self.depth();
        if depth == 0 {
            return Err(NetworkError::Params(
                "the architecture needs at least one layer".into(),
            ));
        }
        let expected = if self.bias { 2 * depth } else { depth };
        if params.len() != expected {
            return Err(NetworkError::Params(format!(
                "expected {expected} matrices, got {}",
                params.len()
            )));
        }
        for l in 0..depth {
            let (r, c) = (params[l].nrows(), params[l].ncols());
            if (r, c) != (self.widths[l + 1], self.widths[l]) {
                return Err(NetworkError::Params(format!(
                    "W_{} is {r}×{c}, expected {}×{}",
                    l + 1,
                    self.widths[l + 1],
                    self.widths[l]
                )));
            }
            if self.bias {
                let b = &params[depth + l];
                if (b.nrows(), b.ncols()) != (1, self.widths[l + 1]) {
                    return Err(NetworkError::Params(format!(
                        "b_{} is {}×{}, expected 1×{}",
                        l + 1,
                        b.nrows(),
                        b.ncols(),
                        self.widths[l + 1]
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_data(&self, x: MatRef<'_, f64>) -> Result<(), NetworkError> {
        if x.ncols() != self.widths[0] {
            return Err(NetworkError::Data(format!(
                "X has {} columns, the network takes d_0 = {}",
                x.ncols(),
                self.widths[0]
            )));
        }
        Ok(())
    }
}

/// Pre-activations `H_1..H_L` (`H_L = F`, the outputs) and hidden
/// activations `A_1..A_{L−1}` of a batch.
#[derive(Debug, Clone)]
pub struct Forward {
    /// `H_l`, l = 1..L (index l − 1), each n × d_l.
    pub pre: Vec<Mat<f64>>,
    /// `A_l = φ(H_l)`, l = 1..L−1 (index l − 1).
    pub post: Vec<Mat<f64>>,
}

impl Forward {
    /// The outputs `F = H_L` (n × C).
    pub fn output(&self) -> &Mat<f64> {
        self.pre.last().expect("at least one layer")
    }
}

/// Forward pass of the rows of `x`, the products parallelised by `par`.
pub fn forward(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    par: Par,
) -> Result<Forward, NetworkError> {
    arch.check(params)?;
    arch.check_data(x)?;
    let depth = arch.depth();
    let n = x.nrows();
    let mut pre = Vec::with_capacity(depth);
    let mut post: Vec<Mat<f64>> = Vec::with_capacity(depth.saturating_sub(1));
    for l in 0..depth {
        let input = if l == 0 { x } else { post[l - 1].as_ref() };
        let mut h = Mat::zeros(n, arch.widths[l + 1]);
        matmul(
            h.as_mut(),
            Accum::Replace,
            input,
            params[l].transpose(),
            1.0,
            par,
        );
        if arch.bias {
            let b = &params[depth + l];
            for j in 0..h.ncols() {
                let bj = b[(0, j)];
                for v in h.col_as_slice_mut(j) {
                    *v += bj;
                }
            }
        }
        if l + 1 < depth {
            let mut a = h.clone();
            for j in 0..a.ncols() {
                for v in a.col_as_slice_mut(j) {
                    *v = arch.activation.apply(*v);
                }
            }
            post.push(a);
        }
        pre.push(h);
    }
    Ok(Forward { pre, post })
}

/// `1/(2n) ‖F(X) − Y‖_F²`, the products parallelised by `par`.
pub fn mse(
    arch: &Architecture,
    params: &[Mat<f64>],
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    par: Par,
) -> Result<f64, NetworkError> {
    let f = forward(arch, params, x, par)?;
    Ok(0.5 * (f.output() - y).squared_norm_l2() / x.nrows() as f64)
}

/// The MSE objective of an MLP on a data set, for `optim`'s dynamics and
/// optimisers (full batch or minibatches).
#[derive(Debug)]
pub struct MlpObjective<'a> {
    arch: Architecture,
    x: MatRef<'a, f64>,
    y: MatRef<'a, f64>,
}

impl<'a> MlpObjective<'a> {
    /// The objective of `arch` on inputs `x` (n × d_0) and targets `y` (n × C).
    pub fn new(
        arch: Architecture,
        x: MatRef<'a, f64>,
        y: MatRef<'a, f64>,
    ) -> Result<Self, NetworkError> {
        arch.check_data(x)?;
        if y.nrows() != x.nrows() || Some(&y.ncols()) != arch.widths.last() {
            return Err(NetworkError::Data(format!(
                "Y is {}×{}, expected {}×{}",
                y.nrows(),
                y.ncols(),
                x.nrows(),
                arch.widths.last().copied().unwrap_or(0)
            )));
        }
        Ok(MlpObjective { arch, x, y })
    }

    /// Loss and gradient on the rows `x`, `y` (backpropagation, module docs).
    fn evaluate(
        &self,
        params: &[Mat<f64>],
        x: MatRef<'_, f64>,
        y: MatRef<'_, f64>,
        grad: &mut [Mat<f64>],
    ) -> f64 {
        let arch = &self.arch;
        let depth = arch.depth();
        let fwd = forward(arch, params, x, Par::Seq).expect("shapes checked at construction");
        let n = x.nrows() as f64;
        let mut delta = fwd.output() - y;
        let loss = 0.5 * delta.squared_norm_l2() / n;
        delta *= faer::Scale(1.0 / n);
        for l in (0..depth).rev() {
            let input = if l == 0 { x } else { fwd.post[l - 1].as_ref() };
            matmul(
                grad[l].as_mut(),
                Accum::Replace,
                delta.transpose(),
                input,
                1.0,
                Par::Seq,
            );
            if arch.bias {
                let gb = &mut grad[depth + l];
                for j in 0..delta.ncols() {
                    gb[(0, j)] = delta.col_as_slice(j).iter().sum();
                }
            }
            if l > 0 {
                let mut next = Mat::zeros(delta.nrows(), arch.widths[l]);
                matmul(
                    next.as_mut(),
                    Accum::Replace,
                    delta.as_ref(),
                    params[l].as_ref(),
                    1.0,
                    Par::Seq,
                );
                let h = &fwd.pre[l - 1];
                for j in 0..next.ncols() {
                    for (v, &hv) in next.col_as_slice_mut(j).iter_mut().zip(h.col_as_slice(j)) {
                        *v *= arch.activation.derivative(hv);
                    }
                }
                delta = next;
            }
        }
        loss
    }
}

impl optim::Objective for MlpObjective<'_> {
    fn loss_and_gradient(&mut self, params: &[Mat<f64>], grad: &mut [Mat<f64>]) -> f64 {
        self.evaluate(params, self.x, self.y, grad)
    }

    fn samples(&self) -> usize {
        self.x.nrows()
    }

    fn batch_loss_and_gradient(
        &mut self,
        params: &[Mat<f64>],
        batch: &[usize],
        grad: &mut [Mat<f64>],
    ) -> f64 {
        let (xb, yb) = (rows(self.x, batch), rows(self.y, batch));
        self.evaluate(params, xb.as_ref(), yb.as_ref(), grad)
    }
}
