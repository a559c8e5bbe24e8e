//! `dln_gd`: 200 full-batch GD steps of a deep linear network
//! d = 100 → 100 → 100 → 100 → C = 10 (L = 4). Full-batch MSE depends on the
//! data only through `XᵀX/n` and `YᵀX/n`, so the time per step must not grow
//! with n: n = 1000 and n = 100000 are measured side by side, next to the
//! bare matrix products of the same 200 steps (target: within 3×).

use std::hint::black_box;

use benches::gaussian;
use criterion::{Criterion, criterion_group, criterion_main};
use deep_linear::{LinearObjective, RegressionStats};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use optim::{OptimizerParams, run_optimizer};

const D: usize = 100;
const H: usize = 100;
const C: usize = 10;
const STEPS: usize = 200;

fn widths() -> Vec<usize> {
    vec![D, H, H, H, C]
}

fn layers() -> Vec<Mat<f64>> {
    let w = widths();
    (0..4)
        .map(|l| gaussian(w[l + 1], w[l], 10 + l as u64) * faer::Scale(1.0 / (w[l] as f64).sqrt()))
        .collect()
}

fn dln_gd(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let mut group = c.benchmark_group("dln_gd");
    group.sample_size(20);
    let theta0 = layers();
    let opt = OptimizerParams::gd(1e-3, 0.0).validate().unwrap();
    for n in [1000usize, 100_000] {
        let x = gaussian(n, D, 1);
        let y = gaussian(n, C, 2);
        let stats = RegressionStats::new(x.as_ref(), y.as_ref()).unwrap();
        let mut objective = LinearObjective::new(&stats, &widths()).unwrap();
        group.bench_function(format!("d100_h100_L4_C10_n{n}_200steps"), |b| {
            b.iter(|| {
                run_optimizer(
                    &opt,
                    &mut objective,
                    black_box(&theta0),
                    &[0, STEPS],
                    |_| {},
                )
                .unwrap()
            })
        });
    }
    // The products one gradient evaluation needs (prefix W_l⋯W_1, suffix
    // W_L⋯W_{l+1}, PΣ_xx, ∇_P·prefixᵀ, suffixᵀ·(…)), into preallocated buffers.
    let w = theta0;
    let sxx = gaussian(D, D, 3);
    let mut prefix: Vec<Mat<f64>> = (0..4).map(|l| Mat::zeros(widths()[l + 1], D)).collect();
    let mut suffix: Vec<Mat<f64>> = (0..3).map(|_| Mat::zeros(C, H)).collect();
    let mut gp = Mat::<f64>::zeros(C, D);
    let mut left = Mat::<f64>::zeros(C, H);
    let mut grad = Mat::<f64>::zeros(H, H);
    let mut grad0 = Mat::<f64>::zeros(H, D);
    group.bench_function("bare_matmuls_200steps", |b| {
        b.iter(|| {
            for _ in 0..STEPS {
                prefix[0].copy_from(&w[0]);
                for l in 1..4 {
                    let (done, rest) = prefix.split_at_mut(l);
                    matmul(
                        rest[0].as_mut(),
                        Accum::Replace,
                        w[l].as_ref(),
                        done[l - 1].as_ref(),
                        1.0,
                        Par::Seq,
                    );
                }
                suffix[2].copy_from(&w[3]);
                for l in (0..2).rev() {
                    let (head, tail) = suffix.split_at_mut(l + 1);
                    matmul(
                        head[l].as_mut(),
                        Accum::Replace,
                        tail[0].as_ref(),
                        w[l + 1].as_ref(),
                        1.0,
                        Par::Seq,
                    );
                }
                matmul(
                    gp.as_mut(),
                    Accum::Replace,
                    prefix[3].as_ref(),
                    sxx.as_ref(),
                    1.0,
                    Par::Seq,
                );
                for l in 0..4 {
                    if l > 0 {
                        matmul(
                            left.as_mut(),
                            Accum::Replace,
                            gp.as_ref(),
                            prefix[l - 1].transpose(),
                            1.0,
                            Par::Seq,
                        );
                    }
                    if l < 3 {
                        let rhs = if l == 0 { gp.as_ref() } else { left.as_ref() };
                        let mut g = if l == 0 {
                            grad0.as_mut()
                        } else {
                            grad.as_mut()
                        };
                        matmul(
                            g.as_mut(),
                            Accum::Replace,
                            suffix[l].transpose(),
                            rhs,
                            1.0,
                            Par::Seq,
                        );
                    }
                }
                black_box((&grad, &grad0));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, dln_gd);
criterion_main!(benches);
