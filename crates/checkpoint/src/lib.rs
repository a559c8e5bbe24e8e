//! Network checkpoints and data files for analysing a trained network.
//!
//! * [`weights`]: fully connected networks in PyTorch's `nn.Linear` layout
//!   (weight `[out, in]`, optional bias `[out]`), layer order from the
//!   tensor names or an explicit list, from safetensors files
//!   (`safetensors_file`), PyTorch `torch.save` files (`torch_file`) or
//!   named arrays in memory; and the safetensors writer.
//! * [`arrays`]: data matrices (samples as rows) from NumPy `.npy` (float32
//!   or float64, C order) and CSV; `.npy` and CSV writers.
//! * [`check_data`], [`check_labels`]: data and labels against a network.
//!
//! Every failure is a [`CheckpointError`] whose one-line message names the
//! file and the tensor or dimension at fault; no input makes these readers
//! panic.
#![warn(missing_docs)]

pub mod arrays;
mod error;
mod safetensors_file;
mod source;
mod torch_file;
pub mod weights;

use faer::Mat;

pub use arrays::{read_csv, read_matrix, read_npy, write_csv, write_npy};
pub use error::CheckpointError;
pub use weights::{
    Checkpoint, Layer, NamedTensor, Precision, from_tensors, read_checkpoint, write_checkpoint,
};

/// Check that the data (n × d) fit the network's first layer (`d = d_0`)
/// and hold at least one sample.
pub fn check_data(net: &Checkpoint, data_file: &str, x: &Mat<f64>) -> Result<(), CheckpointError> {
    let first = &net.layers[0];
    if x.ncols() != first.weight.ncols() {
        return Err(CheckpointError::Mismatch {
            file: data_file.to_owned(),
            detail: format!(
                "the data have {} features (columns), but the first layer `{}` in {} takes {} inputs",
                x.ncols(),
                first.weight_name,
                net.file,
                first.weight.ncols()
            ),
        });
    }
    if x.nrows() == 0 {
        return Err(CheckpointError::Mismatch {
            file: data_file.to_owned(),
            detail: "the data have no samples (rows)".into(),
        });
    }
    Ok(())
}

/// Check that the labels (n × C) have one row per sample of the data and
/// one column per output of the network's last layer.
pub fn check_labels(
    net: &Checkpoint,
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
    let last = net.layers.last().expect("a checkpoint has layers");
    if y.ncols() != last.weight.nrows() {
        return Err(CheckpointError::Mismatch {
            file: labels_file.to_owned(),
            detail: format!(
                "the labels have {} columns, but the last layer `{}` in {} has {} outputs",
                y.ncols(),
                last.weight_name,
                net.file,
                last.weight.nrows()
            ),
        });
    }
    Ok(())
}
