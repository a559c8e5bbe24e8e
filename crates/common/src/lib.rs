//! What several crates of the workspace share, and nothing else: it depends
//! on no other crate of the workspace.
//!
//! * [`seed`]: independent random streams of one master seed (data, label
//!   noise, initial weights, minibatch order);
//! * [`gaussian_matrix`]: a matrix of i.i.d. standard normal entries;
//! * [`stats`]: mean and spread over seeds, least-squares slope;
//! * [`views`]: borrowed views of a stack of matrices.
#![warn(missing_docs)]

pub mod linalg;
pub mod seed;
pub mod stats;

use faer::{Mat, MatRef};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Matrix of i.i.d. `N(0, 1)` entries, drawn column by column.
pub fn gaussian_matrix(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| rng.sample::<f64, _>(StandardNormal))
}

/// `&[Mat]` as a vector of views, for the functions of `metrics` that take
/// `&[MatRef]`.
pub fn views(mats: &[Mat<f64>]) -> Vec<MatRef<'_, f64>> {
    mats.iter().map(Mat::as_ref).collect()
}
