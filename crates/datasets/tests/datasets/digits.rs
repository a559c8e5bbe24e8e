//! The embedded digits data set loads with the documented preprocessing.

use datasets::{DIGITS_CLASSES, DIGITS_ROWS, DigitsSpec, digits};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn load(samples: usize, noise: f64, seed: u64) -> datasets::Dataset {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut n = ChaCha8Rng::seed_from_u64(seed + 1);
    digits(&DigitsSpec { samples, noise }, &mut r, &mut n).unwrap()
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
                noise: 0.0
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
                noise: f64::NAN
            },
            &mut r,
            &mut n
        )
        .is_err()
    );
}
