//! Sequential networks: convolutions, pooling, pointwise activations,
//! flattening and fully connected layers in any valid order (SPEC §9). A
//! fully connected network is the sequential network
//! `[Linear, φ, Linear, φ, …, Linear]` ([`Sequential::from_mlp`]); the
//! [`Architecture`] path of this crate is its specialised, faster form, and
//! the tests check the two against each other.
//!
//! **Layout.** A sample is a column: an image is stored channel by channel,
//! each channel row by row (PyTorch's NCHW order, flattened), so that
//! [`Layer::Flatten`] is free. A batch is a matrix with one column per
//! sample.
//!
//! **Parameters** are the list `[W_1..W_m]` of the m parametrised layers
//! (convolutions and linear layers, in order), followed by the biases of
//! those that have one, each `1 × out`: the order of [`Architecture`] when
//! every layer or none has a bias. A convolution's weight is its filter
//! bank `[k_out, k_in, h, w]` flattened in C order to the `k_out × k_in·h·w`
//! matrix that acts on patches ([`ConvGeometry`]).
//!
//! * [`forward`](mod@forward): the forward pass (convolutions as im2col and one GEMM).
//! * [`tangents`](mod@tangents): per-position pre-activation gradients, the PTK
//!   and the patch AGOP two ways.
//! * [`objective`]: the MSE objective and its gradient, for training.
//! * [`spec`]: the layers as written in TOML (architecture files,
//!   experiment configurations).

pub mod forward;
pub mod objective;
pub mod spec;
pub mod tangents;

use faer::{Mat, MatRef};

use crate::{Activation, Architecture, NetworkError};

/// The shape of one sample at a point of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `[channels, height, width]`.
    Image([usize; 3]),
    /// A vector of this length.
    Flat(usize),
}

impl Shape {
    /// The number of values of one sample.
    pub fn size(self) -> usize {
        match self {
            Shape::Image([c, h, w]) => c * h * w,
            Shape::Flat(d) => d,
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shape::Image([c, h, w]) => write!(f, "[{c}, {h}, {w}]"),
            Shape::Flat(d) => write!(f, "[{d}]"),
        }
    }
}

/// A 2-d convolution (cross-correlation, as PyTorch's `Conv2d` with
/// dilation 1 and one group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2d {
    /// Output channels `k_out`.
    pub channels: usize,
    /// `[h, w]` of the filters.
    pub kernel: [usize; 2],
    /// `[vertical, horizontal]` stride.
    pub stride: [usize; 2],
    /// Zero padding `[rows, columns]` on each side.
    pub padding: [usize; 2],
    /// Whether the layer adds a bias per output channel.
    pub bias: bool,
}

/// A pooling window (no padding, PyTorch's floor mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// `[h, w]` of the window.
    pub kernel: [usize; 2],
    /// `[vertical, horizontal]` stride.
    pub stride: [usize; 2],
}

/// One layer of a sequential network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layer {
    /// A convolution.
    Conv2d(Conv2d),
    /// `h = W a (+ b)` on a vector.
    Linear {
        /// Output dimension.
        outputs: usize,
        /// Whether the layer has a bias.
        bias: bool,
    },
    /// φ applied to every value.
    Activation(Activation),
    /// The maximum over each window (the first maximum in row-major order
    /// of the window takes the gradient, as PyTorch).
    MaxPool2d(Pool),
    /// The mean over each window.
    AvgPool2d(Pool),
    /// The mean over each channel (`AdaptiveAvgPool2d(1)`): `[c, 1, 1]`.
    GlobalAvgPool,
    /// An image as a vector, in its storage order.
    Flatten,
}

impl Layer {
    /// The layer's name in messages and architecture files.
    pub fn name(&self) -> &'static str {
        match self {
            Layer::Conv2d(_) => "conv2d",
            Layer::Linear { .. } => "linear",
            Layer::Activation(a) => a.name(),
            Layer::MaxPool2d(_) => "max_pool2d",
            Layer::AvgPool2d(_) => "avg_pool2d",
            Layer::GlobalAvgPool => "global_avg_pool",
            Layer::Flatten => "flatten",
        }
    }

    /// Whether the layer has a weight.
    pub fn has_weight(&self) -> bool {
        matches!(self, Layer::Conv2d(_) | Layer::Linear { .. })
    }

    fn bias(&self) -> bool {
        match self {
            Layer::Conv2d(c) => c.bias,
            Layer::Linear { bias, .. } => *bias,
            _ => false,
        }
    }
}

/// `conv2d(8, 3×3, stride 1, padding 1, bias)`, `linear(10)`,
/// `max_pool2d(2×2, stride 2)`, `relu`, `leaky_relu(0.01)`, …: the layer as
/// records and tables describe it.
impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bias = |b: bool| if b { ", bias" } else { "" };
        match self {
            Layer::Conv2d(c) => write!(
                f,
                "conv2d({}, {}×{}, stride {}, padding {}{})",
                c.channels,
                c.kernel[0],
                c.kernel[1],
                pair(c.stride),
                pair(c.padding),
                bias(c.bias)
            ),
            Layer::Linear { outputs, bias: b } => write!(f, "linear({outputs}{})", bias(*b)),
            Layer::MaxPool2d(p) | Layer::AvgPool2d(p) => write!(
                f,
                "{}({}×{}, stride {})",
                self.name(),
                p.kernel[0],
                p.kernel[1],
                pair(p.stride)
            ),
            Layer::Activation(Activation::LeakyRelu { slope }) => write!(f, "leaky_relu({slope})"),
            other => f.write_str(other.name()),
        }
    }
}

/// `2` for `[2, 2]`, `2×1` otherwise.
fn pair([a, b]: [usize; 2]) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}×{b}")
    }
}

/// Where a convolution's filters meet its input: `P = out_h · out_w`
/// positions, each reading a patch of `k_in·h·w` values (ordered as the
/// flattened filter: channel, then row, then column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Input `[k_in, H, W]`.
    pub input: [usize; 3],
    /// The layer.
    pub conv: Conv2d,
    /// `[out_h, out_w]`.
    pub output: [usize; 2],
}

impl ConvGeometry {
    /// `k_in·h·w`, the length of a patch.
    pub fn patch(&self) -> usize {
        self.input[0] * self.conv.kernel[0] * self.conv.kernel[1]
    }

    /// P, the number of output positions.
    pub fn positions(&self) -> usize {
        self.output[0] * self.output[1]
    }

    /// The index of the input value that entry e of the patch at position
    /// p reads, at `p · patch + e`, or [`PADDING`] in the zero padding: the
    /// gather table of im2col and the scatter table of col2im.
    pub(crate) fn sources(&self) -> Vec<u32> {
        let patch = self.patch();
        let mut table = Vec::with_capacity(self.positions() * patch);
        for p in 0..self.positions() {
            for e in 0..patch {
                table.push(self.source(p, e).map_or(PADDING, |i| i as u32));
            }
        }
        table
    }

    /// For position `p` and patch entry `e`, the index of the input value
    /// it reads, or `None` in the zero padding.
    #[inline]
    fn source(&self, p: usize, e: usize) -> Option<usize> {
        let [_, h, w] = self.input;
        let [kh, kw] = self.conv.kernel;
        let (ch, rest) = (e / (kh * kw), e % (kh * kw));
        let (di, dj) = (rest / kw, rest % kw);
        let (oi, oj) = (p / self.output[1], p % self.output[1]);
        let i = (oi * self.conv.stride[0] + di).checked_sub(self.conv.padding[0])?;
        let j = (oj * self.conv.stride[1] + dj).checked_sub(self.conv.padding[1])?;
        (i < h && j < w).then_some((ch * h + i) * w + j)
    }
}

/// A patch entry in the zero padding, in [`ConvGeometry::sources`].
pub(crate) const PADDING: u32 = u32::MAX;

/// The output size of a window of `kernel` moved by `stride` over `size`
/// values padded by `padding` on each side, if the window fits.
fn windows(size: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    let padded = size + 2 * padding;
    (kernel >= 1 && stride >= 1 && padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

/// A validated sequential network: its layers and the shape of a sample
/// after each of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequential {
    input: Shape,
    layers: Vec<Layer>,
    shapes: Vec<Shape>,
}

impl Sequential {
    /// Check that `layers` apply in order to samples of shape `input`; the
    /// error names the first layer (from 0) that does not fit and the shape
    /// it received.
    pub fn new(input: Shape, layers: Vec<Layer>) -> Result<Self, NetworkError> {
        let mut shapes = Vec::with_capacity(layers.len());
        let mut shape = input;
        if shape.size() == 0 {
            return Err(NetworkError::Params(format!(
                "the input shape {shape} is empty"
            )));
        }
        for (k, layer) in layers.iter().enumerate() {
            let refuse = |why: String| {
                NetworkError::Params(format!(
                    "layer {k} ({}) receives shape {shape}: {why}",
                    layer.name()
                ))
            };
            shape = match (*layer, shape) {
                (Layer::Activation(_), s) => s,
                (Layer::Flatten, s) => Shape::Flat(s.size()),
                (Layer::Linear { outputs, .. }, Shape::Flat(_)) if outputs > 0 => {
                    Shape::Flat(outputs)
                }
                (Layer::Linear { .. }, Shape::Flat(_)) => {
                    return Err(refuse("a linear layer needs at least one output".into()));
                }
                (Layer::Linear { .. }, Shape::Image(_)) => {
                    return Err(refuse(
                        "a linear layer takes a vector: flatten first".into(),
                    ));
                }
                (Layer::Conv2d(c), Shape::Image([_, h, w])) => {
                    if c.channels == 0 {
                        return Err(refuse("a convolution needs at least one channel".into()));
                    }
                    let out = windows(h, c.kernel[0], c.stride[0], c.padding[0]).zip(windows(
                        w,
                        c.kernel[1],
                        c.stride[1],
                        c.padding[1],
                    ));
                    let Some((oh, ow)) = out else {
                        return Err(refuse(format!(
                            "the {}×{} kernel (stride {:?}, padding {:?}) does not fit",
                            c.kernel[0], c.kernel[1], c.stride, c.padding
                        )));
                    };
                    Shape::Image([c.channels, oh, ow])
                }
                (Layer::MaxPool2d(p) | Layer::AvgPool2d(p), Shape::Image([c, h, w])) => {
                    let out = windows(h, p.kernel[0], p.stride[0], 0).zip(windows(
                        w,
                        p.kernel[1],
                        p.stride[1],
                        0,
                    ));
                    let Some((oh, ow)) = out else {
                        return Err(refuse(format!(
                            "the {}×{} window (stride {:?}) does not fit",
                            p.kernel[0], p.kernel[1], p.stride
                        )));
                    };
                    Shape::Image([c, oh, ow])
                }
                (Layer::GlobalAvgPool, Shape::Image([c, _, _])) => Shape::Image([c, 1, 1]),
                (
                    Layer::Conv2d(_)
                    | Layer::MaxPool2d(_)
                    | Layer::AvgPool2d(_)
                    | Layer::GlobalAvgPool,
                    Shape::Flat(_),
                ) => return Err(refuse("it takes an image [channels, height, width]".into())),
            };
            shapes.push(shape);
        }
        if !layers.iter().any(Layer::has_weight) {
            return Err(NetworkError::Params(
                "the network has no convolution or linear layer".into(),
            ));
        }
        Ok(Sequential {
            input,
            layers,
            shapes,
        })
    }

    /// The fully connected network of `arch` as a sequential network.
    pub fn from_mlp(arch: &Architecture) -> Result<Self, NetworkError> {
        let depth = arch.depth();
        if depth == 0 {
            return Err(NetworkError::Params(
                "the architecture needs at least one layer".into(),
            ));
        }
        let mut layers = Vec::with_capacity(2 * depth - 1);
        for l in 1..=depth {
            layers.push(Layer::Linear {
                outputs: arch.widths[l],
                bias: arch.bias,
            });
            if l < depth {
                layers.push(Layer::Activation(arch.activation));
            }
        }
        Sequential::new(Shape::Flat(arch.widths[0]), layers)
    }

    /// The fully connected architecture this network is, if it has the
    /// form of [`Sequential::from_mlp`].
    pub fn as_mlp(&self) -> Option<Architecture> {
        let activation = self.layers.iter().find_map(|l| match l {
            Layer::Activation(a) => Some(*a),
            _ => None,
        });
        let bias = self.layers[0].bias();
        let mut widths = vec![self.input.size()];
        widths.extend(self.weight_layers().map(|k| self.shapes[k].size()));
        let arch = Architecture {
            widths,
            activation: activation.unwrap_or(Activation::Identity),
            bias,
        };
        let same = Sequential::from_mlp(&arch).ok()?;
        (matches!(self.input, Shape::Flat(_)) && same.layers == self.layers).then_some(arch)
    }

    /// The input shape.
    pub fn input(&self) -> Shape {
        self.input
    }

    /// The layers.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The shape of a sample after layer `k`.
    pub fn shape_after(&self, k: usize) -> Shape {
        self.shapes[k]
    }

    /// The shape of a sample before layer `k`.
    pub fn shape_before(&self, k: usize) -> Shape {
        if k == 0 {
            self.input
        } else {
            self.shapes[k - 1]
        }
    }

    /// C, the number of outputs (the size of the last shape).
    pub fn outputs(&self) -> usize {
        self.shapes.last().map_or(0, |s| s.size())
    }

    /// The indices of the parametrised layers, in order.
    pub fn weight_layers(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.layers.len()).filter(|&k| self.layers[k].has_weight())
    }

    /// The geometry of convolution layer `k`.
    pub fn conv_geometry(&self, k: usize) -> Option<ConvGeometry> {
        match (self.layers[k], self.shape_before(k), self.shapes[k]) {
            (Layer::Conv2d(conv), Shape::Image(input), Shape::Image([_, oh, ow])) => {
                Some(ConvGeometry {
                    input,
                    conv,
                    output: [oh, ow],
                })
            }
            _ => None,
        }
    }

    /// `(rows, columns)` of the weight matrix of parametrised layer `k`:
    /// `out × in` for a linear layer, `k_out × k_in·h·w` for a convolution.
    pub fn weight_shape(&self, k: usize) -> Option<(usize, usize)> {
        match self.layers[k] {
            Layer::Linear { outputs, .. } => Some((outputs, self.shape_before(k).size())),
            Layer::Conv2d(c) => self.conv_geometry(k).map(|g| (c.channels, g.patch())),
            _ => None,
        }
    }

    /// For each parametrised layer in order: its layer index, weight shape
    /// and whether it has a bias.
    pub fn parameter_layers(&self) -> Vec<(usize, (usize, usize), bool)> {
        self.weight_layers()
            .map(|k| {
                let shape = self.weight_shape(k).expect("a parametrised layer");
                (k, shape, self.layers[k].bias())
            })
            .collect()
    }

    /// Check that the rows of `x` are samples of the input shape.
    pub fn check_data(&self, x: MatRef<'_, f64>) -> Result<(), NetworkError> {
        if x.ncols() != self.input.size() {
            return Err(NetworkError::Data(format!(
                "X has {} columns, the network takes {} values per sample (input shape {})",
                x.ncols(),
                self.input.size(),
                self.input
            )));
        }
        Ok(())
    }

    /// Check `params` against the network (module docs for the order).
    pub fn check(&self, params: &[Mat<f64>]) -> Result<(), NetworkError> {
        let layers = self.parameter_layers();
        let biases = layers.iter().filter(|(_, _, b)| *b).count();
        if params.len() != layers.len() + biases {
            return Err(NetworkError::Params(format!(
                "expected {} matrices ({} weights, {biases} biases), got {}",
                layers.len() + biases,
                layers.len(),
                params.len()
            )));
        }
        for (j, (&(k, (rows, cols), _), bias)) in layers.iter().zip(self.bias_indices()).enumerate()
        {
            let w = &params[j];
            if (w.nrows(), w.ncols()) != (rows, cols) {
                return Err(NetworkError::Params(format!(
                    "the weight of layer {k} ({}) is {}×{}, expected {rows}×{cols}",
                    self.layers[k].name(),
                    w.nrows(),
                    w.ncols()
                )));
            }
            if let Some(index) = bias {
                let b = &params[index];
                if (b.nrows(), b.ncols()) != (1, rows) {
                    return Err(NetworkError::Params(format!(
                        "the bias of layer {k} ({}) is {}×{}, expected 1×{rows}",
                        self.layers[k].name(),
                        b.nrows(),
                        b.ncols()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Per parametrised layer: the index of its bias in the parameter list
    /// (after all the weights, in layer order), if it has one.
    pub(crate) fn bias_indices(&self) -> Vec<Option<usize>> {
        let layers = self.parameter_layers();
        let mut next = layers.len();
        layers
            .iter()
            .map(|&(_, _, bias)| {
                bias.then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    }

    /// Per parametrised layer: its weight and its bias, if any.
    pub(crate) fn split<'p>(
        &self,
        params: &'p [Mat<f64>],
    ) -> Vec<(&'p Mat<f64>, Option<&'p Mat<f64>>)> {
        self.bias_indices()
            .into_iter()
            .enumerate()
            .map(|(j, bias)| (&params[j], bias.map(|b| &params[b])))
            .collect()
    }
}
