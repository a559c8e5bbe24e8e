//! Inputs shared by the benchmarks: seeded random matrices of the shapes the
//! checks produce (an NFM and an AGOP of a layer).
#![warn(missing_docs)]

use faer::Mat;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// `rows × cols` matrix of i.i.d. N(0, 1) entries from `seed`.
pub fn gaussian(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Mat::from_fn(rows, cols, |_, _| rng.sample::<f64, _>(StandardNormal))
}

/// A d×d PSD matrix `MMᵀ/d` of full rank.
pub fn psd(d: usize, seed: u64) -> Mat<f64> {
    let m = gaussian(d, d, seed);
    &m * m.transpose() * faer::Scale(1.0 / d as f64)
}

/// An (NFM, AGOP) pair of size d: `G` PSD and `F = G^{1/3}` plus a PSD
/// perturbation, so that no estimator hits an exact answer by luck.
pub fn nfm_agop(d: usize) -> (Mat<f64>, Mat<f64>) {
    let g = psd(d, 1);
    let f = metrics::psd_power(g.as_ref(), 1.0 / 3.0, metrics::Cutoff::for_dim(d))
        .expect("PSD input")
        + psd(d, 2) * faer::Scale(1e-2);
    (f, g)
}

/// The benchmarks allocate large matrices on every call, as the report
/// binary does; mimalloc reuses their pages instead of returning them to the
/// kernel and faulting them in again (glibc maps each ≥ 128 KiB block
/// afresh), which is ~20% of a 500×500 NTK evaluation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
