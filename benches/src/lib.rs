//! Inputs shared by the benchmarks: seeded random matrices of the shapes the
//! checks produce (an NFM and an AGOP of a layer).
#![warn(missing_docs)]

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Throughput};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
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

/// `baseline_matmul1024`: a 1024×1024 f64 product on all threads, with its
/// `2·1024³` flops as throughput, so that a workload in the same group can
/// be read as a fraction of the machine's matmul rate.
pub fn bench_matmul1024(group: &mut BenchmarkGroup<'_, WallTime>) {
    let (a, b) = (gaussian(1024, 1024, 4), gaussian(1024, 1024, 5));
    let mut out = Mat::<f64>::zeros(1024, 1024);
    group.throughput(Throughput::Elements(2 * 1024u64.pow(3)));
    group.bench_function("baseline_matmul1024", |bencher| {
        bencher.iter(|| {
            matmul(
                out.as_mut(),
                Accum::Replace,
                black_box(a.as_ref()),
                black_box(b.as_ref()),
                1.0,
                Par::rayon(0),
            )
        })
    });
}
