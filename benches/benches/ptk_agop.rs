//! `ptk_agop/depth5_w256_d100_C10_n2000`: the per-layer PTK and AGOP of a
//! bias-free ReLU MLP (depth 5, width 256, input 100, 10 outputs, 2000
//! samples) — the measurement BMA24's code makes every epoch — with its
//! floating-point operation count as throughput, beside a 1024×1024 matmul
//! (2·1024³ flops) in the same group: both print flop/s ("elem/s").

use std::hint::black_box;

use benches::{bench_matmul1024, gaussian};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faer::{Mat, Par};
use networks::{Activation, Architecture, tangents};

/// Flops of `tangents`: forward `2n Σ d_l d_{l−1}`; the backward products
/// `J_l = S_l W_l` for l ≥ 2 (`2Cn d_l d_{l−1}`); the symmetric rank-k
/// update of one triangle of each PTK `S_lᵀS_l` (`Cn d_l(d_l+1)`); and the
/// chain-rule AGOP `W_lᵀK_lW_l/n` (`2d_l²d_{l−1} + 2d_l d_{l−1}²`).
fn flops(widths: &[usize], n: usize) -> u64 {
    let c = *widths.last().unwrap() as u64;
    let n = n as u64;
    let mut total = 0u64;
    for l in 1..widths.len() {
        let (a, b) = (widths[l] as u64, widths[l - 1] as u64);
        total += 2 * n * a * b + c * n * a * (a + 1) + 2 * a * b * (a + b);
        if l > 1 {
            total += 2 * c * n * a * b;
        }
    }
    total
}

fn ptk_agop(cr: &mut Criterion) {
    // Sample blocks run in parallel inside `tangents`; each is sequential.
    faer::set_global_parallelism(Par::Seq);
    let widths = vec![100, 256, 256, 256, 256, 10];
    let n = 2000;
    let arch = Architecture::new(widths.clone(), Activation::Relu);
    let params: Vec<Mat<f64>> = (0..5)
        .map(|l| {
            gaussian(widths[l + 1], widths[l], 20 + l as u64)
                * faer::Scale((2.0 / widths[l] as f64).sqrt())
        })
        .collect();
    let x = gaussian(n, 100, 3);
    let mut group = cr.benchmark_group("ptk_agop");
    group.sample_size(10);
    group.throughput(Throughput::Elements(flops(&widths, n)));
    group.bench_function("depth5_w256_d100_C10_n2000", |b| {
        b.iter(|| tangents(&arch, black_box(&params), x.as_ref(), 256).unwrap())
    });
    bench_matmul1024(&mut group);
    group.finish();
}

criterion_group!(benches, ptk_agop);
criterion_main!(benches);
