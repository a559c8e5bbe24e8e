//! Partial whitening `X_γ = c·U S^γ Vᵀ`: γ = 0 gives `XᵀX = n I` (n ≥ d),
//! γ = 1 returns X up to the scale c, and the singular vectors are kept.

use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_l2() / b.norm_l2()
}

/// Tolerances: SVD backward error ~n·ε relative, so 1e-12.
#[test]
fn whitening_limits() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = common::gaussian_matrix(30, 6, &mut rng)
        * Mat::from_fn(6, 6, |i, j| if i == j { 1.0 / (i + 1) as f64 } else { 0.0 });
    let w = datasets::partially_whiten(&x, 0.0).unwrap();
    let gram = w.transpose() * &w;
    assert!(rel(&gram, &(Mat::<f64>::identity(6, 6) * faer::Scale(30.0))) < 1e-12);
    let raw = datasets::partially_whiten(&x, 1.0).unwrap();
    // γ = 1: the same matrix rescaled, so the cosine with X is 1.
    let cos = (raw.transpose() * &x)
        .diagonal()
        .column_vector()
        .iter()
        .sum::<f64>()
        / (raw.norm_l2() * x.norm_l2());
    assert!((cos - 1.0).abs() < 1e-12);
    assert!(datasets::partially_whiten(&x, -1.0).is_err());
    assert!(datasets::partially_whiten(&Mat::zeros(3, 2), 0.0).is_err());
}
