//! `ntk_stats/relu5_w256_d100_C10_n4000`: the blocked per-output NTK
//! statistics (`ntk::kernel_statistics`: uncentred and centred alignments,
//! kernel–kernel inner products, specialisation sums) of a ReLU MLP with
//! 4 hidden layers of width 256, biases, d = 100, C = 10, on n = 4000
//! samples, with the flop count of its products as throughput, beside a
//! 1024×1024 matmul (2·1024³ flops) in the same group: both print flop/s
//! ("elem/s").

use std::hint::black_box;

use benches::{bench_matmul1024, gaussian};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faer::{Mat, Par};
use networks::{Activation, Architecture};
use ntk::Blocking;

/// Flops of the products of `ntk::kernel_statistics` (the elementwise
/// Hadamard and reduction passes are not counted):
///
/// * per tile pair (a ≤ b, `n_a × n_b` entries): the activation Grams
///   `2 n_a n_b Σ_l (d_{l−1} + 1)`, the gradient Grams `2 n_a n_b C Σ_{l<L} d_l`
///   and the products with `[Y, HY]`, `2 n_a n_b C · 2C`;
/// * three passes of tangents over the samples (two for the row sums, one
///   for the single panel): forward `2n Σ d_l d_{l−1}`, backward
///   `2nC Σ_{l≥2} d_l d_{l−1}`; and the row-sum factors and their
///   application, `2 · 2nC Σ_{l<L} (d_{l−1} + 1) d_l`.
fn flops(widths: &[usize], n: usize, tile: usize) -> u64 {
    let depth = widths.len() - 1;
    let c = widths[depth] as u64;
    let act: u64 = widths[..depth].iter().map(|&d| d as u64 + 1).sum();
    let grad: u64 = c * widths[1..depth].iter().map(|&d| d as u64).sum::<u64>();
    let per_entry = 2 * (act + grad + c * 2 * c);
    let sizes: Vec<u64> = (0..n)
        .step_by(tile)
        .map(|s| tile.min(n - s) as u64)
        .collect();
    let mut total = 0;
    for (i, &na) in sizes.iter().enumerate() {
        for &nb in &sizes[i..] {
            total += na * nb * per_entry;
        }
    }
    let n = n as u64;
    let layer = |l: usize| widths[l] as u64 * widths[l - 1] as u64;
    let forward: u64 = (1..=depth).map(|l| 2 * n * layer(l)).sum();
    let backward: u64 = (2..=depth).map(|l| 2 * n * c * layer(l)).sum();
    let factors: u64 = (1..depth)
        .map(|l| 2 * 2 * n * c * (widths[l - 1] as u64 + 1) * widths[l] as u64)
        .sum();
    total + 3 * (forward + backward) + factors
}

fn ntk_stats(cr: &mut Criterion) {
    faer::set_global_parallelism(Par::rayon(0));
    let widths = vec![100, 256, 256, 256, 256, 10];
    let n = 4000;
    let arch = Architecture {
        widths: widths.clone(),
        activation: Activation::Relu,
        bias: true,
    };
    let depth = widths.len() - 1;
    let mut params: Vec<Mat<f64>> = (0..depth)
        .map(|l| {
            gaussian(widths[l + 1], widths[l], 40 + l as u64)
                * faer::Scale((2.0 / widths[l] as f64).sqrt())
        })
        .collect();
    params.extend((0..depth).map(|l| gaussian(1, widths[l + 1], 50 + l as u64) * faer::Scale(0.1)));
    let x = gaussian(n, widths[0], 7);
    let y = gaussian(n, widths[depth], 8);
    let blocking = Blocking::default();
    let mut group = cr.benchmark_group("ntk_stats");
    group.sample_size(10);
    group.throughput(Throughput::Elements(flops(&widths, n, blocking.tile)));
    group.bench_function("relu5_w256_d100_C10_n4000", |b| {
        b.iter(|| {
            ntk::kernel_statistics(
                &arch,
                black_box(&params),
                x.as_ref(),
                y.as_ref(),
                blocking,
                &mut |_, _| {},
            )
            .unwrap()
        })
    });
    bench_matmul1024(&mut group);
    group.finish();
}

criterion_group!(benches, ntk_stats);
criterion_main!(benches);
