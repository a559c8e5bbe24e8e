//! Network weights from checkpoint files or named arrays: fully connected
//! networks from the tensors alone, sequential networks with convolutions
//! from the tensors and an architecture file ([`read_network`]).
//!
//! **Files**: safetensors (`safetensors_file`) and PyTorch's
//! `torch.save` (`.pt`/`.pth`, `torch_file`); [`read_checkpoint`]
//! tells them apart by their first bytes (a safetensors header is JSON from
//! byte 8; a `.pt` file is a ZIP archive or a pickle), not by the name.
//! [`from_tensors`] takes named arrays already in memory (a state dict
//! handed over from Python).
//!
//! **Layout** (PyTorch `nn.Linear`): layer l has a weight `W_l` of shape
//! `[d_l, d_{l−1}]` (out × in) and optionally a bias of shape `[d_l]`; the
//! network computes `h_l = W_l a_{l−1} + b_l`. Layers are found either from
//! an explicit list or from the names: every tensor whose name is `weight`
//! or ends in `.weight` is a layer, in natural order of the names (digit
//! runs compare as numbers, so `layers.10` follows `layers.9`), and
//! `P.bias` is the bias of `P.weight`. Without an explicit list, any other
//! tensor is an error: silently skipping it would analyse a different
//! network than the one saved. Every value must be finite.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use faer::{Mat, MatRef};
use networks::{Activation, Architecture, Sequential};
use safetensors::Dtype;

use crate::arch::ArchSpec;
use crate::error::{CheckpointError, name};
use crate::safetensors_file::SafetensorsSource;
use crate::source::{TensorSource, missing, natural_cmp};
use crate::torch_file::TorchSource;

/// One layer of a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Name of the weight tensor.
    pub weight_name: String,
    /// `W_l`, d_l × d_{l−1} (out × in).
    pub weight: Mat<f64>,
    /// Name and values (1 × d_l) of the bias, if the layer has one.
    pub bias: Option<(String, Mat<f64>)>,
}

/// A fully connected network read from a safetensors file.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The file it was read from (for messages).
    pub file: String,
    /// Layers from the input to the output (at least one, as read).
    pub layers: Vec<Layer>,
}

impl Checkpoint {
    /// `[d_0, d_1, …, d_L]`.
    pub fn widths(&self) -> Vec<usize> {
        let mut w = vec![self.layers[0].weight.ncols()];
        w.extend(self.layers.iter().map(|l| l.weight.nrows()));
        w
    }

    /// Whether the layers have biases (all or none; mixed files are
    /// rejected when read).
    pub fn has_bias(&self) -> bool {
        self.layers[0].bias.is_some()
    }

    /// The names of the layers' weight tensors, in layer order (the layer
    /// list that reads another file of the same network, e.g. its init).
    pub fn weight_names(&self) -> Vec<String> {
        self.layers.iter().map(|l| l.weight_name.clone()).collect()
    }

    /// The names of each layer's weight and bias tensors.
    pub fn tensor_names(&self) -> Vec<(String, Option<String>)> {
        self.layers
            .iter()
            .map(|l| {
                (
                    l.weight_name.clone(),
                    l.bias.as_ref().map(|(n, _)| n.clone()),
                )
            })
            .collect()
    }

    /// The architecture with activation `activation` on hidden layers.
    pub fn architecture(&self, activation: Activation) -> Architecture {
        Architecture {
            widths: self.widths(),
            activation,
            bias: self.has_bias(),
        }
    }

    /// The parameters in `networks`'s order: `[W_1..W_L]`, then `[b_1..b_L]` when
    /// the layers have biases.
    pub fn params(&self) -> Vec<Mat<f64>> {
        let mut p: Vec<Mat<f64>> = self.layers.iter().map(|l| l.weight.clone()).collect();
        p.extend(
            self.layers
                .iter()
                .filter_map(|l| l.bias.as_ref().map(|(_, b)| b.clone())),
        );
        p
    }

    /// Check that `other` (e.g. the initial weights) has the same layers:
    /// the same weight shapes, layer by layer. The error names `other`'s
    /// file and tensor.
    pub fn check_same_shapes(&self, other: &Checkpoint) -> Result<(), CheckpointError> {
        if other.layers.len() != self.layers.len() {
            return Err(CheckpointError::Mismatch {
                file: other.file.clone(),
                detail: format!(
                    "{} layers, but {} has {}",
                    other.layers.len(),
                    self.file,
                    self.layers.len()
                ),
            });
        }
        for (mine, theirs) in self.layers.iter().zip(&other.layers) {
            let (a, b) = (&mine.weight, &theirs.weight);
            if (a.nrows(), a.ncols()) != (b.nrows(), b.ncols()) {
                return Err(CheckpointError::Shape {
                    file: other.file.clone(),
                    tensor: theirs.weight_name.clone(),
                    detail: format!(
                        "shape [{}, {}], but `{}` in {} is [{}, {}]",
                        b.nrows(),
                        b.ncols(),
                        mine.weight_name,
                        self.file,
                        a.nrows(),
                        a.ncols()
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Read a network from a safetensors or PyTorch file (module docs).
/// `layers`: the layer order, each entry a weight tensor name
/// (`fc1.weight`) or its prefix (`fc1`); `None` finds the layers from the
/// names.
pub fn read_checkpoint(
    path: &Path,
    layers: Option<&[String]>,
) -> Result<Checkpoint, CheckpointError> {
    read_file(path, layers, None)
}

/// Read the weights of the sequential network `arch` from a safetensors
/// or PyTorch file: its parametrised layers, in order, take the weight
/// tensors in the order of `layers` (or natural order of the names), each
/// of the shape [`ArchSpec::weight_shapes`] gives (a convolution's
/// `[k_out, k_in, h, w]` flattened to `k_out × k_in·h·w`); a layer has a
/// bias when the file has `P.bias` beside `P.weight`.
pub fn read_network(
    path: &Path,
    arch: &ArchSpec,
    layers: Option<&[String]>,
) -> Result<(Checkpoint, Sequential), CheckpointError> {
    with_network(read_file(path, layers, Some(arch))?, arch)
}

/// The layers of a safetensors or PyTorch file, told apart by their first
/// 9 bytes; a `.pt` file is read by its reader, tensor by tensor, never
/// whole.
fn read_file(
    path: &Path,
    layers: Option<&[String]>,
    arch: Option<&ArchSpec>,
) -> Result<Checkpoint, CheckpointError> {
    let file = name(path);
    let io = |e| CheckpointError::io(path, e);
    let mut head = Vec::with_capacity(9);
    std::fs::File::open(path)
        .and_then(|f| f.take(9).read_to_end(&mut head))
        .map_err(io)?;
    if is_torch(&head) {
        assemble(&file, &TorchSource::open(path)?, layers, arch)
    } else {
        let bytes = std::fs::read(path).map_err(io)?;
        assemble(
            &file,
            &SafetensorsSource::parse(&file, &bytes)?,
            layers,
            arch,
        )
    }
}

/// The weights read for `arch` with the network they make: a layer has a
/// bias exactly when its bias tensor was found.
fn with_network(
    net: Checkpoint,
    arch: &ArchSpec,
) -> Result<(Checkpoint, Sequential), CheckpointError> {
    let biases: Vec<bool> = net.layers.iter().map(|l| l.bias.is_some()).collect();
    let seq = arch.network(&biases)?;
    Ok((net, seq))
}

/// A PyTorch file starts with a ZIP signature (`PK`) or a pickle's PROTO
/// opcode (0x80, the legacy stream); a safetensors file has its JSON header
/// (`{`) from byte 8, and whatever else is not either is left to the
/// safetensors parser to reject with its reason.
fn is_torch(bytes: &[u8]) -> bool {
    let json_at_8 = bytes.get(8) == Some(&b'{');
    !json_at_8 && (bytes.starts_with(b"PK") || bytes.first() == Some(&0x80))
}

/// A named array handed over in memory: its shape and values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// The name, as in a state dict (`0.weight`).
    pub name: String,
    /// The shape.
    pub shape: Vec<usize>,
    /// The values in C order (as many as the shape holds).
    pub values: Vec<f64>,
}

/// Named arrays in memory as a source; `label` stands for the file name
/// in messages.
struct MemorySource {
    label: String,
    tensors: BTreeMap<String, NamedTensor>,
}

impl TensorSource for MemorySource {
    fn names(&self) -> Vec<String> {
        self.tensors.keys().cloned().collect()
    }

    fn values(&self, tensor: &str) -> Result<(Vec<usize>, Vec<f64>), CheckpointError> {
        let t = self
            .tensors
            .get(tensor)
            .ok_or_else(|| missing(&self.label, tensor, &self.names()))?;
        Ok((t.shape.clone(), t.values.clone()))
    }
}

/// A network from named arrays (a state dict), with the layer rules of
/// the files (module docs); `label` names the arrays in messages.
pub fn from_tensors(
    label: &str,
    tensors: Vec<NamedTensor>,
    layers: Option<&[String]>,
) -> Result<Checkpoint, CheckpointError> {
    assemble(label, &memory_source(label, tensors)?, layers, None)
}

/// The weights of the sequential network `arch` from named arrays, as
/// [`read_network`] reads them from a file.
pub fn network_from_tensors(
    label: &str,
    tensors: Vec<NamedTensor>,
    arch: &ArchSpec,
    layers: Option<&[String]>,
) -> Result<(Checkpoint, Sequential), CheckpointError> {
    with_network(
        assemble(label, &memory_source(label, tensors)?, layers, Some(arch))?,
        arch,
    )
}

/// Named arrays as a tensor source, each checked against its shape, no
/// name given twice.
fn memory_source(label: &str, tensors: Vec<NamedTensor>) -> Result<MemorySource, CheckpointError> {
    let mut map = BTreeMap::new();
    for t in tensors {
        let count: usize = t.shape.iter().product();
        if count != t.values.len() {
            return Err(CheckpointError::Shape {
                file: label.to_owned(),
                tensor: t.name,
                detail: format!(
                    "shape {:?} holds {count} values, {} given",
                    t.shape,
                    t.values.len()
                ),
            });
        }
        if map.contains_key(&t.name) {
            return Err(CheckpointError::Layers {
                file: label.to_owned(),
                detail: format!("tensor `{}` is given twice", t.name),
            });
        }
        map.insert(t.name.clone(), t);
    }
    Ok(MemorySource {
        label: label.to_owned(),
        tensors: map,
    })
}

/// The layers of a checkpoint from its tensors: a fully connected network
/// (`arch` None: consecutive layers must fit, biases all or none) or the
/// weights of the sequential network `arch`.
fn assemble(
    file: &str,
    tensors: &dyn TensorSource,
    layers: Option<&[String]>,
    arch: Option<&ArchSpec>,
) -> Result<Checkpoint, CheckpointError> {
    let all = tensors.names();
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    let order = match layers {
        Some(list) => explicit_layers(file, &names, list)?,
        None => inferred_layers(file, &names)?,
    };
    let expected = arch.map(ArchSpec::weight_shapes);
    match (&expected, arch) {
        (Some(shapes), Some(arch)) if shapes.len() != order.len() => {
            return Err(CheckpointError::Layers {
                file: file.to_owned(),
                detail: format!(
                    "{} weight tensors ({}), but the architecture {} has {} convolution and linear layers",
                    order.len(),
                    order
                        .iter()
                        .map(|(w, _)| format!("`{w}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    arch.file,
                    shapes.len()
                ),
            });
        }
        (None, _) => check_biases(file, &order)?,
        _ => {}
    }
    let mut out = Vec::with_capacity(order.len());
    for (j, (weight_name, bias_name)) in order.into_iter().enumerate() {
        let weight = match (&expected, arch) {
            (Some(shapes), Some(arch)) => {
                filters(file, tensors, &weight_name, &shapes[j], &arch.file)?
            }
            _ => matrix(file, tensors, &weight_name)?,
        };
        let bias = match bias_name {
            Some(b) => {
                let v = vector(file, tensors, &b)?;
                if v.ncols() != weight.nrows() {
                    return Err(CheckpointError::Shape {
                        file: file.to_owned(),
                        tensor: b,
                        detail: format!(
                            "{} entries, but `{weight_name}` has {} outputs",
                            v.ncols(),
                            weight.nrows()
                        ),
                    });
                }
                Some((b, v))
            }
            None => None,
        };
        out.push(Layer {
            weight_name,
            weight,
            bias,
        });
    }
    if arch.is_none() {
        check_chain(file, &out)?;
    }
    Ok(Checkpoint {
        file: file.to_owned(),
        layers: out,
    })
}

/// `(weight name, bias name)` per layer from an explicit list.
fn explicit_layers(
    file: &str,
    names: &[&str],
    list: &[String],
) -> Result<Vec<(String, Option<String>)>, CheckpointError> {
    if list.is_empty() {
        return Err(CheckpointError::Layers {
            file: file.to_owned(),
            detail: "the list of layers is empty".into(),
        });
    }
    let has = |n: &str| names.contains(&n);
    let mut out = Vec::with_capacity(list.len());
    for entry in list {
        let (weight, bias) = if has(entry) {
            let bias = entry
                .strip_suffix("weight")
                .map(|prefix| format!("{prefix}bias"));
            (entry.clone(), bias)
        } else {
            (format!("{entry}.weight"), Some(format!("{entry}.bias")))
        };
        if !has(&weight) {
            return Err(missing(file, entry, names));
        }
        out.push((weight, bias.filter(|b| has(b))));
    }
    Ok(out)
}

/// `(weight name, bias name)` per layer from the tensor names (module docs).
fn inferred_layers(
    file: &str,
    names: &[&str],
) -> Result<Vec<(String, Option<String>)>, CheckpointError> {
    let mut weights: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| *n == "weight" || n.ends_with(".weight"))
        .collect();
    weights.sort_by(|a, b| natural_cmp(a, b));
    let bias_of = |w: &str| format!("{}bias", &w[..w.len() - "weight".len()]);
    for n in names {
        let is_bias =
            (*n == "bias" || n.ends_with(".bias")) && weights.iter().any(|w| bias_of(w) == *n);
        if !is_bias && !weights.contains(n) {
            return Err(CheckpointError::Layers {
                file: file.to_owned(),
                detail: format!(
                    "tensor `{n}` is neither a layer's `weight` nor its `bias`; give the layer order explicitly"
                ),
            });
        }
    }
    if weights.is_empty() {
        return Err(CheckpointError::Layers {
            file: file.to_owned(),
            detail: "no tensor named `weight` or `*.weight`: no layers found".into(),
        });
    }
    let out: Vec<(String, Option<String>)> = weights
        .iter()
        .map(|w| {
            let b = bias_of(w);
            let has_bias = names.contains(&b.as_str());
            (w.to_string(), has_bias.then_some(b))
        })
        .collect();
    Ok(out)
}

/// Every layer has a bias or none does (`networks::Architecture` has one flag;
/// a zero bias in place of a missing one would add parameters to the NTK).
fn check_biases(file: &str, layers: &[(String, Option<String>)]) -> Result<(), CheckpointError> {
    let with = layers.iter().find(|(_, b)| b.is_some());
    let without = layers.iter().find(|(_, b)| b.is_none());
    if let (Some((w1, Some(b1))), Some((w2, _))) = (with, without) {
        return Err(CheckpointError::Layers {
            file: file.to_owned(),
            detail: format!(
                "layer `{w1}` has the bias `{b1}` but layer `{w2}` has none; either every layer has a bias or none does"
            ),
        });
    }
    Ok(())
}

/// The values of a tensor with its shape; rejects non-finite entries.
fn values(
    file: &str,
    tensors: &dyn TensorSource,
    tensor: &str,
) -> Result<(Vec<usize>, Vec<f64>), CheckpointError> {
    let (shape, vals) = tensors.values(tensor)?;
    if let Some(k) = vals.iter().position(|v| !v.is_finite()) {
        return Err(CheckpointError::NonFinite {
            file: file.to_owned(),
            tensor: tensor.to_owned(),
            value: vals[k],
            position: format!("{:?}", unravel(k, &shape)),
        });
    }
    Ok((shape, vals))
}

/// The multi-index of flat C-order index `k`.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            idx[i] = k % d;
            k /= d;
        }
    }
    idx
}

fn matrix(
    file: &str,
    tensors: &dyn TensorSource,
    tensor: &str,
) -> Result<Mat<f64>, CheckpointError> {
    let (shape, vals) = values(file, tensors, tensor)?;
    let [rows, cols] = shape[..] else {
        return Err(CheckpointError::Shape {
            file: file.to_owned(),
            tensor: tensor.to_owned(),
            detail: format!(
                "shape {shape:?} has {} dimensions; a layer's weight is 2-dimensional [out, in]",
                shape.len()
            ),
        });
    };
    if rows == 0 || cols == 0 {
        return Err(CheckpointError::Shape {
            file: file.to_owned(),
            tensor: tensor.to_owned(),
            detail: format!("shape {shape:?} has an empty dimension"),
        });
    }
    Ok(Mat::from_fn(rows, cols, |i, j| vals[i * cols + j]))
}

/// A weight of the shape `expected` (PyTorch layout) as the matrix of its
/// first dimension against the others (C order).
fn filters(
    file: &str,
    tensors: &dyn TensorSource,
    tensor: &str,
    expected: &[usize],
    arch_file: &str,
) -> Result<Mat<f64>, CheckpointError> {
    let (shape, vals) = values(file, tensors, tensor)?;
    if shape != expected {
        return Err(CheckpointError::Shape {
            file: file.to_owned(),
            tensor: tensor.to_owned(),
            detail: format!(
                "shape {shape:?}, but the architecture {arch_file} expects {expected:?}"
            ),
        });
    }
    let rows = expected[0];
    let cols: usize = expected[1..].iter().product();
    Ok(Mat::from_fn(rows, cols, |i, j| vals[i * cols + j]))
}

fn vector(
    file: &str,
    tensors: &dyn TensorSource,
    tensor: &str,
) -> Result<Mat<f64>, CheckpointError> {
    let (shape, vals) = values(file, tensors, tensor)?;
    if shape.len() != 1 {
        return Err(CheckpointError::Shape {
            file: file.to_owned(),
            tensor: tensor.to_owned(),
            detail: format!(
                "shape {shape:?} has {} dimensions; a bias is 1-dimensional [out]",
                shape.len()
            ),
        });
    }
    Ok(Mat::from_fn(1, vals.len(), |_, j| vals[j]))
}

/// Consecutive layers fit: `W_{l+1}` takes as many inputs as `W_l` has
/// outputs.
fn check_chain(file: &str, layers: &[Layer]) -> Result<(), CheckpointError> {
    for pair in layers.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        if next.weight.ncols() != prev.weight.nrows() {
            return Err(CheckpointError::Shape {
                file: file.to_owned(),
                tensor: next.weight_name.clone(),
                detail: format!(
                    "takes {} inputs (dimension 1 of [{}, {}]), but the previous layer `{}` has {} outputs",
                    next.weight.ncols(),
                    next.weight.nrows(),
                    next.weight.ncols(),
                    prev.weight_name,
                    prev.weight.nrows()
                ),
            });
        }
    }
    Ok(())
}

/// Element type of a written checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// 32-bit floats, as PyTorch saves by default (values rounded to nearest).
    F32,
    /// 64-bit floats (exact).
    F64,
}

/// A tensor to write: its name, shape and values in C order.
struct Owned {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl safetensors::View for &Owned {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn encode(values: impl Iterator<Item = f64>, precision: Precision) -> Vec<u8> {
    match precision {
        Precision::F64 => values.flat_map(f64::to_le_bytes).collect(),
        Precision::F32 => values.flat_map(|v| (v as f32).to_le_bytes()).collect(),
    }
}

/// Write a network in PyTorch's layout: layer l (from 1) as
/// `{prefixes[l−1]}.weight` (`[d_l, d_{l−1}]`) and, when `arch.bias`,
/// `{prefixes[l−1]}.bias` (`[d_l]`). `params` are in `networks`'s order
/// (`[W_1..W_L, b_1..b_L]`). The bytes depend only on the values
/// (tensors are laid out by name).
pub fn write_checkpoint(
    path: &Path,
    arch: &Architecture,
    params: &[Mat<f64>],
    prefixes: &[String],
    precision: Precision,
) -> Result<(), CheckpointError> {
    let file = name(path);
    arch.check(params).map_err(|e| CheckpointError::Layers {
        file: file.clone(),
        detail: e.to_string(),
    })?;
    let depth = arch.depth();
    if prefixes.len() != depth {
        return Err(CheckpointError::Layers {
            file,
            detail: format!("{} layer names for {depth} layers", prefixes.len()),
        });
    }
    let dtype = match precision {
        Precision::F32 => Dtype::F32,
        Precision::F64 => Dtype::F64,
    };
    let mut tensors: Vec<(String, Owned)> = Vec::new();
    for (l, prefix) in prefixes.iter().enumerate() {
        let w: MatRef<'_, f64> = params[l].as_ref();
        let (rows, cols) = (w.nrows(), w.ncols());
        let row_major = (0..rows).flat_map(|i| (0..cols).map(move |j| w[(i, j)]));
        tensors.push((
            format!("{prefix}.weight"),
            Owned {
                dtype,
                shape: vec![rows, cols],
                bytes: encode(row_major, precision),
            },
        ));
        if arch.bias {
            let b = params[depth + l].as_ref();
            tensors.push((
                format!("{prefix}.bias"),
                Owned {
                    dtype,
                    shape: vec![b.ncols()],
                    bytes: encode((0..b.ncols()).map(|j| b[(0, j)]), precision),
                },
            ));
        }
    }
    let bytes = safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), None)
        .map_err(|e| CheckpointError::Format {
            file: file.clone(),
            format: "safetensors",
            detail: format!("{e:?}"),
        })?;
    std::fs::write(path, bytes).map_err(|e| CheckpointError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unravel_is_c_order() {
        assert_eq!(unravel(7, &[3, 4]), vec![1, 3]);
        assert_eq!(unravel(5, &[6]), vec![5]);
    }
}
