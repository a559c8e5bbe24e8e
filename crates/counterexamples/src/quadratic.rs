//! The sign-mixed quadratic network, SPEC §3.2.
//!
//! **Construction.** For orthonormal u, v and a scale c > 0 let
//! `w_1 = c u + v/(2c)`, `w_2 = c u − v/(2c)` (so `w_1 + w_2 = 2cu`,
//! `w_1 − w_2 = v/c`), `W_1 = [w_1ᵀ; w_2ᵀ]`, readout `[1, −1]` and φ(h) = h².
//!
//! **Claim.** `f(x) = (w_1·x)² − (w_2·x)² = 2(u·x)(v·x)` for every c (an
//! exact fit of that teacher), while on data with `XᵀX/n = I`
//! `G_1 = 4(uuᵀ + vvᵀ)` and `W_1ᵀW_1 = 2c²uuᵀ + vvᵀ/(2c²)`, so
//! `cos(W_1ᵀW_1, G_1^{1/2}) = (1 + t)/(√2·√(1 + t²))` with `t = 1/(4c⁴)`,
//! which tends to `1/√2` as c → ∞ with `|cos − 1/√2| ≤ t`.
//!
//! *Proof.* `(w_1·x)² − (w_2·x)² = ((w_1 − w_2)·x)((w_1 + w_2)·x) =
//! (v·x/c)(2c u·x)`. The input gradient is `∇f = 2(v·x)u + 2(u·x)v`, so
//! `G_1 = (4/n)Σ_i [(v·x_i)²uuᵀ + (u·x_i)²vvᵀ + (u·x_i)(v·x_i)(uvᵀ + vuᵀ)]`
//! `= 4(uuᵀ + vvᵀ)` when `XᵀX/n = I`. `W_1ᵀW_1 = w_1w_1ᵀ + w_2w_2ᵀ =
//! 2c²uuᵀ + vvᵀ/(2c²)`. With `G^{1/2} = 2(uuᵀ + vvᵀ)`:
//! `⟨F, G^{1/2}⟩ = 2(2c² + 1/(2c²))`, `‖F‖ = √(4c⁴ + 1/(4c⁴))`,
//! `‖G^{1/2}‖ = 2√2`; simplify. Finally `(1+t)/√(1+t²) − 1 ≤ t`. ∎

use faer::Mat;

/// `[W_1, W_2]` of the construction for unit, orthogonal `u`, `v` (columns
/// d × 1) and scale `c`.
pub fn network(u: &Mat<f64>, v: &Mat<f64>, c: f64) -> Vec<Mat<f64>> {
    let d = u.nrows();
    let w1 = Mat::from_fn(2, d, |i, j| {
        let sign = if i == 0 { 1.0 } else { -1.0 };
        c * u[(j, 0)] + sign * v[(j, 0)] / (2.0 * c)
    });
    let w2 = Mat::from_fn(1, 2, |_, j| if j == 0 { 1.0 } else { -1.0 });
    vec![w1, w2]
}

/// The teacher `2(u·x)(v·x)` on the rows of `x`.
pub fn teacher(u: &Mat<f64>, v: &Mat<f64>, x: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(x.nrows(), 1, |i, _| {
        let (mut ux, mut vx) = (0.0, 0.0);
        for j in 0..x.ncols() {
            ux += u[(j, 0)] * x[(i, j)];
            vx += v[(j, 0)] * x[(i, j)];
        }
        2.0 * ux * vx
    })
}

/// The closed-form `cos(W_1ᵀW_1, G_1^{1/2})` at scale c on whitened data.
pub fn predicted_cosine(c: f64) -> f64 {
    let t = 1.0 / (4.0 * c.powi(4));
    (1.0 + t) / (2f64.sqrt() * (1.0 + t * t).sqrt())
}

/// `t = 1/(4c⁴)`, which bounds `|cos − 1/√2|`.
pub fn limit_gap_bound(c: f64) -> f64 {
    1.0 / (4.0 * c.powi(4))
}
