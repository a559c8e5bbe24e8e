//! The safetensors format as a [`TensorSource`].
//!
//! **Format**: an 8-byte little-endian header length N, N bytes of JSON
//! mapping each tensor name to `{"dtype", "shape", "data_offsets": [begin,
//! end]}` (offsets into the data section; an optional `__metadata__` entry
//! of strings), then the raw little-endian, C-ordered data. Parsed by the
//! `safetensors` crate; accepted dtypes F64, F32, F16, BF16 (widened to f64
//! exactly).

use safetensors::{Dtype, SafeTensorError, SafeTensors};

use crate::error::CheckpointError;
use crate::source::{TensorSource, missing};

const SUPPORTED: &str = "F64, F32, F16, BF16";

/// The tensors of a safetensors file held in memory.
pub(crate) struct SafetensorsSource<'a> {
    file: String,
    tensors: SafeTensors<'a>,
}

impl<'a> SafetensorsSource<'a> {
    /// Parse the whole file, turning the crate's errors into one-line
    /// messages that name the file (and, for a truncated data section, the
    /// tensor cut).
    pub(crate) fn parse(file: &str, bytes: &'a [u8]) -> Result<Self, CheckpointError> {
        let format = |detail: String| CheckpointError::Format {
            file: file.to_owned(),
            format: "safetensors",
            detail,
        };
        let truncated = |detail: String| CheckpointError::Truncated {
            file: file.to_owned(),
            detail,
        };
        if bytes.len() < 8 {
            return Err(truncated(format!(
                "{} bytes, shorter than the 8-byte header length",
                bytes.len()
            )));
        }
        let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let rest = (bytes.len() - 8) as u64;
        if header_len > rest {
            return Err(truncated(format!(
                "the header length is {header_len} bytes but only {rest} bytes follow"
            )));
        }
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| match e {
            SafeTensorError::MetadataIncompleteBuffer => {
                let data_len = rest - header_len;
                match cut_tensor(&bytes[8..8 + header_len as usize], data_len) {
                    Some((tensor, end)) => truncated(format!(
                        "tensor `{tensor}` ends at byte {end} of the data section, which has {data_len} bytes"
                    )),
                    None => format(format!(
                        "the data section has {data_len} bytes, more than the tensors' data_offsets cover"
                    )),
                }
            }
            SafeTensorError::InvalidOffset(tensor) => format(format!(
                "tensor `{tensor}` has data_offsets that do not follow the previous tensor's"
            )),
            SafeTensorError::TensorInvalidInfo => {
                format("a tensor's data_offsets do not match its dtype and shape".into())
            }
            SafeTensorError::InvalidHeaderDeserialization(e) => {
                format(format!("header is not valid JSON of the format: {e}"))
            }
            other => format(format!("{other:?}")),
        })?;
        Ok(SafetensorsSource {
            file: file.to_owned(),
            tensors,
        })
    }
}

/// The tensor whose data end beyond `data_len`, with that end: read from the
/// header JSON only to name it in the message.
fn cut_tensor(header: &[u8], data_len: u64) -> Option<(String, u64)> {
    let json: serde_json::Value = serde_json::from_slice(header).ok()?;
    json.as_object()?
        .iter()
        .filter_map(|(k, v)| {
            let end = v.get("data_offsets")?.get(1)?.as_u64()?;
            (end > data_len).then(|| (k.clone(), end))
        })
        .min_by_key(|(_, end)| *end)
}

impl TensorSource for SafetensorsSource<'_> {
    fn names(&self) -> Vec<String> {
        self.tensors
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    fn values(&self, tensor: &str) -> Result<(Vec<usize>, Vec<f64>), CheckpointError> {
        let view = self
            .tensors
            .tensor(tensor)
            .map_err(|_| missing(&self.file, tensor, &self.names()))?;
        let data = view.data();
        let vals: Vec<f64> = match view.dtype() {
            Dtype::F64 => data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64)
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes(c.try_into().expect("2 bytes")).to_f64())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes(c.try_into().expect("2 bytes")).to_f64())
                .collect(),
            other => {
                return Err(CheckpointError::UnsupportedDtype {
                    file: self.file.clone(),
                    tensor: tensor.to_owned(),
                    dtype: format!("{other:?}"),
                    supported: SUPPORTED,
                });
            }
        };
        Ok((view.shape().to_vec(), vals))
    }
}
