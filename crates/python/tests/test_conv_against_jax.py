"""Convolutional networks: the command line's `analyze --arch` against JAX
(SPEC 9). The oracle builds the network from JAX's own convolution, patch
extraction and pooling primitives and takes every gradient by automatic
differentiation: the PTK from perturbations of each layer's
pre-activation, the patch AGOP from perturbations of each patch alone,
the per-output NTK from the parameter Jacobian."""

import json
import struct
import subprocess

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import feature_learning_checks as flc
import oracle
from test_inputs import cli_binary

# The same sums in another order (im2col and GEMM against XLA's
# convolutions): relative differences of a few ulps times the number of
# terms; 1e-10 leaves room and still fails on any wrong index.
RTOL = 1e-10

INPUT = (2, 7, 6)
SAMPLES = 5
OUTPUTS = 3


def write_safetensors(path, tensors):
    """A safetensors file (F64, C order): an 8-byte header length, the JSON
    header, then the data."""
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        data = np.ascontiguousarray(a, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


ARCH = """
input = [2, 7, 6]

[[layers]]
type = "conv2d"
channels = 3
kernel = 3
padding = 1

[[layers]]
type = "{act}"

[[layers]]
type = "{pool}_pool2d"
kernel = 2

[[layers]]
type = "conv2d"
channels = 4
kernel = [2, 3]
stride = [1, 2]

[[layers]]
type = "{act}"

[[layers]]
type = "global_avg_pool"

[[layers]]
type = "flatten"

[[layers]]
type = "linear"
outputs = 3
"""


def params(seed, bias):
    rng = np.random.default_rng(seed)
    shapes = [(3, 2, 3, 3), (4, 3, 2, 3), (OUTPUTS, 4)]
    weights = [rng.standard_normal(s) / np.sqrt(np.prod(s[1:])) for s in shapes]
    biases = [0.1 * rng.standard_normal(s[0]) for s in shapes] if bias else None
    return weights, biases, rng


def conv(a, w, b, stride, padding, eps=None):
    """A convolution of one sample (C, H, W) by XLA, plus a perturbation
    ``eps`` of its output (the pre-activation)."""
    h = jax.lax.conv_general_dilated(
        a[None], w, window_strides=stride, padding=[(padding, padding)] * 2
    )[0]
    if b is not None:
        h = h + b[:, None, None]
    return h if eps is None else h + eps


def conv_by_patches(a, w, b, stride, padding, eps):
    """The same convolution through JAX's patch extraction, with a
    perturbation ``eps`` (P, k_in·h·w) of every patch."""
    patches = jax.lax.conv_general_dilated_patches(
        a[None], w.shape[2:], window_strides=stride, padding=[(padding, padding)] * 2
    )[0]
    k_in_hw, oh, ow = patches.shape
    flat = patches.reshape(k_in_hw, oh * ow).T + eps
    h = flat @ w.reshape(w.shape[0], -1).T
    if b is not None:
        h = h + b
    return h.T.reshape(w.shape[0], oh, ow)


LAYERS = [((1, 1), 1), ((1, 2), 0)]


def pool2(a, kind):
    """2×2 pooling with stride 2 by XLA's window reduction."""
    if kind == "max":
        return jax.lax.reduce_window(a, -jnp.inf, jax.lax.max, (1, 2, 2), (1, 2, 2), "VALID")
    return jax.lax.reduce_window(a, 0.0, jax.lax.add, (1, 2, 2), (1, 2, 2), "VALID") / 4


def network(weights, biases, act, perturb=None, at=None, pool="max"):
    """``f(x)`` of one sample; ``perturb`` in ("pre", "patch") adds a
    perturbation to conv layer ``at``'s pre-activation or patches."""
    phi = oracle.phi(act)
    bias = (lambda l: None) if biases is None else (lambda l: biases[l])

    def f(x, eps=None):
        a = x
        for l, (stride, padding) in enumerate(LAYERS):
            if perturb == "patch" and l == at:
                h = conv_by_patches(a, weights[l], bias(l), stride, padding, eps)
            else:
                h = conv(a, weights[l], bias(l), stride, padding, eps if l == at else None)
            a = phi(h)
            if l == 0:
                a = pool2(a, pool)
        a = a.mean(axis=(1, 2))
        out = weights[2] @ a
        return out if biases is None else out + biases[2]

    return f


def oracle_ptk_and_agop(weights, biases, act, x, l, pool):
    f0 = network(weights, biases, act, pool=pool)
    pre = network(weights, biases, act, "pre", l, pool)
    patch = network(weights, biases, act, "patch", l, pool)
    # The shapes of layer l's output and patches, from one forward pass.
    a = x[0]
    for k in range(l):
        a = oracle.phi(act)(conv(a, weights[k], None, *LAYERS[k]))
        if k == 0:
            a = pool2(a, pool)
    h = conv(a, weights[l], None, *LAYERS[l])
    k_out, positions = h.shape[0], h.shape[1] * h.shape[2]
    patch_len = int(np.prod(weights[l].shape[1:]))
    ptk = np.zeros((k_out, k_out))
    agop = np.zeros((patch_len, patch_len))
    for xi in x:
        assert np.allclose(pre(xi, jnp.zeros(h.shape)), f0(xi))
        j = jax.jacrev(pre, argnums=1)(xi, jnp.zeros(h.shape))  # (C, k_out, oh, ow)
        j = np.asarray(j).reshape(OUTPUTS, k_out, positions)
        ptk += np.einsum("ckp,cjp->kj", j, j)
        q = jax.jacrev(patch, argnums=1)(xi, jnp.zeros((positions, patch_len)))
        q = np.asarray(q)  # (C, P, k_in·h·w)
        agop += np.einsum("cpd,cpe->de", q, q)
    return ptk, agop / len(x)


def oracle_ntk(weights, biases, act, x, pool):
    """``Theta_c = J_c J_c^T`` with ``J_c[i] = d f_c(x_i) / d theta`` over
    every filter, weight and bias, shape (C, n, n)."""

    def f(p, xi):
        w, b = p
        return network(w, b, act, pool=pool)(xi)

    params = (list(weights), None if biases is None else list(biases))
    jac = jax.vmap(jax.jacrev(f), in_axes=(None, 0))(params, x)
    leaves = jax.tree_util.tree_leaves(jac)
    n = x.shape[0]
    flat = jnp.concatenate([leaf.reshape(n, OUTPUTS, -1) for leaf in leaves], axis=2)
    return np.asarray(jnp.einsum("icp,jcp->cij", flat, flat))


@pytest.mark.parametrize("act, pool", [("relu", "max"), ("tanh", "max"), ("gelu", "avg"), ("relu", "avg")])
@pytest.mark.parametrize("bias", [False, True])
def test_conv_ptk_and_patch_agop_match_autodiff(tmp_path, act, pool, bias):
    weights, biases, rng = params(3, bias)
    init, init_biases, _ = params(4, bias)
    x = rng.standard_normal((SAMPLES, *INPUT))
    (tmp_path / "arch.toml").write_text(ARCH.format(act=act, pool=pool))
    names = ["features.0", "features.3", "head"]
    for file, (w, b) in (("w.safetensors", (weights, biases)), ("w0.safetensors", (init, init_biases))):
        tensors = {f"{n}.weight": wl for n, wl in zip(names, w)}
        if b is not None:
            tensors.update({f"{n}.bias": bl for n, bl in zip(names, b)})
        write_safetensors(tmp_path / file, tensors)
    np.save(tmp_path / "x.npy", x)
    y = rng.standard_normal((SAMPLES, OUTPUTS))
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / "a.json"
    subprocess.run(
        [
            cli_binary(), "analyze",
            "--arch", str(tmp_path / "arch.toml"),
            "--weights", str(tmp_path / "w.safetensors"),
            "--init", str(tmp_path / "w0.safetensors"),
            "--data", str(tmp_path / "x.npy"),
            "--labels", str(tmp_path / "y.npy"),
            "--save-matrices", str(tmp_path / "m"),
            "--save-ntk", str(tmp_path / "ntk"),
            "--out", str(out),
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    record = json.loads(out.read_text())
    assert record["input"] == list(INPUT)
    assert [layer["kind"] for layer in record["layers"]] == ["conv2d", "conv2d", "linear"]
    kernels = oracle_ntk(weights, biases, act, jnp.asarray(x), pool)
    stats = record["ntk"]
    for c in range(OUTPUTS):
        saved = np.load(tmp_path / "ntk" / f"ntk{c + 1}.npy")
        assert oracle.relative(saved, kernels[c]) <= RTOL
        for centered, key in ((False, "alignment"), (True, "centered_alignment")):
            want = oracle.kernel_target_alignment(kernels[c], y[:, c], centered)
            assert abs(stats[key][c] - want) <= RTOL
        for c2 in range(OUTPUTS):
            want = oracle.kernel_alignment(kernels[c], kernels[c2])
            assert abs(stats["kernel_alignment"]["matrix"][c][c2] - want) <= RTOL
    for l in range(2):
        want_k, want_g = oracle_ptk_and_agop(weights, biases, act, jnp.asarray(x), l, pool)
        k = np.load(tmp_path / "m" / f"layer{l + 1}_ptk.npy")
        g = np.load(tmp_path / "m" / f"layer{l + 1}_agop.npy")
        assert oracle.relative(k, want_k) <= RTOL, (l, oracle.relative(k, want_k))
        assert oracle.relative(g, want_g) <= RTOL, (l, oracle.relative(g, want_g))
        w = weights[l].reshape(weights[l].shape[0], -1)
        dw = w - init[l].reshape(w.shape)
        layer = record["layers"][l]
        assert layer["agop_agreement"] <= RTOL
        uc = {v["similarity"]: v["value"] for v in layer["uc_nfa"]}
        c = {v["similarity"]: v["value"] for v in layer["c_nfa"]}
        for convention in ("cosine", "pearson", "relerr"):
            want = oracle.similarity(w.T @ want_k @ w, w.T @ w, convention)
            assert abs(uc[convention] - want) <= RTOL * max(1, abs(want))
            want = oracle.similarity(dw.T @ want_k @ dw, dw.T @ dw, convention)
            assert abs(c[convention] - want) <= RTOL * max(1, abs(want))


def test_python_analyze_of_a_cnn_equals_the_command_line(tmp_path):
    """The package's ``analyze(state_dict, images, arch=TOML)`` is the
    command line's record (the same computation: equal numbers)."""
    weights, biases, rng = params(7, True)
    x = rng.standard_normal((SAMPLES, *INPUT))
    names = ["features.0", "features.3", "head"]
    state = {f"{n}.weight": w for n, w in zip(names, weights)}
    state.update({f"{n}.bias": b for n, b in zip(names, biases)})
    write_safetensors(tmp_path / "w.safetensors", state)
    np.save(tmp_path / "x.npy", x)
    arch = ARCH.format(act="tanh", pool="max")
    (tmp_path / "arch.toml").write_text(arch)
    out = tmp_path / "a.json"
    subprocess.run(
        [cli_binary(), "analyze", "--arch", str(tmp_path / "arch.toml"),
         "--weights", str(tmp_path / "w.safetensors"), "--data", str(tmp_path / "x.npy"),
         "--centred-agop", "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
    )
    cli = json.loads(out.read_text())
    record = flc.analyze(state, x, arch=arch, centred_agop=True)
    for layer in record["layers"]:
        for matrix in ("nfm", "agop", "ptk", "centred_agop"):
            del layer[matrix]
    for key in ("layers", "input", "network", "samples", "conventions"):
        assert record[key] == cli[key], key
    with pytest.raises(ValueError, match=r"\[2, 6, 7\].*\[2, 7, 6\]"):
        flc.analyze(state, np.swapaxes(x, 2, 3), arch=arch)


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_gradient_centred_agop_is_rbpb22s(act):
    """RBPB22's centred AGOP: the per-sample Jacobians ``J_i = df/da_{l-1}``
    centred over samples (``J_i - mean_i J``) before the AGOP, by JAX, for
    every layer of an MLP; undefined for the readout (whose Jacobian does
    not depend on the sample) and for a linear network."""
    widths = [5, 7, 6, 3]
    rng = np.random.default_rng(11)
    weights = [rng.standard_normal((widths[l + 1], widths[l])) / np.sqrt(widths[l]) for l in range(3)]
    x = rng.standard_normal((9, widths[0]))
    state = {f"{2 * l}.weight": w for l, w in enumerate(weights)}
    record = flc.analyze(state, x, activation=act, centred_agop=True)
    inputs, _ = oracle.layer_inputs(weights, None, act, x)
    for l, layer in enumerate(record["layers"]):
        jac = np.asarray(jax.vmap(jax.jacrev(oracle.from_layer(weights, None, act, l)))(inputs[l]))
        centred = jac - jac.mean(axis=0)
        want = np.einsum("ncd,nce->de", centred, centred) / x.shape[0]
        values = {(v["similarity"], v["alpha"]): v["value"] for v in layer["centred_nfa"]}
        if l == len(weights) - 1:
            assert np.linalg.norm(want) <= 1e-14 * np.linalg.norm(layer["agop"])
            assert all(isinstance(v, dict) and "undefined" in v for v in values.values())
            continue
        assert oracle.relative(layer["centred_agop"], want) <= RTOL
        w = weights[l]
        for convention in flc.SIMILARITIES:
            for label, alpha in (("1", 1.0), ("1/2", 0.5)):
                expected = oracle.similarity(w.T @ w, oracle.psd_power(want, alpha), convention)
                assert abs(values[(convention, label)] - expected) <= RTOL * max(1, abs(expected))
    linear = flc.analyze(state, x, activation="identity", centred_agop=True)
    for layer in linear["layers"]:
        assert all(isinstance(v["value"], dict) for v in layer["centred_nfa"])
