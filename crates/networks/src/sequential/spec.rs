//! The layers of a sequential network as written in TOML: an architecture
//! file of `analyze --arch` and the `[[network.layers]]` of an experiment
//! configuration use the same tables.
//!
//! ```toml
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

use serde::{Deserialize, Serialize};

use super::{Conv2d, Layer, Pool, Shape};
use crate::Activation;

/// A size given as one number or as `[vertical, horizontal]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Pair {
    /// The same size both ways.
    One(usize),
    /// `[vertical, horizontal]`.
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

/// One layer as written in TOML (module docs). Whether a convolution or
/// linear layer has a bias is not part of it: the weights file says so for
/// a checkpoint, `network.biases` for an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)]
pub enum LayerSpec {
    Conv2d {
        channels: usize,
        kernel: Pair,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<Pair>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        padding: Option<Pair>,
    },
    Linear {
        outputs: usize,
    },
    MaxPool2d {
        kernel: Pair,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<Pair>,
    },
    AvgPool2d {
        kernel: Pair,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<Pair>,
    },
    GlobalAvgPool,
    Flatten,
    Identity,
    Relu,
    LeakyRelu {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slope: Option<f64>,
    },
    Tanh,
    Gelu,
    Quadratic,
}

impl LayerSpec {
    /// The layer, with a bias when it has a weight and `bias` is true.
    pub fn layer(self, bias: bool) -> Layer {
        let pool = |kernel: Pair, stride: Option<Pair>| {
            let kernel = kernel.get();
            Pool {
                kernel,
                stride: stride.map_or(kernel, Pair::get),
            }
        };
        match self {
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
                bias,
            }),
            LayerSpec::Linear { outputs } => Layer::Linear { outputs, bias },
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
        }
    }
}

/// The shape of one sample written as `[channels, height, width]` or
/// `[features]`; the error says what was expected.
pub fn input_shape(input: &[usize]) -> Result<Shape, String> {
    match *input {
        [c, h, w] => Ok(Shape::Image([c, h, w])),
        [d] => Ok(Shape::Flat(d)),
        _ => Err(format!(
            "input = {input:?}: expected [channels, height, width] or [features]"
        )),
    }
}
