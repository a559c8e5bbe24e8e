//! Architecture files: the layers of a sequential (convolutional) network,
//! for checkpoints whose tensors alone do not say how they are applied.
//!
//! ```toml
//! input = [1, 8, 8]          # [channels, height, width], or [features]
//!
//! [[layers]]
//! type = "conv2d"
//! channels = 8
//! kernel = 3
//! padding = 1
//! ```
//!
//! The `[[layers]]` tables are [`networks::LayerSpec`]'s (every layer type
//! and key is listed there).
//!
//! Whether a convolution or linear layer has a bias is read from the
//! weights file (the tensor `P.bias` beside `P.weight`), so one
//! architecture file serves networks saved with and without biases.

use std::path::Path;

use networks::{Conv2d, Layer, LayerSpec, Sequential, Shape};
use serde::Deserialize;

use crate::error::{CheckpointError, name};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchFile {
    input: Vec<usize>,
    layers: Vec<LayerSpec>,
}

/// A network's layers as read from an architecture file, before the
/// weights say which layers have biases.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchSpec {
    /// The file it was read from (for messages).
    pub file: String,
    /// The shape of one sample.
    pub input: Shape,
    /// The layers, every bias off.
    pub layers: Vec<Layer>,
}

impl ArchSpec {
    /// Parse the text of an architecture file (module docs); `file` names
    /// it in messages.
    pub fn parse(file: &str, text: &str) -> Result<Self, CheckpointError> {
        let invalid = |detail: String| CheckpointError::Format {
            file: file.to_owned(),
            format: "architecture",
            detail,
        };
        let spec: ArchFile =
            toml::from_str(text).map_err(|e| invalid(crate::error::one_line(e.message())))?;
        let input = networks::sequential::spec::input_shape(&spec.input).map_err(invalid)?;
        let layers = spec.layers.into_iter().map(|l| l.layer(false)).collect();
        let arch = ArchSpec {
            file: file.to_owned(),
            input,
            layers,
        };
        arch.network(&[])?;
        Ok(arch)
    }

    /// Read and parse an architecture file.
    pub fn read(path: &Path) -> Result<Self, CheckpointError> {
        let text = std::fs::read_to_string(path).map_err(|e| CheckpointError::io(path, e))?;
        ArchSpec::parse(&name(path), &text)
    }

    /// The network with a bias on the parametrised layers (in order) whose
    /// entry of `biases` is true (missing entries: no bias); an error names
    /// the layer that does not fit.
    pub fn network(&self, biases: &[bool]) -> Result<Sequential, CheckpointError> {
        let mut j = 0;
        let layers = self
            .layers
            .iter()
            .map(|l| {
                let mut l = *l;
                if let Layer::Conv2d(Conv2d { bias, .. }) | Layer::Linear { bias, .. } = &mut l {
                    *bias = biases.get(j).copied().unwrap_or(false);
                    j += 1;
                }
                l
            })
            .collect();
        Sequential::new(self.input, layers).map_err(|e| CheckpointError::Format {
            file: self.file.clone(),
            format: "architecture",
            detail: e.to_string(),
        })
    }

    /// Per parametrised layer, the shape its weight tensor must have in
    /// PyTorch's layout: `[k_out, k_in, h, w]` or `[out, in]`.
    pub fn weight_shapes(&self) -> Vec<Vec<usize>> {
        let net = self.network(&[]).expect("checked when parsed");
        net.weight_layers()
            .map(|k| match (net.layers()[k], net.shape_before(k)) {
                (Layer::Conv2d(c), Shape::Image([k_in, _, _])) => {
                    vec![c.channels, k_in, c.kernel[0], c.kernel[1]]
                }
                _ => {
                    let (rows, cols) = net.weight_shape(k).expect("a parametrised layer");
                    vec![rows, cols]
                }
            })
            .collect()
    }
}
