//! Architecture files: the layers of a sequential (convolutional) network,
//! for checkpoints whose tensors alone do not say how they are applied.
//!
//! ```toml
//! input = [1, 8, 8]          # [channels, height, width], or [features]
//!
//! [[layers]]
//! type = "conv2d"            # PyTorch's Conv2d
//! channels = 8               # out_channels (in_channels follows from the input)
//! kernel = 3                 # or [h, w]
//! stride = 1                 # default 1; or [vertical, horizontal]
//! padding = 1                # default 0; or [rows, columns]
//!
//! [[layers]]
//! type = "relu"              # identity, relu, leaky_relu (slope, default 0.01), tanh, gelu, quadratic
//!
//! [[layers]]
//! type = "max_pool2d"        # also avg_pool2d; kernel, stride (default: the kernel)
//! kernel = 2
//!
//! [[layers]]
//! type = "global_avg_pool"   # AdaptiveAvgPool2d(1)
//!
//! [[layers]]
//! type = "flatten"
//!
//! [[layers]]
//! type = "linear"
//! outputs = 10               # out_features
//! ```
//!
//! Whether a convolution or linear layer has a bias is read from the
//! weights file (the tensor `P.bias` beside `P.weight`), so one
//! architecture file serves networks saved with and without biases.

use std::path::Path;

use networks::{Activation, Conv2d, Layer, Pool, Sequential, Shape};
use serde::Deserialize;

use crate::error::{CheckpointError, name};

/// A size given as one number or as `[vertical, horizontal]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
enum Pair {
    One(usize),
    Two([usize; 2]),
}

impl Pair {
    fn get(self) -> [usize; 2] {
        match self {
            Pair::One(v) => [v, v],
            Pair::Two(v) => v,
        }
    }
}

/// One layer as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum LayerSpec {
    Conv2d {
        channels: usize,
        kernel: Pair,
        stride: Option<Pair>,
        padding: Option<Pair>,
    },
    Linear {
        outputs: usize,
    },
    MaxPool2d {
        kernel: Pair,
        stride: Option<Pair>,
    },
    AvgPool2d {
        kernel: Pair,
        stride: Option<Pair>,
    },
    GlobalAvgPool,
    Flatten,
    Identity,
    Relu,
    LeakyRelu {
        slope: Option<f64>,
    },
    Tanh,
    Gelu,
    Quadratic,
}

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
        let input = match spec.input[..] {
            [c, h, w] => Shape::Image([c, h, w]),
            [d] => Shape::Flat(d),
            _ => {
                return Err(invalid(format!(
                    "input = {:?}: expected [channels, height, width] or [features]",
                    spec.input
                )));
            }
        };
        let layers = spec
            .layers
            .into_iter()
            .map(|l| match l {
                LayerSpec::Conv2d {
                    channels,
                    kernel,
                    stride,
                    padding,
                } => Layer::Conv2d(Conv2d {
                    channels,
                    kernel: kernel.get(),
                    stride: stride.map_or([1, 1], Pair::get),
                    padding: padding.map_or([0, 0], Pair::get),
                    bias: false,
                }),
                LayerSpec::Linear { outputs } => Layer::Linear {
                    outputs,
                    bias: false,
                },
                LayerSpec::MaxPool2d { kernel, stride } => Layer::MaxPool2d(pool(kernel, stride)),
                LayerSpec::AvgPool2d { kernel, stride } => Layer::AvgPool2d(pool(kernel, stride)),
                LayerSpec::GlobalAvgPool => Layer::GlobalAvgPool,
                LayerSpec::Flatten => Layer::Flatten,
                LayerSpec::Identity => Layer::Activation(Activation::Identity),
                LayerSpec::Relu => Layer::Activation(Activation::Relu),
                LayerSpec::LeakyRelu { slope } => Layer::Activation(Activation::LeakyRelu {
                    slope: slope.unwrap_or(0.01),
                }),
                LayerSpec::Tanh => Layer::Activation(Activation::Tanh),
                LayerSpec::Gelu => Layer::Activation(Activation::Gelu),
                LayerSpec::Quadratic => Layer::Activation(Activation::Quadratic),
            })
            .collect();
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

fn pool(kernel: Pair, stride: Option<Pair>) -> Pool {
    let kernel = kernel.get();
    Pool {
        kernel,
        stride: stride.map_or(kernel, Pair::get),
    }
}
