"""f64 reference metrics of feature learning in neural networks.

NumPy in, NumPy out, every number in float64 whatever the input's dtype
(float32, float64 or integers; C or Fortran order), computed by the
`feature-learning-checks` Rust workspace with the GIL released. The
conventions are those of its SPEC (paper keys TMC25, BMA24, ABP22, SB21,
RBPB22) and each docstring states its own.

``analyze`` also takes a ``torch.nn.Module`` (an ``nn.Sequential`` of
convolutions, pooling, activations, ``Flatten`` and ``Linear``; see
:func:`describe`) or a convolutional network's weights with its
architecture TOML (``arch=``). The other functions take fully connected
networks, in PyTorch's ``nn.Linear`` layout: layer l
has a weight ``W_l`` of shape ``[d_l, d_{l-1}]`` (out x in) and optionally
a bias ``[d_l]``; ``h_l = W_l a_{l-1} + b_l``, ``a_l = phi(h_l)`` on hidden
layers, no activation on the output. A network is given as

* a list of weights (input layer first) and optionally a list of biases,
* a state dict (a mapping of names to arrays, e.g.
  ``{k: v.numpy() for k, v in model.state_dict().items()}``): the layers
  are the ``*.weight`` entries in natural order of their names, ``P.bias``
  the bias of ``P.weight``, or
* a path to a safetensors or PyTorch ``torch.save`` file (a state dict, or a
  dict holding one under ``"state_dict"``).

Activations: ``identity``, ``relu``, ``leaky_relu`` (slope 0.01), ``tanh``,
``gelu`` (tanh form), ``quadratic`` (h^2).

A metric without a value for its inputs (a zero matrix in a denominator, a
constant matrix under Pearson centring) returns an :class:`Undefined`; an
exponent that cannot be identified an :class:`Unidentifiable`; never NaN.
Bad input raises ``TypeError`` (not numbers) or ``ValueError`` (wrong
shape, non-finite entry, layers that do not fit) with the command line's
one-line message, ``OSError`` for a file that cannot be read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, Optional, Union

import numpy as np

from . import _native
from ._native import Undefined, Unidentifiable
from .modules import describe, is_module, state_of

__all__ = [
    "Undefined",
    "Unidentifiable",
    "nfm",
    "agop",
    "ptk",
    "ntk",
    "similarity",
    "nfa_similarity",
    "estimate_alpha",
    "uc_nfa",
    "c_nfa",
    "kernel_target_alignment",
    "kernel_alignment",
    "specialisation_matrix",
    "load_network",
    "describe",
    "analyze",
    "SIMILARITIES",
    "ESTIMATORS",
    "ACTIVATIONS",
]

#: The similarity conventions (SPEC 1.1), B the reference:
#: ``cosine`` <A,B>_F/(|A|_F |B|_F) (RBPB22's code), ``pearson`` the cosine
#: after subtracting each matrix's mean entry (BMA24's code), ``relerr``
#: |A - B|_F/|B|_F (tests the constant too, TMC25's identity),
#: ``relerr_scaled`` min_c |cA - B|_F/|B|_F (proportionality).
SIMILARITIES = ("cosine", "pearson", "relerr", "relerr_scaled")

#: The estimators of alpha in F ~ G^alpha (SPEC 1.2).
ESTIMATORS = ("corr", "eig", "fit")

#: The activations of hidden layers.
ACTIVATIONS = ("identity", "relu", "leaky_relu", "tanh", "gelu", "quadratic")

Number = Union[float, Undefined]
PathLike = Union[str, "os.PathLike[str]"]


def _float64(a: Any, name: str, ndims: Optional[tuple[int, ...]]) -> np.ndarray:
    """``a`` as a float64 array with one of ``ndims`` dimensions (any, for
    None) and only finite entries (any memory order; torch tensors are
    detached first)."""
    if isinstance(a, (str, bytes)):
        raise TypeError(f"{name}: expected an array of numbers, got {type(a).__name__}")
    if all(hasattr(a, m) for m in ("detach", "cpu", "numpy")):
        a = a.detach().cpu().numpy()
    try:
        arr = np.asarray(a)
    except Exception as e:  # noqa: BLE001 - any failure to convert is a type error
        raise TypeError(f"{name}: cannot be read as an array of numbers: {e}") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name}: dtype {arr.dtype} is not a real number type; expected float64 or float32"
        )
    if ndims is not None and arr.ndim not in ndims:
        expected = " or ".join(str(d) for d in ndims)
        raise ValueError(
            f"{name}: shape {list(arr.shape)} has {arr.ndim} dimensions; expected {expected}"
        )
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        at = [int(i) for i in np.argwhere(bad)[0]]
        raise ValueError(f"{name}: non-finite entry {arr[tuple(at)]} at {at}")
    return arr


def _matrix(a: Any, name: str) -> np.ndarray:
    return _float64(a, name, (2,))


def _targets(y: Any, name: str) -> np.ndarray:
    """An n x m target; a 1-D array of length n is one column."""
    arr = _float64(y, name, (1, 2))
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


def _source(weights: Any, biases: Any = None, name: str = "weights") -> Any:
    """A path, or the network's tensors as ``[(name, float64 array)]``."""
    if isinstance(weights, (str, os.PathLike)):
        if biases is not None:
            raise ValueError(f"{name}: biases are read from the file; pass biases=None")
        return os.fspath(weights)
    if isinstance(weights, Mapping):
        if biases is not None:
            raise ValueError(f"{name}: a state dict holds its biases; pass biases=None")
        tensors = []
        for key, value in weights.items():
            if not isinstance(key, str):
                raise TypeError(f"{name}: key {key!r} is not a string")
            # Any shape: which entries are layers, and whether their shapes
            # fit, is decided with the file readers' rules and messages.
            tensors.append((key, _float64(value, f"{name}[{key!r}]", None)))
        return tensors
    if not isinstance(weights, Sequence) or len(weights) == 0:
        raise TypeError(
            f"{name}: expected a non-empty list of weight matrices, a state dict or a path, "
            f"got {type(weights).__name__}"
        )
    tensors = [(f"{l}.weight", _matrix(w, f"{name}[{l}]")) for l, w in enumerate(weights)]
    if biases is not None:
        if not isinstance(biases, Sequence) or len(biases) != len(weights):
            raise ValueError(f"biases: expected one bias per layer ({len(weights)})")
        tensors += [
            (f"{l}.bias", _float64(b, f"biases[{l}]", (1,))) for l, b in enumerate(biases)
        ]
    return tensors


def nfm(weight: Any) -> np.ndarray:
    """Neural feature matrix ``F = W^T W`` of one layer (``W`` out x in),
    shape in x in (SPEC 1)."""
    return _native.nfm(_matrix(weight, "weight"))


def agop(
    weights: Any,
    x: Any,
    activation: str = "relu",
    biases: Any = None,
    method: str = "chain",
) -> list[np.ndarray]:
    """Average gradient outer product of every layer (SPEC 1):
    ``G_l = (1/n) sum_i sum_c grad_{a_{l-1}} f_c(x_i) grad_{a_{l-1}} f_c(x_i)^T``
    -- the mean over the n samples (rows of ``x``), the sum over outputs
    (never the gradient of the summed output). ``G_1`` is "the AGOP".

    ``method="chain"`` computes ``G_l = W_l^T K_l W_l / n`` through the
    pre-activation tangent kernel (:func:`ptk`); ``"input_gradients"`` from
    the per-sample gradients with respect to the layer's input: two
    independent computations of the same matrix.
    """
    what = {"chain": "agop", "input_gradients": "agop_input_gradients"}.get(method)
    if what is None:
        raise ValueError(f"method: unknown method `{method}`, expected chain or input_gradients")
    return _native.tangents(_source(weights, biases), _matrix(x, "x"), activation, what)


def ptk(
    weights: Any, x: Any, activation: str = "relu", biases: Any = None
) -> list[np.ndarray]:
    """Pre-activation tangent kernel of every layer (BMA24's code):
    ``K_l = sum_i sum_c grad_{h_l} f_c(x_i) grad_{h_l} f_c(x_i)^T``, d_l x d_l,
    summed (not averaged) over samples and outputs. For the output layer
    ``K_L = n I``."""
    return _native.tangents(_source(weights, biases), _matrix(x, "x"), activation, "ptk")


def ntk(weights: Any, x: Any, activation: str = "relu", biases: Any = None) -> np.ndarray:
    """Per-output empirical neural tangent kernel, shape (C, n, n):
    ``Theta_c(x_i, x_j) = grad_theta f_c(x_i) . grad_theta f_c(x_j)`` over all
    weights (and biases) theta (SPEC 5-6; SB21's per-output kernels)."""
    return _native.per_output_ntk(_source(weights, biases), _matrix(x, "x"), activation)


def similarity(a: Any, b: Any, convention: str = "cosine") -> Number:
    """``sim(A, B)`` in one of :data:`SIMILARITIES` (SPEC 1.1); ``B`` is the
    reference: the error conventions divide by ``|B|_F``."""
    return _native.similarity(_matrix(a, "a"), _matrix(b, "b"), convention)


def nfa_similarity(
    nfm: Any, agop: Any, alpha: float = 1.0, convention: str = "cosine"
) -> Number:
    """The Neural Feature Ansatz similarity ``sim(F, G^alpha)`` (RBPB22,
    TMC25) in one of :data:`SIMILARITIES`. ``G^alpha`` is taken through the
    symmetric eigendecomposition with eigenvalues below ``d eps lambda_max``
    clipped to zero. TMC25's Theorem A: ``relerr(F_1, G_1^(1/L)) = 0`` for a
    deep linear network from a balanced init under gradient flow."""
    a = float(alpha)
    if not (np.isfinite(a) and a >= 0):
        raise ValueError(f"alpha = {alpha}: expected a finite exponent >= 0")
    return _native.nfa_similarity(_matrix(nfm, "nfm"), _matrix(agop, "agop"), a, convention)


def estimate_alpha(
    nfm: Any, agop: Any, estimator: str = "fit", similarity: str = "cosine"
) -> Union[float, Unidentifiable, Undefined]:
    """The exponent alpha of ``F ~ G^alpha`` (SPEC 1.2) by one of
    :data:`ESTIMATORS`:

    * ``corr``: ``argmax_alpha sim(F, G^alpha)`` in convention
      ``similarity`` (argmin for the error conventions) on [0.02, 2],
      golden-section search to 1e-6;
    * ``eig``: least-squares slope of ``log lambda_i(F)`` against
      ``log lambda_i(G)`` over matched eigenpairs (exact when F, G commute);
    * ``fit``: ``argmin_alpha relerr_scaled(F, G^alpha)`` on [0.02, 2].

    Returns :class:`Unidentifiable` when G has one distinct non-zero
    eigenvalue (rank 1: every ``G^alpha`` is the same up to scale).
    """
    return _native.estimate_alpha(
        _matrix(nfm, "nfm"), _matrix(agop, "agop"), estimator, similarity
    )


def uc_nfa(weight: Any, ptk: Any, convention: str = "pearson") -> Number:
    """BMA24's uncentred NFA of a layer, ``sim(W^T K W, W^T W)`` with ``K``
    its pre-activation tangent kernel (:func:`ptk`); BMA24's code uses
    ``pearson``."""
    return _native.uc_nfa(_matrix(weight, "weight"), _matrix(ptk, "ptk"), convention)


def c_nfa(weight: Any, init_weight: Any, ptk: Any, convention: str = "pearson") -> Number:
    """BMA24's centred NFA of a layer, ``sim(dW^T K dW, dW^T dW)`` with
    ``dW = W - W(0)`` and ``K`` the tangent kernel of the *current* network;
    :class:`Undefined` while ``dW = 0``."""
    return _native.c_nfa(
        _matrix(weight, "weight"),
        _matrix(init_weight, "init_weight"),
        _matrix(ptk, "ptk"),
        convention,
    )


def kernel_target_alignment(kernel: Any, y: Any, centered: bool = False) -> Number:
    """Kernel-target alignment ``<K, YY^T>_F / (|K|_F |YY^T|_F)`` (ABP22; for a
    single column ``y^T K y / (|K|_F |y|^2)``); ``centered=True`` aligns
    ``HKH`` with ``HY``, ``H = I - 11^T/n``. ``y``: n or n x m."""
    return _native.kernel_target_alignment(
        _matrix(kernel, "kernel"), _targets(y, "y"), bool(centered)
    )


def kernel_alignment(k1: Any, k2: Any) -> Number:
    """Kernel-kernel alignment ``<K_1, K_2>_F / (|K_1|_F |K_2|_F)``."""
    return _native.kernel_alignment(_matrix(k1, "k1"), _matrix(k2, "k2"))


def specialisation_matrix(
    kernels: Any, y: Any, centered: bool = False
) -> Union[np.ndarray, Undefined]:
    """SB21's specialisation matrix ``S[c, c'] = A(K_c, y_c')``: row c the
    kernel of output c (``kernels``, shape (C, n, n), e.g. :func:`ntk`),
    column c' the target column c' of ``y`` (n x C), uncentred or centred
    kernel-target alignment. Specialisation shows as a diagonal above the
    off-diagonal entries: ``S.diagonal().mean() - S[off-diagonal].mean()``
    is 0 when every output shares one kernel up to scale (SPEC §8)."""
    k = _float64(kernels, "kernels", (3,))
    return _native.specialisation_matrix(k, _targets(y, "y"), bool(centered))


def load_network(
    weights: Any, layers: Optional[Sequence[str]] = None
) -> dict[str, Any]:
    """The layers of a state dict or file, in order: ``{"names",
    "bias_names", "weights", "biases"}`` (``bias_names``/``biases`` None
    for a bias-free network), the arrays in float64. ``layers``: the layer
    order as weight names (``"fc1.weight"``) or their prefixes (``"fc1"``);
    default: every ``*.weight`` in natural order of the names."""
    names, bias_names, ws, bs = _native.load_network(_source(weights), _names(layers))
    return {"names": names, "bias_names": bias_names, "weights": ws, "biases": bs}


def _budget(memory: Optional[float]) -> Optional[int]:
    """A memory budget given in GB, in bytes (None: the default)."""
    if memory is None:
        return None
    gb = float(memory)
    if not (np.isfinite(gb) and gb > 0):
        raise ValueError(f"memory: {memory} is not a positive number of GB")
    return int(gb * 1e9)


def _names(layers: Optional[Sequence[str]]) -> Optional[list[str]]:
    if layers is None:
        return None
    if isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
        raise TypeError("layers: expected a list of tensor names")
    return list(layers)


def analyze(
    weights: Any,
    x: Any,
    labels: Any = None,
    init: Any = None,
    activation: str = "relu",
    layers: Optional[Sequence[str]] = None,
    alpha: Optional[float] = None,
    memory: Optional[float] = None,
    arch: Optional[str] = None,
    centred_agop: bool = False,
) -> dict[str, Any]:
    """Every metric of a network on data, as ``feature-learning-checks
    analyze`` computes them: the same record as its JSON, with each layer's
    ``nfm``, ``agop`` (chain rule) and ``ptk`` as arrays beside its metrics.

    ``weights``: a ``torch.nn.Module`` (an ``nn.Sequential``, nested ones
    flattened: its layers and weights are read directly, see
    :func:`describe`; ``init`` may then be a module too), a state dict
    (mapping of names to arrays) or a path to a safetensors or ``.pt``
    file; ``arch``: for a convolutional network given by its weights, its
    architecture as the TOML text ``analyze --arch`` reads (``activation``
    is then ignored); ``x``: n x d_0 inputs, or images (n, C, H, W);
    ``centred_agop``: also the NFA against RBPB22's gradient-centred AGOP
    (``centred_nfa`` per layer, its matrix as ``centred_agop``);
    ``labels``: n x C
    targets (adds the NTK alignments and the specialisation matrix);
    ``init``: the initial weights, same form and layers (adds the C-NFA);
    ``alpha``: an exponent reported besides 1, 1/2 and alpha-hat;
    ``memory``: the budget of the NTK statistics in GB (default: half of
    the memory available; too small a budget raises ``ValueError``).

    Per layer: ``agop_agreement`` (relerr of the two AGOP computations),
    ``alpha_hat`` (``argmin relerr_scaled(F, G^alpha)``, or
    ``{"undefined": reason}``), ``nfa`` (every convention at alpha = 1, 1/2,
    alpha-hat, and ``alpha``), ``uc_nfa``, ``c_nfa``; with labels, ``ntk``:
    per-output alignments (uncentred, centred), kernel norms, kernel-kernel
    alignments and the specialisation matrix. An undefined value is
    ``{"undefined": reason}``, as in the JSON; ``record["conventions"]``
    states every formula.
    """
    budget = _budget(memory)
    if alpha is not None:
        a = float(alpha)
        if not (np.isfinite(a) and a >= 0):
            raise ValueError(f"alpha = {alpha}: expected a finite exponent >= 0")
        alpha = a
    if is_module(weights):
        if arch is None:
            arch = describe(weights, np.shape(x)[1:])
        weights, layers = state_of(weights)
    if init is not None and is_module(init):
        init = state_of(init)[0]
    source = _source(weights)
    init_source = None if init is None else _source(init, name="init")
    y = None if labels is None else _targets(labels, "labels")
    samples = _float64(x, "x", None)
    if samples.ndim > 2:
        # Images (n, C, H, W): NCHW rows, their shape checked against arch.
        sample_shape = list(samples.shape[1:])
        rows = np.ascontiguousarray(samples.reshape(samples.shape[0], -1))
    else:
        rows = _matrix(samples, "x")
        sample_shape = [rows.shape[1]]
    if arch is not None and not isinstance(arch, str):
        raise ValueError("arch: expected the architecture's TOML text (a str)")
    text, matrices = _native.analyze(
        source,
        rows,
        sample_shape,
        y,
        init_source,
        arch,
        activation,
        _names(layers),
        alpha,
        budget,
        bool(centred_agop),
    )
    record = json.loads(text)
    record["weights"] = source if isinstance(source, str) else None
    record["init"] = init_source if isinstance(init_source, str) else None
    record["data"] = None
    record["labels"] = None
    for layer, (f, g, k, gc) in zip(record["layers"], matrices):
        layer["nfm"], layer["agop"], layer["ptk"] = f, g, k
        if gc is not None:
            layer["centred_agop"] = gc
    return record
