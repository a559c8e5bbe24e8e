//! Two digit classes as a ±1 task: the split, the targets and the
//! whitening fitted on the training rows (ABP22 on digits, SPEC §5, §8).

use datasets::{
    DIGITS_CLASSES, DIGITS_PER_CLASS, DIGITS_ROWS, DataError, DigitPairSpec, DigitsSpec,
    PartialWhitening, Split, digit_pair, digits, partially_whiten,
};
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn pair(classes: [usize; 2], samples: usize, seed: u64) -> Result<Split, DataError> {
    let spec = DigitPairSpec {
        classes,
        samples,
        gamma: 0.0,
        noise: 0.0,
    };
    digit_pair(
        &spec,
        &mut ChaCha8Rng::seed_from_u64(seed),
        &mut ChaCha8Rng::seed_from_u64(seed + 1),
    )
}

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_l2() / b.norm_l2()
}

/// The per-class row counts are those of the file (the one-hot labels of
/// the whole set, counted by class).
#[test]
fn class_counts_are_those_of_the_file() {
    let all = digits(
        &DigitsSpec {
            samples: DIGITS_ROWS,
            noise: 0.0,
            held_out: 0,
        },
        &mut ChaCha8Rng::seed_from_u64(0),
        &mut ChaCha8Rng::seed_from_u64(1),
    )
    .unwrap();
    let mut counts = [0; DIGITS_CLASSES];
    for i in 0..all.len() {
        let class = (0..DIGITS_CLASSES).find(|&k| all.y[(i, k)] > 0.0).unwrap();
        counts[class] += 1;
    }
    assert_eq!(counts, DIGITS_PER_CLASS);
}

/// Every row of the two classes is either training or held out, with
/// target +1 for the first class and −1 for the second; the split is a
/// function of the seed.
#[test]
fn the_split_covers_both_classes_with_signed_targets() {
    let s = pair([0, 1], 240, 3).unwrap();
    let held = DIGITS_PER_CLASS[0] + DIGITS_PER_CLASS[1] - 240;
    assert_eq!(
        (s.train.len(), s.train.input_dim(), s.train.output_dim()),
        (240, 64, 1)
    );
    assert_eq!((s.held_out.len(), s.held_out.input_dim()), (held, 64));
    let targets: Vec<f64> = (0..240)
        .map(|i| s.train.y[(i, 0)])
        .chain((0..held).map(|i| s.held_out.y[(i, 0)]))
        .collect();
    assert!(targets.iter().all(|&t| t == 1.0 || t == -1.0));
    let zeros = targets.iter().filter(|&&t| t == 1.0).count();
    assert_eq!(zeros, DIGITS_PER_CLASS[0]);
    let again = pair([0, 1], 240, 3).unwrap();
    assert!(again.train.x == s.train.x && again.held_out.y == s.held_out.y);
    assert!(pair([0, 1], 240, 4).unwrap().train.x != s.train.x);
    // Swapping the classes swaps the signs of the same rows.
    let swapped = pair([1, 0], 240, 3).unwrap();
    assert!(swapped.train.x == s.train.x);
    assert!(swapped.train.y == &s.train.y * faer::Scale(-1.0));
}

/// At γ = 0 the training inputs are centred and their Gram matrix is n
/// times the projector onto the kept directions: `(XᵀX/n)² = XᵀX/n` with
/// trace = rank ≤ 64 − 12 (twelve pixels are 0 on every 0 and 1; rarely
/// lit pixels may be constant on the training rows too, and the lower
/// bound 40 catches a cutoff that drops real directions). Held-out
/// inputs lie in the same subspace. Tolerances: an SVD and two products of
/// 64-column matrices, round-off ~1e-13 relative; 1e-10.
#[test]
fn whitened_training_inputs_have_an_identity_gram_on_the_kept_directions() {
    let s = pair([0, 1], 240, 5).unwrap();
    let x = &s.train.x;
    let n = x.nrows() as f64;
    for j in 0..64 {
        let mean = (0..x.nrows()).map(|i| x[(i, j)]).sum::<f64>() / n;
        assert!(mean.abs() < 1e-10, "column {j} mean {mean}");
    }
    let p = x.transpose() * x * faer::Scale(1.0 / n);
    assert!(rel(&(&p * &p), &p) < 1e-10);
    let trace: f64 = (0..64).map(|k| p[(k, k)]).sum();
    let rank = trace.round();
    assert!(
        (trace - rank).abs() < 1e-10 && (40.0..=52.0).contains(&rank),
        "{trace}"
    );
    let h = &s.held_out.x;
    assert!(rel(&(h * &p), h) < 1e-10);
}

/// The fitted transform applied to its own rows is `partially_whiten` of
/// the centred rows, for any γ, also with a constant column (a zero
/// singular value, dropped by both). Tolerance as above.
#[test]
fn the_transform_is_partial_whitening_of_the_centred_rows() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut x = common::gaussian_matrix(40, 7, &mut rng)
        * Mat::from_fn(7, 7, |i, j| if i == j { 1.0 / (i + 1) as f64 } else { 0.0 });
    for i in 0..40 {
        x[(i, 6)] = 3.0;
        x[(i, 0)] += 2.0;
    }
    let centred = Mat::from_fn(40, 7, |i, j| {
        x[(i, j)] - (0..40).map(|k| x[(k, j)]).sum::<f64>() / 40.0
    });
    for gamma in [0.0, 0.5, 1.0] {
        let w = PartialWhitening::fit(x.as_ref(), gamma).unwrap();
        assert_eq!(w.rank, 6);
        let applied = w.apply(x.as_ref()).unwrap();
        let expected = partially_whiten(&centred, gamma).unwrap();
        assert!(rel(&applied, &expected) < 1e-10, "γ = {gamma}");
    }
    assert!(PartialWhitening::fit(Mat::from_fn(5, 3, |_, j| j as f64).as_ref(), 0.0).is_err());
    let w = PartialWhitening::fit(x.as_ref(), 0.0).unwrap();
    assert!(w.apply(Mat::<f64>::zeros(2, 6).as_ref()).is_err());
}

#[test]
fn invalid_specs_name_their_field() {
    let field = |classes, samples| match pair(classes, samples, 0) {
        Err(DataError::Invalid { field, .. }) => field,
        Ok(_) => "ok",
    };
    assert_eq!(field([0, 0], 100), "classes");
    assert_eq!(field([0, 10], 100), "classes");
    assert_eq!(field([0, 1], 0), "samples");
    assert_eq!(field([0, 1], 360), "samples");
    assert_eq!(field([0, 1], 359), "ok");
}
