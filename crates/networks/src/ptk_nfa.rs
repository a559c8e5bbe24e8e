//! NFA measurements through the pre-activation tangent kernel (BMA24,
//! SPEC §4), reading the weights and `K_l`, never changing them.
//!
//! * UC-NFA: `sim(W_lᵀK_lW_l, W_lᵀW_l)`;
//! * C-NFA: `sim(ΔW_lᵀK_lΔW_l, ΔW_lᵀΔW_l)` with `ΔW_l = W_l − W_l(0)` and
//!   `K_l` of the current network (BMA24's code uses Pearson, α = 1);
//! * singular alignment: with `W = USVᵀ` (rank r),
//!   `WᵀW = VS²Vᵀ` and `WᵀKW = VS(UᵀKU)SVᵀ` are proportional iff
//!   `U_rᵀKU_r ∝ I_r`; reported as `cosine(U_rᵀKU_r, I_r)`.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use metrics::{MetricError, Similarity, similarity};

/// `Wᵀ K W`.
fn sandwich(w: MatRef<'_, f64>, k: MatRef<'_, f64>) -> Mat<f64> {
    let mut kw = Mat::zeros(k.nrows(), w.ncols());
    matmul(kw.as_mut(), Accum::Replace, k, w, 1.0, Par::Seq);
    let mut out = Mat::zeros(w.ncols(), w.ncols());
    matmul(
        out.as_mut(),
        Accum::Replace,
        w.transpose(),
        kw.as_ref(),
        1.0,
        Par::Seq,
    );
    out
}

/// The matrices the UC-NFA compares, `(WᵀKW, WᵀW)`: computed once for
/// every convention.
pub fn uc_pair(w: MatRef<'_, f64>, ptk: MatRef<'_, f64>) -> (Mat<f64>, Mat<f64>) {
    (sandwich(w, ptk), metrics::nfm(w))
}

/// The matrices the C-NFA compares, `(ΔWᵀKΔW, ΔWᵀΔW)`, `ΔW = W − W0`.
pub fn c_pair(
    w: MatRef<'_, f64>,
    w0: MatRef<'_, f64>,
    ptk: MatRef<'_, f64>,
) -> (Mat<f64>, Mat<f64>) {
    let dw = w.to_owned() - w0;
    uc_pair(dw.as_ref(), ptk)
}

/// UC-NFA of a layer: `sim(WᵀKW, WᵀW)`.
pub fn uc_nfa(
    kind: Similarity,
    w: MatRef<'_, f64>,
    ptk: MatRef<'_, f64>,
) -> Result<f64, MetricError> {
    let (a, b) = uc_pair(w, ptk);
    similarity(kind, a.as_ref(), b.as_ref())
}

/// C-NFA of a layer: `sim(ΔWᵀKΔW, ΔWᵀΔW)`, `ΔW = W − W0`. Undefined (typed)
/// while `ΔW = 0`.
pub fn c_nfa(
    kind: Similarity,
    w: MatRef<'_, f64>,
    w0: MatRef<'_, f64>,
    ptk: MatRef<'_, f64>,
) -> Result<f64, MetricError> {
    let (a, b) = c_pair(w, w0, ptk);
    similarity(kind, a.as_ref(), b.as_ref())
}

/// `cosine(U_rᵀKU_r, I_r)` for the left singular vectors `U_r` of `W` above
/// `1e-12·σ_max`.
pub fn singular_alignment(w: MatRef<'_, f64>, ptk: MatRef<'_, f64>) -> Result<f64, MetricError> {
    let common::linalg::ThinSvd { u, s, .. } = common::linalg::thin_svd(w, Par::Seq)
        .map_err(|_| MetricError::EigenFailed { what: "W (SVD)" })?;
    let smax = s.iter().copied().fold(0.0, f64::max);
    let r = s.iter().filter(|&&v| v > 1e-12 * smax).count();
    let u = u.subcols(0, r);
    let projected = sandwich(u, ptk);
    similarity(
        Similarity::Cosine,
        projected.as_ref(),
        Mat::<f64>::identity(r, r).as_ref(),
    )
}
