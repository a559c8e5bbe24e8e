//! Dense decompositions and products with explicit parallelism.
//!
//! faer's high-level solvers (`self_adjoint_eigen`, `thin_svd`, `qr`,
//! `llt`) and its `*` operator read a process-wide parallelism setting. Every decomposition in
//! the workspace goes through these functions instead, so the caller
//! passes [`Par`] and no library depends on, or sets, global state. With
//! `Par::Seq` the results are bitwise reproducible whatever the thread pool.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::linalg::evd::{self, ComputeEigenvectors, EvdError};
use faer::linalg::householder;
use faer::linalg::matmul::matmul;
use faer::linalg::qr::no_pivoting::factor as qr;
use faer::linalg::svd::{self, ComputeSvdVectors, SvdError};
use faer::{Accum, Conj, Mat, MatRef, Par};

/// `AB` with parallelism `par` (faer's `*` uses the process-wide setting,
/// whose reduction order depends on the thread count).
pub fn product(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    let mut out = Mat::zeros(a.nrows(), b.ncols());
    matmul(out.as_mut(), Accum::Replace, a, b, 1.0, par);
    out
}

/// The rows `indices` of `m`, in that order (a minibatch of samples).
pub fn rows(m: MatRef<'_, f64>, indices: &[usize]) -> Mat<f64> {
    Mat::from_fn(indices.len(), m.ncols(), |i, j| m[(indices[i], j)])
}

/// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric
/// matrix, read from its lower triangle.
pub fn eigh(a: MatRef<'_, f64>, par: Par) -> Result<(Vec<f64>, Mat<f64>), EvdError> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "eigh needs a square matrix");
    let mut u = Mat::zeros(n, n);
    let mut s = Diag::zeros(n);
    let scratch =
        evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, par, Default::default());
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    )?;
    Ok((s.column_vector().iter().copied().collect(), u))
}

/// Eigenvalues (ascending) of a symmetric matrix, read from its lower
/// triangle.
pub fn eigvalsh(a: MatRef<'_, f64>, par: Par) -> Result<Vec<f64>, EvdError> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "eigvalsh needs a square matrix");
    let mut s = Diag::zeros(n);
    let scratch =
        evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::No, par, Default::default());
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        None,
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    )?;
    Ok(s.column_vector().iter().copied().collect())
}

/// A thin SVD `A = U diag(s) Vᵀ`.
#[derive(Debug, Clone, PartialEq)]
pub struct ThinSvd {
    /// Left singular vectors, m × k.
    pub u: Mat<f64>,
    /// Singular values, descending, k = min(m, n).
    pub s: Vec<f64>,
    /// Right singular vectors, n × k.
    pub v: Mat<f64>,
}

/// The thin SVD of `a` (m × n).
pub fn thin_svd(a: MatRef<'_, f64>, par: Par) -> Result<ThinSvd, SvdError> {
    let (m, n) = a.shape();
    let k = m.min(n);
    let (mut u, mut v, mut s) = (Mat::zeros(m, k), Mat::zeros(n, k), Diag::zeros(k));
    let thin = ComputeSvdVectors::Thin;
    let scratch = svd::svd_scratch::<f64>(m, n, thin, thin, par, Default::default());
    svd::svd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        Some(v.as_mut()),
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    )?;
    Ok(ThinSvd {
        u,
        s: s.column_vector().iter().copied().collect(),
        v,
    })
}

/// The first min(m, n) columns of the Q factor of `A = QR` (Householder,
/// no pivoting).
pub fn thin_q(a: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    let (m, n) = a.shape();
    let k = m.min(n);
    let block = qr::recommended_block_size::<f64>(m, n);
    let mut factors = a.to_owned();
    let mut coeff = Mat::zeros(block, k);
    let scratch = qr::qr_in_place_scratch::<f64>(m, n, block, par, Default::default());
    qr::qr_in_place(
        factors.as_mut(),
        coeff.as_mut(),
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    );
    let mut q = Mat::identity(m, k);
    let scratch = householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<f64>(
        m, block, k,
    );
    householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
        factors.as_ref().subcols(0, k),
        coeff.as_ref(),
        Conj::No,
        q.as_mut(),
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
    );
    q
}

/// `A⁻¹B` for a symmetric positive-definite `A` (Cholesky of its lower
/// triangle); `Err` when a pivot is not positive.
pub fn cholesky_solve(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    par: Par,
) -> Result<Mat<f64>, llt::factor::LltError> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "cholesky_solve needs a square matrix");
    let mut l = Mat::zeros(n, n);
    l.copy_from_triangular_lower(a);
    let scratch = llt::factor::cholesky_in_place_scratch::<f64>(n, par, Default::default());
    llt::factor::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    )?;
    let mut x = b.to_owned();
    let scratch = llt::solve::solve_in_place_scratch::<f64>(n, x.ncols(), par);
    llt::solve::solve_in_place_with_conj(
        l.as_ref(),
        Conj::No,
        x.as_mut(),
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
    );
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gaussian_matrix;
    use crate::seed::{Stream, rng};
    use faer::Side;

    /// Sizes that hit faer's block boundaries and the sizes of the
    /// workspace's matrices.
    const SIZES: [usize; 5] = [1, 3, 19, 64, 101];

    fn symmetric(n: usize, seed: u64) -> Mat<f64> {
        let g = gaussian_matrix(n, n, &mut rng(seed, Stream::Data));
        &g * g.transpose() + Mat::<f64>::identity(n, n)
    }

    /// The explicit-parallelism decompositions equal faer's high-level
    /// solvers bit for bit (same algorithm, same sequential schedule), and
    /// agree between `Par::Seq` and two threads to round-off.
    #[test]
    fn decompositions_match_faer_solvers() {
        // faer's solvers read the process-wide setting: sequential, so
        // that they run the same schedule as `Par::Seq`.
        faer::set_global_parallelism(Par::Seq);
        for (k, &n) in SIZES.iter().enumerate() {
            let a = symmetric(n, k as u64);
            let (s, u) = eigh(a.as_ref(), Par::Seq).unwrap();
            let reference = a.self_adjoint_eigen(Side::Lower).unwrap();
            assert_eq!(
                s,
                reference
                    .S()
                    .column_vector()
                    .iter()
                    .copied()
                    .collect::<Vec<_>>()
            );
            assert_eq!(u, reference.U().to_owned());
            assert_eq!(eigvalsh(a.as_ref(), Par::Seq).unwrap(), s);
            // Two threads reorder the reductions: ~n·ε relative.
            let two = eigvalsh(a.as_ref(), Par::rayon(2)).unwrap();
            for (x, y) in two.iter().zip(&s) {
                assert!((x - y).abs() <= 1e-12 * s[n - 1], "n = {n}: {x} vs {y}");
            }

            let rect = gaussian_matrix(n + 2, n, &mut rng(k as u64, Stream::Init));
            let ThinSvd { u, s, v } = thin_svd(rect.as_ref(), Par::Seq).unwrap();
            let reference = rect.thin_svd().unwrap();
            assert_eq!(u, reference.U().to_owned());
            assert_eq!(v, reference.V().to_owned());
            assert_eq!(
                s,
                reference
                    .S()
                    .column_vector()
                    .iter()
                    .copied()
                    .collect::<Vec<_>>()
            );
            assert_eq!(thin_q(rect.as_ref(), Par::Seq), rect.qr().compute_thin_Q());

            let b = gaussian_matrix(n, 2, &mut rng(k as u64, Stream::LabelNoise));
            use faer::linalg::solvers::Solve;
            let x = cholesky_solve(a.as_ref(), b.as_ref(), Par::Seq).unwrap();
            assert_eq!(x, a.llt(Side::Lower).unwrap().solve(&b));
        }
    }

    /// A matrix that is not positive definite is an error, not a NaN.
    #[test]
    fn cholesky_rejects_an_indefinite_matrix() {
        let a = faer::mat![[1.0, 2.0], [2.0, 1.0]];
        assert!(cholesky_solve(a.as_ref(), Mat::<f64>::identity(2, 1).as_ref(), Par::Seq).is_err());
    }
}
