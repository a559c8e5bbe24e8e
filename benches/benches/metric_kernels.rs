//! Criterion benchmarks of the metric kernels (SPEC §1) at d = 64, 256, 1024,
//! and the named workload `alpha_scan/d256_k50` with its baselines (one
//! 256×256 symmetric eigendecomposition and one 256×256 matmul) measured in
//! the same group.
//!
//! Every kernel runs single-threaded (faer `Par::Seq`), as in the report,
//! where independent experiments run in parallel instead.

use std::hint::black_box;

use benches::{gaussian, nfm_agop};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par, Side};
use metrics::alpha::AlphaOptions;
use metrics::{AlphaEstimator, AlphaScan, Cutoff, Similarity};

const SIZES: [usize; 3] = [64, 256, 1024];

fn configure(c: &mut Criterion) {
    let _ = c;
    faer::set_global_parallelism(Par::Seq);
}

fn psd_power(c: &mut Criterion) {
    configure(c);
    let mut group = c.benchmark_group("psd_power");
    group.sample_size(10);
    for d in SIZES {
        let (_, g) = nfm_agop(d);
        group.bench_function(BenchmarkId::from_parameter(d), |b| {
            b.iter(|| {
                metrics::psd_power(black_box(g.as_ref()), 1.0 / 3.0, Cutoff::for_dim(d)).unwrap()
            })
        });
    }
    group.finish();
}

fn similarities(c: &mut Criterion) {
    configure(c);
    let mut group = c.benchmark_group("similarity");
    for d in SIZES {
        let (f, g) = nfm_agop(d);
        for kind in Similarity::ALL {
            group.bench_function(BenchmarkId::new(kind.name(), d), |b| {
                b.iter(|| {
                    metrics::similarity(kind, black_box(f.as_ref()), black_box(g.as_ref())).unwrap()
                })
            });
        }
    }
    group.finish();
}

fn alpha_estimators(c: &mut Criterion) {
    configure(c);
    let mut group = c.benchmark_group("alpha");
    group.sample_size(10);
    let options = AlphaOptions::default();
    for d in SIZES {
        let (f, g) = nfm_agop(d);
        for est in AlphaEstimator::ALL {
            group.bench_function(BenchmarkId::new(est.name(), d), |b| {
                b.iter(|| {
                    metrics::estimate_alpha(
                        black_box(f.as_ref()),
                        black_box(g.as_ref()),
                        est,
                        &options,
                    )
                    .unwrap()
                })
            });
        }
    }
    group.finish();
}

fn agop_linear(c: &mut Criterion) {
    configure(c);
    let mut group = c.benchmark_group("agop_linear");
    group.sample_size(10);
    // A depth-3 network d → d → d → 10: G_1 = PᵀP with P = W_3 W_2 W_1.
    for d in SIZES {
        let layers = [gaussian(d, d, 3), gaussian(d, d, 4), gaussian(10, d, 5)];
        let refs: Vec<MatRef<'_, f64>> = layers.iter().map(|w| w.as_ref()).collect();
        group.bench_function(BenchmarkId::from_parameter(d), |b| {
            b.iter(|| metrics::agop_linear(black_box(&refs)).unwrap())
        });
    }
    group.finish();
}

/// The best cosine over 50 exponents from one eigendecomposition and one
/// rotation, against the cost of one eigh and one matmul (target: ≤ 1.5×).
fn alpha_scan(c: &mut Criterion) {
    configure(c);
    let mut group = c.benchmark_group("alpha_scan");
    let d = 256;
    let (f, g) = nfm_agop(d);
    let alphas: Vec<f64> = (0..50).map(|k| 0.02 + 1.98 * k as f64 / 49.0).collect();
    group.bench_function("d256_k50", |b| {
        b.iter(|| {
            let scan = AlphaScan::new(
                black_box(f.as_ref()),
                black_box(g.as_ref()),
                Cutoff::for_dim(d),
            )
            .unwrap();
            scan.best_of(Similarity::Cosine, &alphas).unwrap()
        })
    });
    group.bench_function("baseline_eigh256", |b| {
        b.iter(|| {
            black_box(g.as_ref())
                .self_adjoint_eigen(Side::Lower)
                .unwrap()
        })
    });
    let mut out = Mat::<f64>::zeros(d, d);
    group.bench_function("baseline_matmul256", |b| {
        b.iter(|| {
            matmul(
                out.as_mut(),
                Accum::Replace,
                black_box(f.as_ref()),
                black_box(g.as_ref()),
                1.0,
                Par::Seq,
            )
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    alpha_scan,
    psd_power,
    similarities,
    alpha_estimators,
    agop_linear
);
criterion_main!(benches);
