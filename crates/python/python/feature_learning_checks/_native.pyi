"""Type stubs of the compiled module (see the package's functions for the
conventions; every array here is float64)."""

from typing import Optional, Union

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Tensors = list[tuple[str, F64]]
Source = Union[str, Tensors]

class Undefined:
    """A metric without a value for its inputs, with the reason."""

    reason: str
    def __init__(self, reason: str) -> None: ...
    def __bool__(self) -> bool: ...

class Unidentifiable:
    """An exponent alpha that no scale-free comparison can identify."""

    rank: int
    reason: str
    def __init__(self, rank: int, reason: str) -> None: ...
    def __bool__(self) -> bool: ...

def nfm(weight: F64) -> F64: ...
def tangents(weights: Source, x: F64, activation: str, what: str) -> list[F64]: ...
def per_output_ntk(weights: Source, x: F64, activation: str) -> F64: ...
def similarity(a: F64, b: F64, convention: str) -> Union[float, Undefined]: ...
def nfa_similarity(
    f: F64, g: F64, alpha: float, convention: str
) -> Union[float, Undefined]: ...
def estimate_alpha(
    f: F64, g: F64, estimator: str, similarity: str
) -> Union[float, Unidentifiable, Undefined]: ...
def uc_nfa(weight: F64, ptk: F64, convention: str) -> Union[float, Undefined]: ...
def c_nfa(
    weight: F64, init_weight: F64, ptk: F64, convention: str
) -> Union[float, Undefined]: ...
def kernel_target_alignment(
    kernel: F64, y: F64, centered: bool
) -> Union[float, Undefined]: ...
def kernel_alignment(k1: F64, k2: F64) -> Union[float, Undefined]: ...
def specialisation_matrix(
    kernels: F64, y: F64, centered: bool
) -> Union[F64, Undefined]: ...
def load_network(
    weights: Source, layers: Optional[list[str]] = None
) -> tuple[list[str], Optional[list[str]], list[F64], Optional[list[F64]]]: ...
def analyze(
    weights: Source,
    x: F64,
    sample_shape: list[int],
    labels: Optional[F64],
    init: Optional[Source],
    arch: Optional[str],
    activation: str,
    layers: Optional[list[str]],
    alpha: Optional[float],
    memory: Optional[int],
    centred_agop: bool,
) -> tuple[str, list[tuple[F64, F64, F64, Optional[F64]]]]: ...

class Series:
    """A network's metrics over training (the engine of ``torch.Tracker``)."""

    def __init__(
        self,
        weights: Source,
        x: F64,
        sample_shape: list[int],
        labels: Optional[F64],
        init: Optional[Source],
        arch: Optional[str],
        activation: str,
        layers: Optional[list[str]],
        memory: Optional[int],
        similarity: str,
        metrics: list[str],
    ) -> None: ...
    def measure(self, step: float, weights: Source) -> str: ...
    def json(self) -> str: ...
    def csv(self) -> str: ...
    def svg(self) -> str: ...
