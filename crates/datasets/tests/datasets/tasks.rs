//! The synthetic tasks and target transforms: shapes, the documented
//! formulas, errors naming their field, and seeded label noise.

use datasets::{
    DataError, GaussianSpec, ReluTeacherSpec, SyntheticSpec, WhitenedTeacherSpec, add_label_noise,
    argmax_one_hot, gaussian, parity_targets, relu_teacher, synthetic, whitened_teacher,
};
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn streams(seed: u64) -> (ChaCha8Rng, ChaCha8Rng) {
    (
        ChaCha8Rng::seed_from_u64(seed),
        ChaCha8Rng::seed_from_u64(seed + 1),
    )
}

fn field(e: DataError) -> &'static str {
    let DataError::Invalid { field, .. } = e;
    field
}

#[test]
fn parity_and_argmax_one_hot_follow_the_row_maximum() {
    // Row maxima at columns 2, 0, 1, and a tie of columns 0 and 1 that goes
    // to the last maximum, column 1.
    let rows = [
        [0.1, -2.0, 0.7],
        [5.0, 1.0, 4.0],
        [-0.5, 3.0, -0.5],
        [2.0, 2.0, 0.0],
    ];
    let f = Mat::from_fn(4, 3, |i, k| rows[i][k]);
    let parity = parity_targets(f.as_ref());
    assert_eq!((parity.nrows(), parity.ncols()), (4, 1));
    let signs: Vec<f64> = (0..4).map(|i| parity[(i, 0)]).collect();
    assert_eq!(signs, [1.0, 1.0, -1.0, -1.0]);
    let y = argmax_one_hot(f.as_ref());
    for (i, best) in [2, 0, 1, 1].into_iter().enumerate() {
        for k in 0..3 {
            let expected = if k == best {
                1.0 - 1.0 / 3.0
            } else {
                -1.0 / 3.0
            };
            assert_eq!(y[(i, k)], expected, "row {i}, column {k}");
        }
    }
}

#[test]
fn label_noise_is_seeded_and_absent_at_zero() {
    let (_, mut a) = streams(3);
    let (_, mut b) = streams(3);
    let mut y = Mat::<f64>::zeros(4, 2);
    add_label_noise(&mut y, 0.0, &mut a);
    assert!(y == Mat::<f64>::zeros(4, 2));
    // σ_ε = 0 drew nothing: the stream is where it started.
    add_label_noise(&mut y, 0.5, &mut a);
    let mut z = Mat::<f64>::zeros(4, 2);
    add_label_noise(&mut z, 0.5, &mut b);
    assert!(y == z && y != Mat::<f64>::zeros(4, 2));
}

/// Tolerance 1e-15: one rounding of each of the two divisions by √2.
#[test]
fn synthetic_targets_are_the_hermite_combination_of_their_coordinate() {
    let spec = SyntheticSpec {
        samples: 50,
        input_dim: 6,
        outputs: 3,
        noise: 0.0,
    };
    let (mut r, mut n) = streams(1);
    let d = synthetic(&spec, &mut r, &mut n).unwrap();
    assert_eq!((d.len(), d.input_dim(), d.output_dim()), (50, 6, 3));
    for i in 0..50 {
        for k in 0..3 {
            let v = d.x[(i, k)];
            let expected = (v + (v * v - 1.0) * std::f64::consts::FRAC_1_SQRT_2)
                * std::f64::consts::FRAC_1_SQRT_2;
            assert!((d.y[(i, k)] - expected).abs() <= 1e-15 * (1.0 + expected.abs()));
        }
    }
    let too_many = SyntheticSpec { outputs: 7, ..spec };
    assert_eq!(
        field(synthetic(&too_many, &mut r, &mut n).unwrap_err()),
        "outputs"
    );
    let e = too_many.validate().unwrap_err().to_string();
    assert!(e.contains("input_dim = 6") && e.contains("got 7"), "{e}");
}

/// Tolerance 1e-14 relative: the re-derivation sums the two layers' products
/// in its own order.
#[test]
fn relu_teacher_targets_are_its_teacher_network() {
    let spec = ReluTeacherSpec {
        samples: 20,
        input_dim: 5,
        teacher_width: 7,
        outputs: 2,
        noise: 0.0,
    };
    let (mut r, mut n) = streams(2);
    let (d, [t1, t2]) = relu_teacher(&spec, &mut r, &mut n).unwrap();
    assert_eq!(
        (t1.nrows(), t1.ncols(), t2.nrows(), t2.ncols()),
        (7, 5, 2, 7)
    );
    let pre = &d.x * t1.transpose();
    let hidden = Mat::from_fn(20, 7, |i, j| pre[(i, j)].max(0.0));
    let y = &hidden * t2.transpose();
    assert!((&y - &d.y).norm_l2() <= 1e-14 * y.norm_l2());
    let bad = ReluTeacherSpec {
        teacher_width: 0,
        ..spec
    };
    assert_eq!(
        field(relu_teacher(&bad, &mut r, &mut n).unwrap_err()),
        "teacher_width"
    );
}

/// Tolerances: β is normalised by one division (1e-15); y = s·Xβ is
/// re-derived with the same product (exact).
#[test]
fn whitened_teacher_has_a_unit_teacher_and_whitened_inputs() {
    let spec = WhitenedTeacherSpec {
        samples: 40,
        input_dim: 8,
        gamma: 0.0,
        anisotropy: 1.0,
        signal: 2.0,
        noise: 0.0,
    };
    let (mut r, mut n) = streams(4);
    let (d, beta) = whitened_teacher(&spec, &mut r, &mut n).unwrap();
    assert_eq!((d.len(), d.input_dim(), d.output_dim()), (40, 8, 1));
    assert_eq!((beta.nrows(), beta.ncols()), (8, 1));
    assert!((beta.norm_l2() - 1.0).abs() < 1e-15);
    assert!(&d.x * &beta * faer::Scale(2.0) == d.y);
    // γ = 0 whitens: XᵀX = P·I up to the SVD's round-off (1e-12, as in
    // whiten.rs).
    let gram = d.x.transpose() * &d.x;
    let target = Mat::<f64>::identity(8, 8) * faer::Scale(40.0);
    assert!((&gram - &target).norm_l2() < 1e-12 * target.norm_l2());
    for (bad, name) in [
        (
            WhitenedTeacherSpec {
                gamma: -1.0,
                ..spec
            },
            "gamma",
        ),
        (
            WhitenedTeacherSpec {
                signal: 0.0,
                ..spec
            },
            "signal",
        ),
        (
            WhitenedTeacherSpec {
                anisotropy: f64::NAN,
                ..spec
            },
            "anisotropy",
        ),
        (
            WhitenedTeacherSpec {
                noise: -0.1,
                ..spec
            },
            "noise",
        ),
    ] {
        assert_eq!(
            field(whitened_teacher(&bad, &mut r, &mut n).unwrap_err()),
            name
        );
    }
}

/// X, then Y, from the data stream, each column by column: the same bits as
/// two `gaussian_matrix` draws.
#[test]
fn gaussian_task_draws_inputs_then_independent_targets() {
    let spec = GaussianSpec {
        samples: 12,
        input_dim: 4,
        outputs: 3,
        noise: 0.0,
    };
    let (mut r, mut n) = streams(6);
    let d = gaussian(&spec, &mut r, &mut n).unwrap();
    let (mut by_hand, _) = streams(6);
    assert!(d.x == common::gaussian_matrix(12, 4, &mut by_hand));
    assert!(d.y == common::gaussian_matrix(12, 3, &mut by_hand));
    let bad = GaussianSpec { outputs: 0, ..spec };
    assert_eq!(
        field(gaussian(&bad, &mut r, &mut n).unwrap_err()),
        "outputs"
    );
}

#[test]
fn every_task_adds_noise_from_the_noise_stream_only() {
    let spec = SyntheticSpec {
        samples: 10,
        input_dim: 3,
        outputs: 2,
        noise: 0.3,
    };
    let (mut r, mut n) = streams(5);
    let noisy = synthetic(&spec, &mut r, &mut n).unwrap();
    let (mut r, mut n) = streams(5);
    let clean = synthetic(&SyntheticSpec { noise: 0.0, ..spec }, &mut r, &mut n).unwrap();
    assert!(noisy.x == clean.x && noisy.y != clean.y);
    let (_, mut n) = streams(5);
    let mut y = clean.y.clone();
    add_label_noise(&mut y, 0.3, &mut n);
    assert!(y == noisy.y);
}
