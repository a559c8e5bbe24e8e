//! Network checkpoints and data files for analysing a trained network.
//!
//! * [`weights`]: fully connected networks in PyTorch's `nn.Linear` layout
//!   (weight `[out, in]`, optional bias `[out]`), layer order from the
//!   tensor names or an explicit list, from safetensors files
//!   (`safetensors_file`), PyTorch `torch.save` files (`torch_file`) or
//!   named arrays in memory; and the safetensors writer. With an
//!   architecture file ([`arch`]), the weights of a sequential network
//!   with convolutions (`[k_out, k_in, h, w]` filters) and pooling.
//! * [`arrays`]: data matrices (samples as rows) from NumPy `.npy` (float32
//!   or float64, C order) and CSV; `.npy` and CSV writers.
//! * [`check_data`], [`check_labels`]: data and labels against a network.
//!
//! Every failure is a [`CheckpointError`] whose one-line message names the
//! file and the tensor or dimension at fault; no input makes these readers
//! panic.
#![warn(missing_docs)]

pub mod arch;
pub mod arrays;
mod error;
mod safetensors_file;
mod source;
mod torch_file;
pub mod weights;

use faer::Mat;
use networks::{Sequential, Shape};

pub use arch::ArchSpec;
pub use arrays::{read_csv, read_matrix, read_npy, read_samples, write_csv, write_npy};
pub use error::CheckpointError;
pub use source::natural_cmp;
pub use weights::{
    Checkpoint, Layer, NamedTensor, Precision, from_tensors, network_from_tensors, read_checkpoint,
    read_network, write_checkpoint,
};

/// Check that the data fit the network `net` whose weights are `weights`:
/// at least one sample, each of the network's input size; an image array
/// (`sample` of more than one dimension, from [`read_samples`]) must have
/// the network's input shape.
pub fn check_data(
    net: &Sequential,
    weights: &Checkpoint,
    data_file: &str,
    x: &Mat<f64>,
    sample: &[usize],
) -> Result<(), CheckpointError> {
    let input = net.input();
    let mismatch = |detail: String| CheckpointError::Mismatch {
        file: data_file.to_owned(),
        detail,
    };
    let expected: Vec<usize> = match input {
        Shape::Image(s) => s.to_vec(),
        Shape::Flat(d) => vec![d],
    };
    if sample.len() > 1 && sample != expected {
        return Err(mismatch(format!(
            "each sample has shape {sample:?}, but the first layer `{}` in {} takes {input} (channels, height, width: NCHW)",
            weights.layers[0].weight_name, weights.file
        )));
    }
    if x.ncols() != input.size() {
        return Err(mismatch(format!(
            "the data have {} features (columns), but the first layer `{}` in {} takes {} inputs (shape {input})",
            x.ncols(),
            weights.layers[0].weight_name,
            weights.file,
            input.size()
        )));
    }
    if x.nrows() == 0 {
        return Err(mismatch("the data have no samples (rows)".into()));
    }
    Ok(())
}

/// Check that the labels (n × C) have one row per sample of the data and
/// one column per output of the network.
pub fn check_labels(
    net: &Sequential,
    weights: &Checkpoint,
    data_file: &str,
    x: &Mat<f64>,
    labels_file: &str,
    y: &Mat<f64>,
) -> Result<(), CheckpointError> {
    if y.nrows() != x.nrows() {
        return Err(CheckpointError::Mismatch {
            file: labels_file.to_owned(),
            detail: format!(
                "the labels have {} rows, but the data {data_file} have {} samples",
                y.nrows(),
                x.nrows()
            ),
        });
    }
    if y.ncols() != net.outputs() {
        return Err(CheckpointError::Mismatch {
            file: labels_file.to_owned(),
            detail: format!(
                "the labels have {} columns, but the network (last layer `{}` in {}) has {} outputs",
                y.ncols(),
                weights
                    .layers
                    .last()
                    .expect("a checkpoint has layers")
                    .weight_name,
                weights.file,
                net.outputs()
            ),
        });
    }
    Ok(())
}
