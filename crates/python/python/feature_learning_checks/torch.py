"""Measure a PyTorch model while it trains: :class:`Tracker`.

One line before the loop and one call per epoch::

    tracker = Tracker(model, x, labels=y)
    for epoch in range(1, epochs + 1):
        train_one_epoch(model)
        tracker.step(epoch)
    tracker.plot("nfa.svg")

Each step reads the model's current weights (never changing them, and
without writing a file) and computes, in Rust with the GIL released, the
record that ``analyze`` returns for them: per layer the NFA, alpha-hat, the
UC-NFA and, against the weights at ``init``, the C-NFA; with labels the
NTK-target alignments and SB21's specialisation. ``tracker.history`` is the
list of those records, each with its ``step``; ``to_csv``, ``to_json``,
``to_pandas`` and ``plot`` write the same files as ``analyze --weights
'ckpt/*.pt'`` does for saved checkpoints (series.csv, series.json,
series.svg). This module does not import torch: a model is read through
the attributes every ``torch.nn.Module`` has.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np

from . import _budget, _float64, _names, _native, _source, _targets
from .modules import describe, is_module, state_of

__all__ = ["Tracker", "METRICS"]

#: The metrics a tracker can record. ``nfa``: sim(F_l, G_l) at alpha = 1;
#: ``alpha``: alpha-hat per layer; ``uc_nfa`` and ``c_nfa``: BMA24's
#: uncentred and centred NFA (``c_nfa`` needs ``init``); ``ntk``: the
#: per-output NTK's alignment with the labels and the specialisation matrix
#: (needs ``labels``; its cost grows as n^2 in the samples).
METRICS = ("nfa", "uc_nfa", "c_nfa", "alpha", "ntk")

PathLike = Union[str, "os.PathLike[str]"]


def _weights(model: Any, sequential: bool) -> Any:
    """The model's current tensors as float64 arrays, in layer order for an
    ``nn.Sequential``; a float64 model's tensors are read without a copy."""
    if sequential:
        return _source(state_of(model)[0])
    state = {k: v.detach().cpu().double().numpy() for k, v in model.state_dict().items()}
    return _source(state)


class Tracker:
    """Measure ``model`` on ``x`` at every ``every``-th call of :meth:`step`.

    ``model``: an ``nn.Sequential`` (nested ones flattened; see
    :func:`feature_learning_checks.describe`), or any module whose state
    dict is a fully connected network with ``activation`` between its
    layers, in the order ``layers`` (tensor or module names; default: every
    ``*.weight`` in natural order of the names; an ``nn.Sequential`` gives
    its own order, and ``layers`` is then an error). ``x``: the samples measured
    on, n x d or images (n, C, H, W), converted to float64 once.
    ``labels``: n x C targets, for the NTK metrics. ``init``: ``"now"`` (the
    weights when the tracker is made, copied), a module, a state dict or a
    path with the same layers, or None (no C-NFA). ``metrics``: a subset of
    :data:`METRICS`; the records hold every metric computed, the CSV and the
    plot those asked for. Leaving out ``ntk`` (or ``labels``) skips the
    kernel pass; leaving out ``c_nfa`` skips the initial weights; ``nfa``,
    ``alpha`` and ``uc_nfa`` come from one pass and cost the same together.
    ``similarity``: the convention of the CSV and the plot (the records
    hold all four). ``memory``: the budget of the NTK statistics in GB.
    """

    def __init__(
        self,
        model: Any,
        x: Any,
        labels: Any = None,
        init: Any = "now",
        every: int = 1,
        layers: Optional[Sequence[str]] = None,
        metrics: Sequence[str] = METRICS,
        similarity: str = "cosine",
        activation: str = "relu",
        memory: Optional[float] = None,
    ) -> None:
        if not is_module(model):
            raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every: {every!r} is not a whole number >= 1")
        if isinstance(metrics, str):
            raise TypeError("metrics: expected a list of metric names, e.g. ('nfa', 'uc_nfa')")
        metrics = [str(m) for m in metrics]
        budget = _budget(memory)
        samples = _float64(x, "x", None)
        if samples.ndim > 2:
            sample_shape = list(samples.shape[1:])
            rows = np.ascontiguousarray(samples.reshape(samples.shape[0], -1))
        elif samples.ndim == 2:
            rows, sample_shape = samples, [samples.shape[1]]
        else:
            raise ValueError(f"x: shape {list(samples.shape)}; expected n x d or (n, C, H, W)")
        self._model = model
        self._sequential = type(model).__name__ == "Sequential"
        arch = describe(model, sample_shape) if self._sequential else None
        if self._sequential:
            if layers is not None:
                raise ValueError("layers: an nn.Sequential gives its own layer order; pass layers=None")
            layers = state_of(model)[1]
        weights = _weights(model, self._sequential)
        if isinstance(init, str) and init == "now":
            init = weights
        elif init is not None:
            init = _source(state_of(init)[0] if is_module(init) else init, name="init")
        y = None if labels is None else _targets(labels, "labels")
        self._series = _native.Series(
            weights,
            rows,
            sample_shape,
            y,
            init,
            arch,
            activation,
            _names(layers),
            budget,
            similarity,
            metrics,
        )
        self.every = every
        self._calls = 0
        #: One record per measured step, as ``analyze`` returns it (without
        #: the matrices), with its ``step``.
        self.history: list[dict[str, Any]] = []

    def step(self, step: Union[int, float]) -> Optional[dict[str, Any]]:
        """Measure the model as it is now, as the point ``step`` (an epoch,
        say), on every ``every``-th call (the first call measures); the
        record, or None for a call that does not measure."""
        call, self._calls = self._calls, self._calls + 1
        if call % self.every:
            return None
        at = float(step)
        if not np.isfinite(at):
            raise ValueError(f"step: {step!r} is not a finite number")
        text = self._series.measure(at, _weights(self._model, self._sequential))
        record = json.loads(text)
        record["step"] = step
        self.history.append(record)
        return record

    __call__ = step

    def to_json(self, path: PathLike) -> None:
        """Write the series as ``analyze --weights DIR`` writes
        ``series.json``: ``schema``, ``similarity``, ``points``."""
        _write(path, self._series.json())

    def to_csv(self, path: PathLike) -> None:
        """Write one row per measured step (the columns of ``series.csv``;
        an undefined value is an empty cell)."""
        _write(path, self._series.csv())

    def to_pandas(self) -> Any:
        """The rows of :meth:`to_csv` as a ``pandas.DataFrame`` (needs
        pandas)."""
        import io

        import pandas as pd

        return pd.read_csv(io.StringIO(self._series.csv()))

    def plot(self, path: PathLike) -> None:
        """Write the curves as SVG (as ``series.svg``): the NFA, UC-NFA
        (solid) and C-NFA (dashed) and alpha-hat per layer, and the
        NTK-target alignment."""
        _write(path, self._series.svg())


def _write(path: PathLike, text: str) -> None:
    with open(os.fspath(path), "w", encoding="utf-8") as f:
        f.write(text)
