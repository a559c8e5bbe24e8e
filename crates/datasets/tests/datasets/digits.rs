//! The embedded digits data set loads with the documented preprocessing.

use datasets::{DIGITS_CLASSES, DIGITS_ROWS, DigitsSpec, digits};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn load(samples: usize, noise: f64, seed: u64) -> datasets::Dataset {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut n = ChaCha8Rng::seed_from_u64(seed + 1);
    digits(
        &DigitsSpec {
            samples,
            noise,
            held_out: 0,
        },
        &mut r,
        &mut n,
    )
    .unwrap()
}

#[test]
fn full_set_is_standardised_with_centred_one_hot_labels() {
    let d = load(DIGITS_ROWS, 0.0, 0);
    assert_eq!((d.len(), d.input_dim(), d.output_dim()), (1797, 64, 10));
    let n = d.len() as f64;
    let mut constant = 0;
    for j in 0..64 {
        let mean = (0..d.len()).map(|i| d.x[(i, j)]).sum::<f64>() / n;
        let var = (0..d.len()).map(|i| d.x[(i, j)].powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 1e-12, "column {j} mean {mean}");
        if var == 0.0 {
            constant += 1;
        } else {
            assert!((var - 1.0).abs() < 1e-12, "column {j} variance {var}");
        }
    }
    assert!(
        constant >= 1,
        "the corner pixels of the digits are always 0"
    );
    for i in 0..d.len() {
        let row: Vec<f64> = (0..DIGITS_CLASSES).map(|k| d.y[(i, k)]).collect();
        assert!((row.iter().sum::<f64>()).abs() < 1e-12);
        assert_eq!(row.iter().filter(|&&v| (v - 0.9).abs() < 1e-12).count(), 1);
    }
}

#[test]
fn subsets_and_noise_are_seeded() {
    let a = load(300, 0.5, 7);
    let b = load(300, 0.5, 7);
    let c = load(300, 0.5, 8);
    assert_eq!(a.len(), 300);
    assert!(a.x == b.x && a.y == b.y);
    assert!(a.x != c.x);
    let mut r = ChaCha8Rng::seed_from_u64(0);
    let mut n = ChaCha8Rng::seed_from_u64(0);
    assert!(
        digits(
            &DigitsSpec {
                samples: 0,
                noise: 0.0,
                held_out: 0,
            },
            &mut r,
            &mut n
        )
        .is_err()
    );
    assert!(
        digits(
            &DigitsSpec {
                samples: 10,
                noise: f64::NAN,
                held_out: 0,
            },
            &mut r,
            &mut n
        )
        .is_err()
    );
}

/// With held-out rows the standardisation is fitted on the training rows
/// alone (their columns have mean 0 and variance 0 or 1 to rounding, the
/// held-out rows' do not), the split varies with the seed even over all
/// 1797 rows, and a split without training rows is refused by name.
#[test]
fn held_out_rows_stay_out_of_the_standardisation() {
    let split = |seed: u64| {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        let mut n = ChaCha8Rng::seed_from_u64(seed + 1);
        let spec = DigitsSpec {
            samples: DIGITS_ROWS,
            noise: 0.0,
            held_out: 773,
        };
        digits(&spec, &mut r, &mut n).unwrap()
    };
    let d = split(3);
    let train = DIGITS_ROWS - 773;
    let column_mean = |rows: std::ops::Range<usize>, j: usize| {
        let k = rows.len() as f64;
        rows.map(|i| d.x[(i, j)]).sum::<f64>() / k
    };
    let mut held_out_off = 0.0f64;
    for j in 0..64 {
        // Rounding of a 1024-term sum of O(1) values.
        assert!(column_mean(0..train, j).abs() < 1e-12, "column {j}");
        held_out_off = held_out_off.max(column_mean(train..DIGITS_ROWS, j).abs());
    }
    assert!(
        held_out_off > 1e-3,
        "the held-out rows are not standardised by themselves"
    );
    assert_ne!(split(3).x, split(4).x, "the split varies with the seed");
    let mut r = ChaCha8Rng::seed_from_u64(0);
    let bad = DigitsSpec {
        samples: 10,
        noise: 0.0,
        held_out: 10,
    };
    let e = digits(&bad, &mut r.clone(), &mut r)
        .unwrap_err()
        .to_string();
    assert!(e.contains("held_out"), "{e}");
}
