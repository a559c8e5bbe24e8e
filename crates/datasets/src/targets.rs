//! Target transforms: new targets computed from the targets of a data set,
//! and label noise.
//!
//! * [`parity_targets`]: SB21's one-output digits task (SPEC §6), `±1` by
//!   the parity of the class.
//! * [`one_vs_rest_targets`]: SB21's ±1 one-vs-rest coding of C classes
//!   (SPEC §8), `+1` for the row's class and `−1` for every other.
//! * [`argmax_one_hot`]: BMA24's classification labels of a regression
//!   teacher (SPEC §4), one-hot − 1/C of the largest output.
//! * [`add_label_noise`]: `Y + σ_ε ξ`, the label noise every data set of
//!   this crate adds to its targets.

use faer::{Mat, MatRef};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The class of each row: `argmax_k Y_ik`, the last maximum on ties (the
/// order of [`Iterator::max_by`]); 0 for an empty row.
fn row_argmax(y: MatRef<'_, f64>) -> Vec<usize> {
    (0..y.nrows())
        .map(|i| {
            (0..y.ncols())
                .max_by(|&a, &b| y[(i, a)].total_cmp(&y[(i, b)]))
                .unwrap_or(0)
        })
        .collect()
}

/// Parity targets of class targets: with `c_i = argmax_k Y_ik` the class of
/// row i (e.g. of the digits' one-hot − 1/C targets), the n × 1 target is
/// `t_i = +1` when `c_i` is even and `t_i = −1` when it is odd — SB21's
/// one-output digits task (SPEC §6). Ties go to the last maximum.
pub fn parity_targets(classes: MatRef<'_, f64>) -> Mat<f64> {
    let labels = row_argmax(classes);
    Mat::from_fn(classes.nrows(), 1, |i, _| {
        if labels[i].is_multiple_of(2) {
            1.0
        } else {
            -1.0
        }
    })
}

/// One-vs-rest targets of class targets: with `c_i = argmax_k Y_ik` the
/// class of row i, `T_ik = +1` when `k = c_i` and `−1` otherwise (n × C) —
/// the ±1 coding under which SB21's per-output specialisation is also
/// reported (SPEC §8). Ties go to the last maximum.
pub fn one_vs_rest_targets(classes: MatRef<'_, f64>) -> Mat<f64> {
    let labels = row_argmax(classes);
    Mat::from_fn(classes.nrows(), classes.ncols(), |i, k| {
        if labels[i] == k { 1.0 } else { -1.0 }
    })
}

/// Classification labels of regression outputs `F ∈ R^{n×C}`: one-hot of
/// the largest output minus `1/C`, `Y_ik = [k = argmax_j F_ij] − 1/C`
/// (entries `1 − 1/C` and `−1/C`, rows summing to 0) — BMA24's synthetic
/// task from a linear teacher's outputs (SPEC §4). Ties go to the last
/// maximum.
pub fn argmax_one_hot(outputs: MatRef<'_, f64>) -> Mat<f64> {
    let labels = row_argmax(outputs);
    let c = outputs.ncols();
    Mat::from_fn(outputs.nrows(), c, |i, k| {
        if labels[i] == k {
            1.0 - 1.0 / c as f64
        } else {
            -1.0 / c as f64
        }
    })
}

/// `Y ← Y + σ_ε ξ` with ξ i.i.d. standard normal from `noise_rng`, drawn
/// column by column (column 0 top to bottom, then column 1, …); draws
/// nothing when `noise` is 0.
pub fn add_label_noise(y: &mut Mat<f64>, noise: f64, noise_rng: &mut ChaCha8Rng) {
    if noise > 0.0 {
        for j in 0..y.ncols() {
            for i in 0..y.nrows() {
                y[(i, j)] += noise * noise_rng.sample::<f64, _>(StandardNormal);
            }
        }
    }
}
