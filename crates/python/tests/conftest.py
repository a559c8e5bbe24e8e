"""Shared set-up of the tests: JAX in float64 on the CPU (the oracle), and
random networks of every activation."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ACTIVATIONS = ("identity", "relu", "leaky_relu", "tanh", "gelu", "quadratic")


def random_network(seed, widths, bias, scale=1.0):
    """Weights ``[d_l, d_{l-1}]`` with entries N(0, scale^2/d_{l-1}) (and
    biases N(0, 0.1^2)), and inputs, from one seed."""
    rng = np.random.default_rng(seed)
    weights = [
        rng.standard_normal((widths[l + 1], widths[l])) * scale / np.sqrt(widths[l])
        for l in range(len(widths) - 1)
    ]
    biases = [0.1 * rng.standard_normal(w) for w in widths[1:]] if bias else None
    return weights, biases, rng


@pytest.fixture(params=ACTIVATIONS)
def activation(request):
    return request.param
