"""PyTorch modules as the toolkit's networks: the architecture TOML of
``analyze --arch`` and the state dict in layer order, read from an
``nn.Sequential`` (nested ones flattened) without importing torch: the
modules are recognised by their class names and PyTorch's attribute names.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

SUPPORTED = (
    "Conv2d (dilation 1, groups 1, zero padding), Linear, MaxPool2d and AvgPool2d "
    "(no padding, floor mode), AdaptiveAvgPool2d(1), Flatten, Identity, ReLU, "
    "LeakyReLU, Tanh, GELU(approximate='tanh'), Dropout in eval mode, and nested Sequential"
)


def _pair(v: Any) -> list[int]:
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _unsupported(name: str, module: Any, why: str) -> ValueError:
    return ValueError(f"module `{name}` ({type(module).__name__}): {why}; supported: {SUPPORTED}")


def _walk(module: Any, prefix: str = ""):
    """The leaf modules of nested ``Sequential``s, with their state-dict
    prefixes."""
    kind = type(module).__name__
    if kind == "Sequential":
        for name, child in module.named_children():
            yield from _walk(child, f"{prefix}{name}.")
        return
    if not prefix:
        raise _unsupported("<model>", module, "expected an nn.Sequential")
    yield prefix[:-1], module


def _layer(name: str, m: Any) -> Optional[str]:
    """One layer of the architecture TOML, or None for a module that is
    the identity when measuring (Dropout in eval mode, Identity)."""
    kind = type(m).__name__
    if kind == "Conv2d":
        if _pair(m.dilation) != [1, 1] or m.groups != 1:
            raise _unsupported(name, m, "dilation and groups must be 1")
        if isinstance(m.padding, str) or m.padding_mode != "zeros":
            raise _unsupported(name, m, "padding must be numbers of zeros")
        k, s, p = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
        return (
            f'{{ type = "conv2d", channels = {m.out_channels}, kernel = {k}, '
            f"stride = {s}, padding = {p} }}"
        )
    if kind == "Linear":
        return f'{{ type = "linear", outputs = {m.out_features} }}'
    if kind in ("MaxPool2d", "AvgPool2d"):
        if _pair(m.padding) != [0, 0] or m.ceil_mode or _pair(getattr(m, "dilation", 1)) != [1, 1]:
            raise _unsupported(name, m, "pooling without padding, dilation or ceil mode only")
        k = _pair(m.kernel_size)
        s = k if m.stride is None else _pair(m.stride)
        t = "max_pool2d" if kind == "MaxPool2d" else "avg_pool2d"
        return f'{{ type = "{t}", kernel = {k}, stride = {s} }}'
    if kind == "AdaptiveAvgPool2d":
        if _pair(m.output_size) != [1, 1]:
            raise _unsupported(name, m, "only output size 1 (global average pooling)")
        return '{ type = "global_avg_pool" }'
    if kind == "Flatten":
        if m.start_dim != 1 or m.end_dim != -1:
            raise _unsupported(name, m, "only Flatten(start_dim=1, end_dim=-1)")
        return '{ type = "flatten" }'
    if kind == "ReLU":
        return '{ type = "relu" }'
    if kind == "Tanh":
        return '{ type = "tanh" }'
    if kind == "LeakyReLU":
        return f'{{ type = "leaky_relu", slope = {float(m.negative_slope)!r} }}'
    if kind == "GELU":
        if m.approximate != "tanh":
            raise _unsupported(name, m, "the toolkit's GELU is the tanh form: use nn.GELU(approximate='tanh')")
        return '{ type = "gelu" }'
    if kind == "Identity" or (kind.startswith("Dropout") and not m.training):
        return None
    if kind.startswith("Dropout"):
        raise _unsupported(name, m, "dropout in train mode changes the network from call to call (call model.eval())")
    raise _unsupported(name, m, "not a supported layer")


def describe(model: Any, input_shape: Sequence[int]) -> str:
    """The architecture TOML that ``analyze --arch`` reads, of an
    ``nn.Sequential`` (nested ``Sequential``s flattened) taking samples of
    ``input_shape`` (``[C, H, W]`` or ``[features]``, without the batch
    dimension). An unsupported module (BatchNorm, Dropout in train mode, a
    residual block, ...) raises ``ValueError`` naming it and listing what is
    supported."""
    shape = [int(d) for d in input_shape]
    lines = [f"input = {shape}", "layers = ["]
    for name, m in _walk(model):
        layer = _layer(name, m)
        if layer is not None:
            lines.append(f"  {layer},  # {name}")
    lines.append("]")
    return "\n".join(lines) + "\n"


def state_of(model: Any) -> tuple[dict[str, np.ndarray], list[str]]:
    """The model's weights and biases as float64 arrays (copies, the model
    untouched) and the names of its parametrised modules in layer order."""
    arrays, order = {}, []
    for name, m in _walk(model):
        if type(m).__name__ in ("Conv2d", "Linear"):
            order.append(name)
            for p in ("weight", "bias"):
                t = getattr(m, p, None)
                if t is not None:
                    arrays[f"{name}.{p}"] = t.detach().cpu().double().numpy()
    return arrays, order


def is_module(obj: Any) -> bool:
    """Whether ``obj`` looks like a ``torch.nn.Module``."""
    return all(hasattr(obj, a) for a in ("named_children", "state_dict", "training"))
