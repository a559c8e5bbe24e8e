//! `conv_tangents/vgg4_3x32x32_C10_n64`: the PTK and both patch AGOPs
//! (`networks::sequential::tangents::sequential_tangents`) of a VGG-style
//! CNN — conv 3×3 with 64, 128, 256, 256 channels, max-pool after the first
//! three, global average pool, `Linear(256, 10)` — on 64 inputs 3×32×32,
//! with its floating-point operation count as throughput, beside a
//! 1024×1024 matmul (2·1024³ flops) in the same group: both print flop/s
//! ("elem/s").

use std::hint::black_box;

use benches::{bench_matmul1024, gaussian};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faer::{Mat, Par};
use networks::sequential::tangents::sequential_tangents;
use networks::{Activation, Conv2d, Layer, Pool, Sequential, Shape};

const SAMPLES: usize = 64;

fn network() -> Sequential {
    let conv = |channels| {
        Layer::Conv2d(Conv2d {
            channels,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [1, 1],
            bias: false,
        })
    };
    let pool = Layer::MaxPool2d(Pool {
        kernel: [2, 2],
        stride: [2, 2],
    });
    let relu = Layer::Activation(Activation::Relu);
    Sequential::new(
        Shape::Image([3, 32, 32]),
        vec![
            conv(64),
            relu,
            pool,
            conv(128),
            relu,
            pool,
            conv(256),
            relu,
            pool,
            conv(256),
            relu,
            Layer::GlobalAvgPool,
            Layer::Flatten,
            Layer::Linear {
                outputs: 10,
                bias: false,
            },
        ],
    )
    .expect("a valid network")
}

/// Flops of `sequential_tangents`, per parametrised layer with `P`
/// positions (1 for the linear layer), patch length `p` and `k` outputs:
/// forward `2nPkp`; the backward products `Q = Wᵀδ` (`2CnPkp`); one
/// triangle of the PTK `δδᵀ` (`CnPk(k+1)`) and of the patch-gradient Gram
/// `QQᵀ` (`CnPp(p+1)`); and the chain-rule AGOP `WᵀKW` (`2k²p + 2kp²`).
fn flops(net: &Sequential, n: usize) -> u64 {
    let (c, n) = (net.outputs() as u64, n as u64);
    net.parameter_layers()
        .iter()
        .map(|&(layer, (k, p), _)| {
            let positions = net.conv_geometry(layer).map_or(1, |g| g.positions()) as u64;
            let (k, p) = (k as u64, p as u64);
            2 * n * positions * k * p
                + 2 * c * n * positions * k * p
                + c * n * positions * (k * (k + 1) + p * (p + 1))
                + 2 * k * k * p
                + 2 * k * p * p
        })
        .sum()
}

fn conv_tangents(cr: &mut Criterion) {
    // Sample blocks run in parallel inside `sequential_tangents`; each is
    // sequential.
    faer::set_global_parallelism(Par::Seq);
    let net = network();
    let params: Vec<Mat<f64>> = net
        .parameter_layers()
        .iter()
        .enumerate()
        .map(|(j, &(_, (k, p), _))| {
            gaussian(k, p, 40 + j as u64) * faer::Scale((2.0 / p as f64).sqrt())
        })
        .collect();
    let x = gaussian(SAMPLES, 3 * 32 * 32, 4);
    let mut group = cr.benchmark_group("conv_tangents");
    group.sample_size(10);
    group.throughput(Throughput::Elements(flops(&net, SAMPLES)));
    group.bench_function("vgg4_3x32x32_C10_n64", |b| {
        b.iter(|| sequential_tangents(&net, black_box(&params), x.as_ref(), SAMPLES / 2).unwrap())
    });
    bench_matmul1024(&mut group);
    group.finish();
}

criterion_group!(benches, conv_tangents);
criterion_main!(benches);
