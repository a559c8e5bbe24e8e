//! `feature_learning_checks._native`: the compiled half of the Python
//! package. The public functions, their docstrings and the conversion of
//! any array-like input to float64 are in
//! `python/feature_learning_checks/__init__.py`; here every array arrives
//! as float64 (any memory order), is copied into a `faer` matrix, and the
//! computation runs with the GIL released (`Python::detach`).
//!
//! Networks arrive as named tensors (a state dict, or `["0.weight",
//! "0.bias", …]` built from lists) or as a file path, and are assembled and
//! checked by `checkpoint` exactly as the command line's `analyze` does, so
//! a bad input raises the command line's one-line message:
//! `ValueError` for bad content, `OSError` for a file that cannot be read.
//! An undefined metric is an [`Undefined`] value, an unidentifiable
//! exponent an [`Unidentifiable`] value, never NaN.

use std::path::PathBuf;
use std::str::FromStr;

use analysis::{Inputs, Options};
use checkpoint::{ArchSpec, Checkpoint, CheckpointError, NamedTensor};
use faer::{Mat, MatRef, Par};
use metrics::{
    AlphaEstimate, AlphaEstimator, AlphaScan, Cutoff, MetricError, Similarity, alpha::AlphaOptions,
};
use networks::{Activation, Architecture, Sequential};
use numpy::ndarray::{Array2, Array3};
use numpy::{
    IntoPyArray, PyArray2, PyArray3, PyReadonlyArray2, PyReadonlyArray3, PyReadonlyArrayDyn,
};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;

/// A metric without a value for these inputs (a zero matrix in a
/// denominator, a constant matrix under Pearson centring), with the reason.
#[pyclass(frozen, eq, module = "feature_learning_checks")]
#[derive(Debug, Clone, PartialEq)]
struct Undefined {
    /// Why the metric has no value.
    #[pyo3(get)]
    reason: String,
}

#[pymethods]
impl Undefined {
    #[new]
    fn new(reason: String) -> Self {
        Undefined { reason }
    }

    fn __repr__(&self) -> String {
        format!("Undefined({:?})", self.reason)
    }

    fn __bool__(&self) -> bool {
        false
    }
}

/// The exponent α of `F ∝ G^α` cannot be identified: the AGOP has one
/// distinct non-zero eigenvalue (rank 1, e.g. a scalar-output linear
/// network), so `G^α` is the same matrix up to scale for every α.
#[pyclass(frozen, eq, module = "feature_learning_checks")]
#[derive(Debug, Clone, PartialEq)]
struct Unidentifiable {
    /// Numerical rank of the AGOP.
    #[pyo3(get)]
    rank: usize,
    /// The reason, in words.
    #[pyo3(get)]
    reason: String,
}

#[pymethods]
impl Unidentifiable {
    #[new]
    fn new(rank: usize, reason: String) -> Self {
        Unidentifiable { rank, reason }
    }

    fn __repr__(&self) -> String {
        format!(
            "Unidentifiable(rank={}, reason={:?})",
            self.rank, self.reason
        )
    }

    fn __bool__(&self) -> bool {
        false
    }
}

fn value_error(message: impl ToString) -> PyErr {
    PyValueError::new_err(message.to_string())
}

/// A file that cannot be read is an `OSError` (`FileNotFoundError` when
/// absent); anything else wrong with the input a `ValueError`.
fn checkpoint_error(e: CheckpointError) -> PyErr {
    match &e {
        CheckpointError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        CheckpointError::Io { .. } => PyOSError::new_err(e.to_string()),
        _ => value_error(e),
    }
}

/// A number, or [`Undefined`] for an undefined metric; bad input raises.
fn number(py: Python<'_>, r: Result<f64, MetricError>) -> PyResult<Py<PyAny>> {
    match r {
        Ok(v) => Ok(v.into_pyobject(py)?.into_any().unbind()),
        Err(MetricError::Undefined(u)) => Ok(Py::new(
            py,
            Undefined {
                reason: u.to_string(),
            },
        )?
        .into_any()),
        Err(e) => Err(value_error(e)),
    }
}

fn mat2(a: &PyReadonlyArray2<'_, f64>) -> Mat<f64> {
    let v = a.as_array();
    Mat::from_fn(v.nrows(), v.ncols(), |i, j| v[[i, j]])
}

fn mats3(a: &PyReadonlyArray3<'_, f64>) -> Vec<Mat<f64>> {
    let v = a.as_array();
    let (c, r, k) = v.dim();
    (0..c)
        .map(|b| Mat::from_fn(r, k, |i, j| v[[b, i, j]]))
        .collect()
}

fn array2<'py>(py: Python<'py>, m: MatRef<'_, f64>) -> Bound<'py, PyArray2<f64>> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)]).into_pyarray(py)
}

/// A bias is stored as a 1 × d matrix in `networks`; Python sees it 1-D.
fn array1<'py>(py: Python<'py>, b: MatRef<'_, f64>) -> Bound<'py, numpy::PyArray1<f64>> {
    numpy::PyArray1::from_iter(py, (0..b.ncols()).map(|j| b[(0, j)]))
}

fn activation(name: &str) -> PyResult<Activation> {
    Activation::from_str(name).map_err(value_error)
}

fn convention(name: &str) -> PyResult<Similarity> {
    Similarity::from_str(name).map_err(value_error)
}

/// Where a network comes from: a safetensors or `.pt` file, or named
/// float64 arrays (a state dict).
#[derive(FromPyObject)]
enum Source<'py> {
    Path(PathBuf),
    Tensors(Vec<(String, PyReadonlyArrayDyn<'py, f64>)>),
}

/// The network of `source`, assembled and checked by `checkpoint` (layer
/// order from the names or `layers`); `label` names in-memory tensors in
/// messages.
fn network(source: &Source<'_>, label: &str, layers: Option<&[String]>) -> PyResult<Checkpoint> {
    match source {
        Source::Path(path) => checkpoint::read_checkpoint(path, layers),
        Source::Tensors(_) => checkpoint::from_tensors(label, named_tensors(source), layers),
    }
    .map_err(checkpoint_error)
}

/// The arrays of an in-memory source with their names and shapes.
fn named_tensors(source: &Source<'_>) -> Vec<NamedTensor> {
    let Source::Tensors(tensors) = source else {
        return Vec::new();
    };
    tensors
        .iter()
        .map(|(name, a)| {
            let v = a.as_array();
            NamedTensor {
                name: name.clone(),
                shape: v.shape().to_vec(),
                values: v.iter().copied().collect(),
            }
        })
        .collect()
}

/// The network and its data, checked against each other.
fn network_and_data(
    source: &Source<'_>,
    x: &PyReadonlyArray2<'_, f64>,
    activation_name: &str,
) -> PyResult<(Architecture, Vec<Mat<f64>>, Mat<f64>)> {
    let act = activation(activation_name)?;
    let net = network(source, "weights", None)?;
    let x = mat2(x);
    let arch = net.architecture(act);
    let seq = Sequential::from_mlp(&arch).map_err(value_error)?;
    checkpoint::check_data(&seq, &net, "x", &x, &[x.ncols()]).map_err(checkpoint_error)?;
    Ok((arch, net.params(), x))
}

/// `F = WᵀW`.
#[pyfunction]
fn nfm<'py>(py: Python<'py>, weight: PyReadonlyArray2<'py, f64>) -> Bound<'py, PyArray2<f64>> {
    let w = mat2(&weight);
    let f = py.detach(|| metrics::nfm(w.as_ref()));
    array2(py, f.as_ref())
}

/// Per layer: `K_l` (`what = "ptk"`), `G_l = W_lᵀK_lW_l/n` (`"agop"`) or
/// `G_l` from per-sample input gradients (`"agop_input_gradients"`).
#[pyfunction]
fn tangents<'py>(
    py: Python<'py>,
    weights: Source<'py>,
    x: PyReadonlyArray2<'py, f64>,
    activation: &str,
    what: &str,
) -> PyResult<Vec<Bound<'py, PyArray2<f64>>>> {
    #[derive(Clone, Copy)]
    enum What {
        Ptk,
        Agop,
        AgopInputGradients,
    }
    let what = match what {
        "ptk" => What::Ptk,
        "agop" => What::Agop,
        "agop_input_gradients" => What::AgopInputGradients,
        other => {
            return Err(value_error(format!(
                "unknown matrix `{other}`, expected ptk, agop or agop_input_gradients"
            )));
        }
    };
    let (arch, params, x) = network_and_data(&weights, &x, activation)?;
    let block = analysis::DEFAULT_BLOCK;
    let result = py.detach(|| match what {
        What::Ptk => networks::tangents(&arch, &params, x.as_ref(), block).map(|t| t.ptk),
        What::Agop => networks::tangents(&arch, &params, x.as_ref(), block).map(|t| t.agop),
        What::AgopInputGradients => {
            networks::agop_from_input_gradients(&arch, &params, x.as_ref(), block)
        }
    });
    let mats = result.map_err(value_error)?;
    Ok(mats.iter().map(|m| array2(py, m.as_ref())).collect())
}

/// The per-output empirical NTK, shape (C, n, n).
#[pyfunction]
fn per_output_ntk<'py>(
    py: Python<'py>,
    weights: Source<'py>,
    x: PyReadonlyArray2<'py, f64>,
    activation: &str,
) -> PyResult<Bound<'py, PyArray3<f64>>> {
    let (arch, params, x) = network_and_data(&weights, &x, activation)?;
    // The C kernels are copied into NumPy's (C-order) layout off the GIL
    // too: at n = 1500, C = 10 that is 180 MB.
    let n = x.nrows();
    let kernels = py
        .detach(|| {
            ntk::per_output_ntk(&arch, &params, x.as_ref(), Par::rayon(0))
                .map(|ks| Array3::from_shape_fn((ks.len(), n, n), |(c, i, j)| ks[c][(i, j)]))
        })
        .map_err(value_error)?;
    Ok(kernels.into_pyarray(py))
}

/// `sim(A, B)` in a convention (B the reference).
#[pyfunction]
fn similarity(
    py: Python<'_>,
    a: PyReadonlyArray2<'_, f64>,
    b: PyReadonlyArray2<'_, f64>,
    convention: &str,
) -> PyResult<Py<PyAny>> {
    let kind = self::convention(convention)?;
    let (a, b) = (mat2(&a), mat2(&b));
    let r = py.detach(|| metrics::similarity(kind, a.as_ref(), b.as_ref()));
    number(py, r)
}

/// `sim(F, G^α)`, `G^α` with eigenvalues below `d·ε·λ_max` clipped.
#[pyfunction]
fn nfa_similarity(
    py: Python<'_>,
    f: PyReadonlyArray2<'_, f64>,
    g: PyReadonlyArray2<'_, f64>,
    alpha: f64,
    convention: &str,
) -> PyResult<Py<PyAny>> {
    let kind = self::convention(convention)?;
    let (f, g) = (mat2(&f), mat2(&g));
    let r = py.detach(|| {
        AlphaScan::new(f.as_ref(), g.as_ref(), Cutoff::for_dim(g.nrows()))
            .and_then(|scan| scan.similarity(kind, alpha))
    });
    number(py, r)
}

/// α̂ by one of the estimators `corr`, `eig`, `fit`.
#[pyfunction]
fn estimate_alpha(
    py: Python<'_>,
    f: PyReadonlyArray2<'_, f64>,
    g: PyReadonlyArray2<'_, f64>,
    estimator: &str,
    similarity: &str,
) -> PyResult<Py<PyAny>> {
    let estimator = AlphaEstimator::ALL
        .into_iter()
        .find(|e| e.name() == estimator)
        .ok_or_else(|| {
            value_error(format!(
                "unknown estimator `{estimator}`, expected one of corr, eig, fit"
            ))
        })?;
    let options = AlphaOptions {
        similarity: convention(similarity)?,
        ..AlphaOptions::default()
    };
    let (f, g) = (mat2(&f), mat2(&g));
    let r = py.detach(|| metrics::estimate_alpha(f.as_ref(), g.as_ref(), estimator, &options));
    match r {
        Ok(AlphaEstimate::Identified { alpha, .. }) => number(py, Ok(alpha)),
        Ok(AlphaEstimate::Unidentifiable(u)) => Ok(Py::new(
            py,
            Unidentifiable {
                rank: u.rank,
                reason: u.to_string(),
            },
        )?
        .into_any()),
        Err(e) => number(py, Err(e)),
    }
}

/// BMA24's UC-NFA `sim(WᵀKW, WᵀW)`.
#[pyfunction]
fn uc_nfa(
    py: Python<'_>,
    weight: PyReadonlyArray2<'_, f64>,
    ptk: PyReadonlyArray2<'_, f64>,
    convention: &str,
) -> PyResult<Py<PyAny>> {
    let kind = self::convention(convention)?;
    let (w, k) = (mat2(&weight), mat2(&ptk));
    let r = py.detach(|| networks::ptk_nfa::uc_nfa(kind, w.as_ref(), k.as_ref()));
    number(py, r)
}

/// BMA24's C-NFA `sim(ΔWᵀKΔW, ΔWᵀΔW)`, `ΔW = W − W(0)`.
#[pyfunction]
fn c_nfa(
    py: Python<'_>,
    weight: PyReadonlyArray2<'_, f64>,
    init_weight: PyReadonlyArray2<'_, f64>,
    ptk: PyReadonlyArray2<'_, f64>,
    convention: &str,
) -> PyResult<Py<PyAny>> {
    let kind = self::convention(convention)?;
    let (w, w0, k) = (mat2(&weight), mat2(&init_weight), mat2(&ptk));
    if (w.nrows(), w.ncols()) != (w0.nrows(), w0.ncols()) {
        return Err(value_error(format!(
            "init_weight is {}×{}, weight is {}×{}",
            w0.nrows(),
            w0.ncols(),
            w.nrows(),
            w.ncols()
        )));
    }
    let r = py.detach(|| networks::ptk_nfa::c_nfa(kind, w.as_ref(), w0.as_ref(), k.as_ref()));
    number(py, r)
}

/// `A(K, y)`, uncentred or centred.
#[pyfunction]
fn kernel_target_alignment(
    py: Python<'_>,
    kernel: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    centered: bool,
) -> PyResult<Py<PyAny>> {
    let (k, y) = (mat2(&kernel), mat2(&y));
    let r = py.detach(|| {
        if centered {
            ntk::centered_kernel_target_alignment(k.as_ref(), y.as_ref())
        } else {
            ntk::kernel_target_alignment(k.as_ref(), y.as_ref())
        }
    });
    number(py, r)
}

/// `⟨K_1, K_2⟩_F / (‖K_1‖_F ‖K_2‖_F)`.
#[pyfunction]
fn kernel_alignment(
    py: Python<'_>,
    k1: PyReadonlyArray2<'_, f64>,
    k2: PyReadonlyArray2<'_, f64>,
) -> PyResult<Py<PyAny>> {
    let (k1, k2) = (mat2(&k1), mat2(&k2));
    let r = py.detach(|| ntk::kernel_alignment(k1.as_ref(), k2.as_ref()));
    number(py, r)
}

/// `S_{cc'} = A(K_c, y_{c'})`, uncentred or centred; [`Undefined`] when
/// any entry is.
#[pyfunction]
fn specialisation_matrix<'py>(
    py: Python<'py>,
    kernels: PyReadonlyArray3<'py, f64>,
    y: PyReadonlyArray2<'py, f64>,
    centered: bool,
) -> PyResult<Py<PyAny>> {
    let (kernels, y) = (mats3(&kernels), mat2(&y));
    let r = py.detach(|| {
        if centered {
            ntk::centered_specialisation_matrix(&kernels, y.as_ref())
        } else {
            ntk::specialisation_matrix(&kernels, y.as_ref())
        }
    });
    match r {
        Ok(s) => Ok(array2(py, s.as_ref()).into_any().unbind()),
        Err(e) => number(py, Err(e)),
    }
}

/// The layers of a network: `(weight names, bias names or None, weights,
/// biases or None)`, in layer order.
type Layers<'py> = (
    Vec<String>,
    Option<Vec<String>>,
    Vec<Bound<'py, PyArray2<f64>>>,
    Option<Vec<Bound<'py, numpy::PyArray1<f64>>>>,
);

/// The layers of a file or state dict, in order.
#[pyfunction]
#[pyo3(signature = (weights, layers=None))]
fn load_network<'py>(
    py: Python<'py>,
    weights: Source<'py>,
    layers: Option<Vec<String>>,
) -> PyResult<Layers<'py>> {
    let net = network(&weights, "weights", layers.as_deref())?;
    let names = net.weight_names();
    let ws = net
        .layers
        .iter()
        .map(|l| array2(py, l.weight.as_ref()))
        .collect();
    let (bias_names, biases) = if net.has_bias() {
        let (n, b) = net
            .layers
            .iter()
            .filter_map(|l| l.bias.as_ref())
            .map(|(n, b)| (n.clone(), array1(py, b.as_ref())))
            .unzip();
        (Some(n), Some(b))
    } else {
        (None, None)
    };
    Ok((names, bias_names, ws, biases))
}

/// A layer's matrices: NFM, AGOP (chain rule), PTK and, when asked for,
/// the gradient-centred AGOP.
type Matrices<'py> = (
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Option<Bound<'py, PyArray2<f64>>>,
);

/// The network of `weights`: fully connected with `activation` between
/// layers, or the sequential network of the architecture TOML `arch`.
fn network_of(
    weights: &Source<'_>,
    label: &str,
    arch: Option<&ArchSpec>,
    activation: &str,
    layers: Option<&[String]>,
) -> PyResult<(Checkpoint, Sequential)> {
    let Some(arch) = arch else {
        let act = self::activation(activation)?;
        let net = network(weights, label, layers)?;
        let seq = Sequential::from_mlp(&net.architecture(act)).map_err(value_error)?;
        return Ok((net, seq));
    };
    match weights {
        Source::Path(path) => checkpoint::read_network(path, arch, layers),
        Source::Tensors(_) => {
            checkpoint::network_from_tensors(label, named_tensors(weights), arch, layers)
        }
    }
    .map_err(checkpoint_error)
}

/// A network and what it is measured on, read and checked as the command
/// line's `analyze` does: the network (layer order from the names or
/// `layers`), the initial weights in its layer order, the samples and the
/// labels.
struct Subject {
    arch: Option<ArchSpec>,
    net: Checkpoint,
    seq: Sequential,
    init: Option<Vec<Mat<f64>>>,
    x: Mat<f64>,
    y: Option<Mat<f64>>,
}

/// The [`Subject`] of `weights` (named `label` in messages) on samples
/// `x` of `sample_shape`.
fn subject(
    (weights, label): (&Source<'_>, &str),
    (x, sample_shape): (&PyReadonlyArray2<'_, f64>, &[usize]),
    labels: Option<&PyReadonlyArray2<'_, f64>>,
    init: Option<&Source<'_>>,
    arch: Option<String>,
    activation: &str,
    layers: Option<&[String]>,
) -> PyResult<Subject> {
    let arch = arch
        .map(|text| ArchSpec::parse("arch", &text))
        .transpose()
        .map_err(checkpoint_error)?;
    let (net, seq) = network_of(weights, label, arch.as_ref(), activation, layers)?;
    let init = match init {
        Some(source) => {
            let names = net.weight_names();
            let (init, _) = network_of(source, "init", arch.as_ref(), activation, Some(&names))?;
            net.check_same_shapes(&init).map_err(checkpoint_error)?;
            Some(init.layers.into_iter().map(|l| l.weight).collect())
        }
        None => None,
    };
    let x = mat2(x);
    checkpoint::check_data(&seq, &net, "x", &x, sample_shape).map_err(checkpoint_error)?;
    let y = match labels {
        Some(y) => {
            let y = mat2(y);
            checkpoint::check_labels(&seq, &net, "x", &x, "labels", &y)
                .map_err(checkpoint_error)?;
            Some(y)
        }
        None => None,
    };
    Ok(Subject {
        arch,
        net,
        seq,
        init,
        x,
        y,
    })
}

/// [`analysis::analyse`] with the GIL released.
fn analyse_released(
    py: Python<'_>,
    inputs: Inputs<'_>,
    options: &Options,
) -> PyResult<analysis::Analysis> {
    py.detach(|| analysis::analyse(inputs, options))
        .map_err(value_error)
}

/// The analysis record as JSON text, and each layer's matrices.
#[pyfunction]
#[pyo3(signature = (weights, x, sample_shape, labels, init, arch, activation, layers, alpha, memory, centred_agop))]
#[allow(clippy::too_many_arguments)]
fn analyze<'py>(
    py: Python<'py>,
    weights: Source<'py>,
    x: PyReadonlyArray2<'py, f64>,
    sample_shape: Vec<usize>,
    labels: Option<PyReadonlyArray2<'py, f64>>,
    init: Option<Source<'py>>,
    arch: Option<String>,
    activation: &str,
    layers: Option<Vec<String>>,
    alpha: Option<f64>,
    memory: Option<u64>,
    centred_agop: bool,
) -> PyResult<(String, Vec<Matrices<'py>>)> {
    let Subject {
        net,
        seq,
        init,
        x,
        y,
        ..
    } = subject(
        (&weights, "weights"),
        (&x, &sample_shape),
        labels.as_ref(),
        init.as_ref(),
        arch,
        activation,
        layers.as_deref(),
    )?;
    let params = net.params();
    let options = Options {
        alpha,
        memory: Some(memory.unwrap_or_else(analysis::default_memory_budget)),
        centred_agop,
        ..Options::default()
    };
    let result = analyse_released(
        py,
        Inputs {
            net: &seq,
            params: &params,
            init: init.as_deref(),
            x: x.as_ref(),
            y: y.as_ref().map(|y| y.as_ref()),
        },
        &options,
    )?;
    let names = net.tensor_names();
    let record = analysis::record::record(&result, &seq, &names);
    let json = serde_json::to_string(&record).map_err(value_error)?;
    let matrices = result
        .layers
        .iter()
        .map(|l| {
            let m = &l.matrices;
            (
                array2(py, m.nfm.as_ref()),
                array2(py, m.agop.as_ref()),
                array2(py, m.ptk.as_ref()),
                m.centred_agop.as_ref().map(|g| array2(py, g.as_ref())),
            )
        })
        .collect();
    Ok((json, matrices))
}

/// A network's metrics over training, measured step by step (the engine
/// of `feature_learning_checks.torch.Tracker`): the data, labels and
/// initial weights are converted once; each [`Series::measure`] reads the
/// current weights and analyses them with the GIL released.
#[pyclass(module = "feature_learning_checks")]
struct Series {
    arch: Option<ArchSpec>,
    activation: String,
    layers: Option<Vec<String>>,
    x: Mat<f64>,
    y: Option<Mat<f64>>,
    init: Option<Vec<Mat<f64>>>,
    options: Options,
    series: analysis::series::Series,
}

#[pymethods]
impl Series {
    #[new]
    #[pyo3(signature = (weights, x, sample_shape, labels, init, arch, activation, layers, memory, similarity, metrics))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        weights: Source<'_>,
        x: PyReadonlyArray2<'_, f64>,
        sample_shape: Vec<usize>,
        labels: Option<PyReadonlyArray2<'_, f64>>,
        init: Option<Source<'_>>,
        arch: Option<String>,
        activation: String,
        layers: Option<Vec<String>>,
        memory: Option<u64>,
        similarity: &str,
        metrics: Vec<String>,
    ) -> PyResult<Self> {
        let kind = convention(similarity)?;
        let tracked = analysis::series::Tracked::from_names(metrics.iter().map(String::as_str))
            .map_err(|e| value_error(format!("metrics: {e}")))?;
        let Subject {
            arch,
            net,
            seq,
            init,
            x,
            y,
        } = subject(
            (&weights, "model"),
            (&x, &sample_shape),
            labels.as_ref().filter(|_| tracked.ntk),
            init.as_ref().filter(|_| tracked.c_nfa),
            arch,
            &activation,
            layers.as_deref(),
        )?;
        Ok(Series {
            arch,
            activation,
            layers: layers.or_else(|| Some(net.weight_names())),
            x,
            y,
            init,
            options: Options {
                memory: Some(memory.unwrap_or_else(analysis::default_memory_budget)),
                ..Options::default()
            },
            series: analysis::series::Series::new(seq, kind, tracked),
        })
    }

    /// Analyse `weights` (the network now) as the point at `step`; the
    /// point's record as JSON text.
    fn measure(&mut self, py: Python<'_>, step: f64, weights: Source<'_>) -> PyResult<String> {
        let (net, seq) = network_of(
            &weights,
            "model",
            self.arch.as_ref(),
            &self.activation,
            self.layers.as_deref(),
        )?;
        if seq != self.series.net {
            return Err(value_error(
                "model: its layers differ from those it had when the tracker was made",
            ));
        }
        let params = net.params();
        let result = analyse_released(
            py,
            Inputs {
                net: &seq,
                params: &params,
                init: self.init.as_deref(),
                x: self.x.as_ref(),
                y: self.y.as_ref().map(|y| y.as_ref()),
            },
            &self.options,
        )?;
        let point = analysis::series::Point::new(step, None, result, net.tensor_names());
        let json = serde_json::to_string(&point.record(&self.series.net)).map_err(value_error)?;
        self.series.points.push(point);
        Ok(json)
    }

    /// The series as JSON text (`schema`, `similarity`, `points`,
    /// `skipped`), as `analyze --weights DIR` writes `series.json`.
    fn json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.series.json()).map_err(value_error)
    }

    /// The series as CSV text, as in `series.csv`.
    fn csv(&self) -> PyResult<String> {
        let mut out = Vec::new();
        self.series.write_csv(&mut out).map_err(value_error)?;
        String::from_utf8(out).map_err(value_error)
    }

    /// The curves as an SVG document, as in `series.svg`.
    fn svg(&self) -> PyResult<String> {
        self.series.svg().map_err(value_error)
    }
}

/// The module `feature_learning_checks._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Undefined>()?;
    m.add_class::<Unidentifiable>()?;
    m.add_function(wrap_pyfunction!(nfm, m)?)?;
    m.add_function(wrap_pyfunction!(tangents, m)?)?;
    m.add_function(wrap_pyfunction!(per_output_ntk, m)?)?;
    m.add_function(wrap_pyfunction!(similarity, m)?)?;
    m.add_function(wrap_pyfunction!(nfa_similarity, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_alpha, m)?)?;
    m.add_function(wrap_pyfunction!(uc_nfa, m)?)?;
    m.add_function(wrap_pyfunction!(c_nfa, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_target_alignment, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_alignment, m)?)?;
    m.add_function(wrap_pyfunction!(specialisation_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(load_network, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_class::<Series>()?;
    Ok(())
}
