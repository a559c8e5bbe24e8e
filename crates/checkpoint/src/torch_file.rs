//! PyTorch checkpoints (`torch.save`) as a [`TensorSource`], read by the
//! `pytorch-reader` crate without Python.
//!
//! **Format** (PyTorch ≥ 1.6): a ZIP archive holding, under one root
//! directory, `data.pkl` (a pickle of the saved object in which every tensor
//! is a call to `torch._utils._rebuild_tensor_v2(storage, offset, shape,
//! stride, …)` and every storage a persistent id naming an entry
//! `data/<key>` of raw little-endian bytes), plus small entries such as
//! `version` and `byteorder`. The older legacy pickle stream and TAR layouts
//! are read too; `pytorch-reader` detects the layout from the bytes, gathers
//! strided or offset views into C order, and refuses hostile lengths before
//! allocating them.
//!
//! **What is read**: a state dict (`torch.save(model.state_dict())`), a
//! dict holding one under `"state_dict"` (a training checkpoint with
//! `"epoch"`, `"optimizer"`, … beside it: only the state dict is read), or
//! a whole module (`torch.save(model)`: its state dict). Nested dicts give
//! dotted names (`encoder.0.weight`), as `state_dict()` does. Accepted
//! dtypes: float64, float32, float16, bfloat16 (widened to f64 exactly).
//! Pickle content the reader cannot represent (sparse or quantized tensors,
//! unknown objects holding tensors) is an error naming the Python type.

use std::collections::HashMap;
use std::path::Path;

use pytorch_reader::{DType, PytorchError, PytorchReader, Tensor};

use crate::error::{CheckpointError, name, one_line};
use crate::source::{TensorSource, missing};

const SUPPORTED: &str = "float64, float32, float16, bfloat16";

/// The key under which training checkpoints nest their state dict.
const STATE_DICT_KEY: &str = "state_dict";

/// The tensors of a PyTorch checkpoint; their bytes are read on demand.
pub(crate) struct TorchSource {
    file: String,
    /// The file's length in bytes.
    bytes: u64,
    tensors: HashMap<String, Tensor>,
}

impl TorchSource {
    /// Open a checkpoint: the state dict under `"state_dict"` if the root
    /// holds one, the root's tensors otherwise.
    pub(crate) fn open(path: &Path) -> Result<Self, CheckpointError> {
        let file = name(path);
        let bytes = std::fs::metadata(path)
            .map_err(|e| CheckpointError::io(path, e))?
            .len();
        let reader = PytorchReader::with_top_level_key(path, STATE_DICT_KEY)
            .or_else(|_| PytorchReader::new(path))
            .map_err(|e| open_error(path, &file, e))?;
        Ok(TorchSource {
            file,
            bytes,
            tensors: reader.into_tensors(),
        })
    }
}

/// One line naming the file: an error of the operating system is an I/O
/// error, a file that ends early is truncated, anything else (a ZIP
/// checksum that does not match, say, which the ZIP reader also reports as
/// an `io::Error`) a format error with the reader's reason.
fn open_error(path: &Path, file: &str, e: PytorchError) -> CheckpointError {
    match e {
        PytorchError::Io(io) if io.raw_os_error().is_some() => CheckpointError::io(path, io),
        PytorchError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            CheckpointError::Truncated {
                file: file.to_owned(),
                detail: one_line(&io.to_string()),
            }
        }
        other => CheckpointError::Format {
            file: file.to_owned(),
            format: "PyTorch",
            detail: one_line(&other.to_string()),
        },
    }
}

impl TensorSource for TorchSource {
    fn names(&self) -> Vec<String> {
        self.tensors.keys().cloned().collect()
    }

    fn values(&self, tensor: &str) -> Result<(Vec<usize>, Vec<f64>), CheckpointError> {
        let t = self
            .tensors
            .get(tensor)
            .ok_or_else(|| missing(&self.file, tensor, &self.names()))?;
        // `Tensor::read` returns C-ordered, native-endian bytes (the reader
        // refuses big-endian files).
        let convert: fn(&[u8]) -> f64 = match t.dtype() {
            DType::F64 => |c| f64::from_ne_bytes(c.try_into().expect("8 bytes")),
            DType::F32 => |c| f32::from_ne_bytes(c.try_into().expect("4 bytes")) as f64,
            DType::F16 => |c| half::f16::from_ne_bytes(c.try_into().expect("2 bytes")).to_f64(),
            DType::BF16 => |c| half::bf16::from_ne_bytes(c.try_into().expect("2 bytes")).to_f64(),
            other => {
                return Err(CheckpointError::UnsupportedDtype {
                    file: self.file.clone(),
                    tensor: tensor.to_owned(),
                    dtype: torch_name(other).to_owned(),
                    supported: SUPPORTED,
                });
            }
        };
        // A view can repeat its storage (an `expand` has stride 0), so a
        // small file can declare a tensor of gigabytes. A weight or bias
        // saved by `state_dict()` holds its own values: refuse a tensor with
        // more bytes than the whole file before reading (and widening) it.
        if t.byte_len() as u64 > self.bytes {
            return Err(CheckpointError::Shape {
                file: self.file.clone(),
                tensor: tensor.to_owned(),
                detail: format!(
                    "shape {:?} of {} holds {} bytes, more than the file's {}: a view that repeats its storage; save it with .contiguous()",
                    t.shape(),
                    torch_name(t.dtype()),
                    t.byte_len(),
                    self.bytes
                ),
            });
        }
        let bytes = t.read().map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => CheckpointError::Truncated {
                file: self.file.clone(),
                detail: one_line(&e.to_string()),
            },
            _ => CheckpointError::Format {
                file: self.file.clone(),
                format: "PyTorch",
                detail: one_line(&e.to_string()),
            },
        })?;
        let vals: Vec<f64> = bytes.chunks_exact(t.dtype().size()).map(convert).collect();
        // The reader returns exactly the shape's values; checked all the
        // same, since the layers index them by the shape.
        if vals.len() != t.num_elements() {
            return Err(CheckpointError::Format {
                file: self.file.clone(),
                format: "PyTorch",
                detail: format!(
                    "tensor `{tensor}` of shape {:?} reads as {} values",
                    t.shape(),
                    vals.len()
                ),
            });
        }
        Ok((t.shape().to_vec(), vals))
    }
}

/// A dtype as PyTorch names it (`torch.int64` is `int64`), as the accepted
/// ones are listed in messages.
fn torch_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F64 => "float64",
        DType::F32 => "float32",
        DType::F16 => "float16",
        DType::BF16 => "bfloat16",
        DType::I64 => "int64",
        DType::I32 => "int32",
        DType::I16 => "int16",
        DType::I8 => "int8",
        DType::U64 => "uint64",
        DType::U32 => "uint32",
        DType::U16 => "uint16",
        DType::U8 => "uint8",
        DType::Bool => "bool",
    }
}
