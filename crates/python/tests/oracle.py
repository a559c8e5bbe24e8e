"""The independent oracle: every quantity recomputed from its definition
(SPEC 1, 4-6) with JAX's automatic differentiation (``jax.jacrev`` per
sample, ``jax.vmap`` over samples) and NumPy linear algebra. Shares no code
with the package."""

import jax
import jax.numpy as jnp
import numpy as np

SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)


def phi(name):
    """The activation; ``jnp.where`` keeps the derivative at 0 equal to the
    package's convention (0 for ReLU), which random inputs never reach."""
    return {
        "identity": lambda h: h,
        "relu": lambda h: jnp.where(h > 0, h, 0.0),
        "leaky_relu": lambda h: jnp.where(h > 0, h, 0.01 * h),
        "tanh": jnp.tanh,
        "gelu": lambda h: 0.5 * h * (1 + jnp.tanh(SQRT_2_OVER_PI * (h + 0.044715 * h**3))),
        "quadratic": lambda h: h * h,
    }[name]


def _bias(biases, l, width):
    return jnp.zeros(width) if biases is None else biases[l]


def from_layer(weights, biases, activation, l):
    """The network's outputs as a function of layer l's *input*
    ``a_{l-1}`` (0-based l)."""
    f = phi(activation)
    last = len(weights) - 1

    def g(a):
        for k in range(l, last + 1):
            h = weights[k] @ a + _bias(biases, k, weights[k].shape[0])
            a = h if k == last else f(h)
        return a

    return g


def from_preactivation(weights, biases, activation, l):
    """The outputs as a function of layer l's pre-activation ``h_l``."""
    f = phi(activation)
    last = len(weights) - 1
    rest = from_layer(weights, biases, activation, l + 1) if l < last else (lambda a: a)
    return (lambda h: h) if l == last else (lambda h: rest(f(h)))


def layer_inputs(weights, biases, activation, x):
    """``a_{l-1}(x_i)`` for every layer l, stacked over samples, and the
    pre-activations ``h_l``."""
    f = phi(activation)
    a, inputs, pre = jnp.asarray(x), [], []
    for k, w in enumerate(weights):
        inputs.append(a)
        h = a @ w.T + _bias(biases, k, w.shape[0])
        pre.append(h)
        a = f(h)
    return inputs, pre


def agop(weights, biases, activation, x):
    """``G_l = (1/n) sum_i J_i^T J_i``, ``J_i = d f / d a_{l-1}`` at x_i."""
    inputs, _ = layer_inputs(weights, biases, activation, x)
    out = []
    for l, a in enumerate(inputs):
        jac = jax.vmap(jax.jacrev(from_layer(weights, biases, activation, l)))(a)
        out.append(np.asarray(jnp.einsum("ncd,nce->de", jac, jac) / a.shape[0]))
    return out


def ptk(weights, biases, activation, x):
    """``K_l = sum_i J_i^T J_i``, ``J_i = d f / d h_l`` at x_i."""
    _, pre = layer_inputs(weights, biases, activation, x)
    out = []
    for l, h in enumerate(pre):
        jac = jax.vmap(jax.jacrev(from_preactivation(weights, biases, activation, l)))(h)
        out.append(np.asarray(jnp.einsum("ncd,nce->de", jac, jac)))
    return out


def ntk(weights, biases, activation, x):
    """``Theta_c = J_c J_c^T`` with ``J_c[i] = d f_c(x_i) / d theta`` over
    every weight and bias, shape (C, n, n)."""
    params = (list(weights), None if biases is None else list(biases))

    def f(p, xi):
        w, b = p
        return from_layer(w, b, activation, 0)(xi)

    jac = jax.vmap(jax.jacrev(f), in_axes=(None, 0))(params, jnp.asarray(x))
    leaves = jax.tree_util.tree_leaves(jac)
    n, c = x.shape[0], weights[-1].shape[0]
    flat = jnp.concatenate([leaf.reshape(n, c, -1) for leaf in leaves], axis=2)
    return np.asarray(jnp.einsum("icp,jcp->cij", flat, flat))


def similarity(a, b, convention):
    """SPEC 1.1, B the reference."""
    if convention == "cosine":
        return np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b))
    if convention == "pearson":
        ac, bc = a - a.mean(), b - b.mean()
        return np.sum(ac * bc) / (np.linalg.norm(ac) * np.linalg.norm(bc))
    if convention == "relerr":
        return np.linalg.norm(a - b) / np.linalg.norm(b)
    c = np.sum(a * b) / np.sum(a * a)
    return np.linalg.norm(c * a - b) / np.linalg.norm(b)


def psd_power(g, alpha):
    """``G^alpha`` through eigh, eigenvalues below ``d eps lambda_max``
    set to zero."""
    w, v = np.linalg.eigh(g)
    w = np.where(w < g.shape[0] * np.finfo(float).eps * w.max(), 0.0, w)
    return (v * w**alpha) @ v.T


def kernel_target_alignment(k, y, centered=False):
    """``<K, YY^T>_F / (|K|_F |YY^T|_F)``; centred: ``HKH`` and ``HY``."""
    y = y.reshape(len(y), -1)
    if centered:
        h = np.eye(len(k)) - 1.0 / len(k)
        k, y = h @ k @ h, h @ y
    yy = y @ y.T
    return np.sum(k * yy) / (np.linalg.norm(k) * np.linalg.norm(yy))


def kernel_alignment(k1, k2):
    return np.sum(k1 * k2) / (np.linalg.norm(k1) * np.linalg.norm(k2))


def relative(a, b):
    """``|a - b|_F / |b|_F`` (absolute where b is 0)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.linalg.norm(b)
    return np.linalg.norm(a - b) / (scale if scale > 0 else 1.0)
