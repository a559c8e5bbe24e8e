//! Seeded random matrices for the property tests.

use faer::Mat;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn gaussian(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| rng.sample::<f64, _>(StandardNormal))
}

/// `M Mᵀ` with M of shape d×r: PSD of rank min(d, r).
pub fn psd(d: usize, r: usize, rng: &mut ChaCha8Rng) -> Mat<f64> {
    let m = gaussian(d, r, rng);
    &m * m.transpose()
}

/// A random orthogonal matrix (Q factor of a Gaussian matrix).
pub fn orthogonal(d: usize, rng: &mut ChaCha8Rng) -> Mat<f64> {
    ::common::linalg::thin_q(gaussian(d, d, rng).as_ref(), faer::Par::Seq)
}

pub fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_l2() / b.norm_l2()
}
