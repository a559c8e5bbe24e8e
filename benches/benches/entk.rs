//! `entk/relu2_w512_d50_n500`: the full 500×500 empirical NTK of a
//! two-layer ReLU network (width 512, 50-dimensional inputs, scalar output)
//! in closed form, with its floating-point operation count as throughput,
//! beside a 1024×1024 matmul (2·1024³ flops) in the same group: both print
//! flop/s ("elem/s").

use std::hint::black_box;

use benches::{bench_matmul1024, gaussian};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faer::{Mat, Par};
use networks::{Activation, Architecture};

/// Flops of `ntk::per_output_ntk` for scalar output: forward
/// `2n Σ d_l d_{l−1}`; backward `δ_{l−1} = φ' ⊙ δ_l W_l` (`2n d_l d_{l−1}`
/// for l ≥ 2); per layer the activation Gram `2n² d_{l−1}`, the gradient
/// Gram `2n² d_l` and the Hadamard accumulation `2n²`.
fn flops(widths: &[usize], n: usize) -> u64 {
    let n = n as u64;
    let mut total = 0u64;
    for l in 1..widths.len() {
        let (a, b) = (widths[l] as u64, widths[l - 1] as u64);
        total += 2 * n * a * b + 2 * n * n * (a + b + 1);
        if l > 1 {
            total += 2 * n * a * b;
        }
    }
    total
}

fn entk(cr: &mut Criterion) {
    faer::set_global_parallelism(Par::rayon(0));
    let widths = vec![50, 512, 1];
    let n = 500;
    let arch = Architecture::new(widths.clone(), Activation::Relu);
    let params: Vec<Mat<f64>> = (0..2)
        .map(|l| {
            gaussian(widths[l + 1], widths[l], 30 + l as u64)
                * faer::Scale((1.0 / widths[l] as f64).sqrt())
        })
        .collect();
    let x = gaussian(n, 50, 7);
    let mut group = cr.benchmark_group("entk");
    group.throughput(Throughput::Elements(flops(&widths, n)));
    group.bench_function("relu2_w512_d50_n500", |b| {
        b.iter(|| ntk::per_output_ntk(&arch, black_box(&params), x.as_ref(), Par::Seq).unwrap())
    });
    bench_matmul1024(&mut group);
    group.finish();
}

criterion_group!(benches, entk);
criterion_main!(benches);
