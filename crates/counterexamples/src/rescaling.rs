//! The rescaling family of a two-layer network with a positively
//! homogeneous activation (ReLU, leaky ReLU, identity), SPEC §3.1.
//!
//! **Claim.** For `f(x) = Σ_i a_i φ(w_iᵀx)` (`W = [w_iᵀ]`, readout columns
//! `a_i`) and any `c_i > 0`, the network with `w_i' = c_i w_i`,
//! `a_i' = a_i / c_i` computes the same function, so its loss and every
//! AGOP are unchanged, while `W'ᵀW' = Σ_i c_i² w_i w_iᵀ` ranges over a whole
//! cone of matrices.
//!
//! *Proof.* `φ(c h) = c φ(h)` for `c > 0`, so
//! `a_i' φ(w_i'ᵀx) = (a_i/c_i) c_i φ(w_iᵀx) = a_i φ(w_iᵀx)` term by term.
//! The AGOP depends on the network only through the function. ∎
//!
//! **Bound.** Scaling one neuron k by `c_k = e^s`, `s → ∞`, makes
//! `F = e^{2s} w_kw_kᵀ + E` with `‖E‖_F ≤ Σ_{j≠k}‖w_j‖²`, so for every α
//! `cos(F, G^α) ≤ w_kᵀG^αw_k / (‖w_k‖²‖G^α‖_F) + 2‖E‖_F/(e^{2s}‖w_k‖²)`
//! (a perturbation of size ‖E‖ moves a cosine by at most 2‖E‖/‖F − E‖).
//! The first term, maximised over α ∈ [0.02, 2], is the stated limit
//! [`single_neuron_bound`].

use faer::{Mat, MatRef};
use metrics::{Cutoff, MetricError, PsdEigen};

/// The network with `w_i → c_i w_i`, `a_i → a_i / c_i`: `params = [W_1, W_2]`
/// (bias-free), `c` one positive factor per hidden unit.
pub fn rescale(params: &[Mat<f64>], c: &[f64]) -> Vec<Mat<f64>> {
    let (w, a) = (&params[0], &params[1]);
    vec![
        Mat::from_fn(w.nrows(), w.ncols(), |i, j| c[i] * w[(i, j)]),
        Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)] / c[j]),
    ]
}

/// `max_{α ∈ grid} w_kᵀG^αw_k / (‖w_k‖²‖G^α‖_F)` over 200 exponents in
/// [0.02, 2]: the best-α cosine of the rank-one `w_kw_kᵀ` with `G^α`.
pub fn single_neuron_bound(w_k: MatRef<'_, f64>, g: MatRef<'_, f64>) -> Result<f64, MetricError> {
    let eig = PsdEigen::new(g, Cutoff::for_dim(g.nrows()), "AGOP")?;
    let norm2 = w_k.squared_norm_l2();
    // Project w_k on the eigenvectors once: wᵀG^αw = Σ_i λ_i^α (v_iᵀw)².
    let proj: Vec<f64> = (0..eig.values.len())
        .map(|i| {
            let p: f64 = (0..w_k.nrows())
                .map(|r| eig.vectors[(r, i)] * w_k[(r, 0)])
                .sum();
            p * p
        })
        .collect();
    let mut best = f64::NEG_INFINITY;
    for k in 0..200 {
        let alpha = 0.02 + 1.98 * k as f64 / 199.0;
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &w) in eig.values.iter().enumerate() {
            if w > 0.0 {
                let p = w.powf(alpha);
                num += p * proj[i];
                den += p * p;
            }
        }
        best = best.max(num / (norm2 * den.sqrt()));
    }
    Ok(best)
}
