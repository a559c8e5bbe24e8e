"""Every function of the package against the JAX/NumPy oracle on random
networks of every activation, with and without biases.

Tolerance: 1e-10 relative (Frobenius). Both sides compute in float64 and
differ only in the order of summation (blocked products against
``jax.vmap``/``einsum``), which leaves errors of order n * eps ~ 1e-14 on
these sizes; 1e-10 leaves four orders of magnitude of room while any
mistake in a formula (a missing factor, a transposed layer, a dropped
output) shows at order 1.
"""

import numpy as np
import pytest

import feature_learning_checks as flc
import oracle
from conftest import random_network

RTOL = 1e-10

# d_0 = 5 inputs, two hidden layers, C = 3 outputs; n = 12 samples, so that
# n * C = 36 exceeds every width and each AGOP has full rank (G^alpha is
# then insensitive to the eigenvalue cutoff).
WIDTHS = [5, 7, 6, 3]
SAMPLES = 12


def setup(activation, bias, seed=0):
    weights, biases, rng = random_network(seed, WIDTHS, bias)
    x = rng.standard_normal((SAMPLES, WIDTHS[0]))
    return weights, biases, x, rng


@pytest.mark.parametrize("bias", [False, True])
def test_agop_both_ways_and_ptk_match_autodiff(activation, bias):
    weights, biases, x, _ = setup(activation, bias)
    want_g = oracle.agop(weights, biases, activation, x)
    want_k = oracle.ptk(weights, biases, activation, x)
    for method in ("chain", "input_gradients"):
        got = flc.agop(weights, x, activation, biases=biases, method=method)
        assert len(got) == len(weights)
        for l, (g, w) in enumerate(zip(got, want_g)):
            assert oracle.relative(g, w) <= RTOL, (method, l)
    for l, (k, w) in enumerate(zip(flc.ptk(weights, x, activation, biases=biases), want_k)):
        assert oracle.relative(k, w) <= RTOL, l
    # The output layer's PTK is n I (SPEC 1).
    assert oracle.relative(want_k[-1], SAMPLES * np.eye(WIDTHS[-1])) <= RTOL


@pytest.mark.parametrize("bias", [False, True])
def test_per_output_ntk_matches_the_parameter_jacobian(activation, bias):
    weights, biases, x, _ = setup(activation, bias, seed=1)
    got = flc.ntk(weights, x, activation, biases=biases)
    want = oracle.ntk(weights, biases, activation, x)
    assert got.shape == (WIDTHS[-1], SAMPLES, SAMPLES)
    assert oracle.relative(got, want) <= RTOL


def test_nfm_is_wtw():
    w = np.random.default_rng(2).standard_normal((4, 6))
    assert oracle.relative(flc.nfm(w), w.T @ w) <= RTOL


@pytest.mark.parametrize("convention", flc.SIMILARITIES)
def test_similarities_and_the_nfa_in_every_convention(activation, convention):
    weights, biases, x, _ = setup(activation, False, seed=3)
    f = weights[0].T @ weights[0]
    g = oracle.agop(weights, biases, activation, x)[0]
    assert abs(flc.similarity(f, g, convention) - oracle.similarity(f, g, convention)) <= RTOL
    for alpha in (1.0, 0.5, 0.3):
        want = oracle.similarity(f, oracle.psd_power(g, alpha), convention)
        got = flc.nfa_similarity(f, g, alpha, convention)
        assert abs(got - want) <= RTOL * max(1.0, abs(want)), alpha


@pytest.mark.parametrize("convention", flc.SIMILARITIES)
def test_uc_and_c_nfa_match_their_definition(activation, convention):
    weights, biases, x, _ = setup(activation, True, seed=4)
    init, _, _ = random_network(40, WIDTHS, False)
    k = oracle.ptk(weights, biases, activation, x)
    for l in range(len(weights) - 1):
        w, dw = weights[l], weights[l] - init[l]
        want_uc = oracle.similarity(w.T @ k[l] @ w, w.T @ w, convention)
        want_c = oracle.similarity(dw.T @ k[l] @ dw, dw.T @ dw, convention)
        assert abs(flc.uc_nfa(w, k[l], convention) - want_uc) <= RTOL * max(1, abs(want_uc))
        got_c = flc.c_nfa(weights[l], init[l], k[l], convention)
        assert abs(got_c - want_c) <= RTOL * max(1, abs(want_c))


def test_alignments_and_specialisation_of_the_autodiff_ntk(activation):
    weights, biases, x, rng = setup(activation, True, seed=5)
    kernels = oracle.ntk(weights, biases, activation, x)
    y = rng.standard_normal((SAMPLES, WIDTHS[-1]))
    for centered in (False, True):
        s = flc.specialisation_matrix(kernels, y, centered=centered)
        for c in range(WIDTHS[-1]):
            for c2 in range(WIDTHS[-1]):
                want = oracle.kernel_target_alignment(kernels[c], y[:, c2], centered)
                assert abs(s[c, c2] - want) <= RTOL, (centered, c, c2)
        want = oracle.kernel_target_alignment(kernels[0], y, centered)
        assert abs(flc.kernel_target_alignment(kernels[0], y, centered) - want) <= RTOL
    want = oracle.kernel_alignment(kernels[0], kernels[1])
    assert abs(flc.kernel_alignment(kernels[0], kernels[1]) - want) <= RTOL


@pytest.mark.parametrize("bias", [False, True])
def test_analyze_record_matches_autodiff(activation, bias):
    weights, biases, x, rng = setup(activation, bias, seed=6)
    init, init_biases, _ = random_network(60, WIDTHS, bias)
    y = rng.standard_normal((SAMPLES, WIDTHS[-1]))
    state = {f"{2 * l}.weight": w for l, w in enumerate(weights)}
    init_state = {f"{2 * l}.weight": w for l, w in enumerate(init)}
    if bias:
        state.update({f"{2 * l}.bias": b for l, b in enumerate(biases)})
        init_state.update({f"{2 * l}.bias": b for l, b in enumerate(init_biases)})
    record = flc.analyze(state, x, labels=y, init=init_state, activation=activation, alpha=0.7)
    assert record["schema"] == 1 and record["samples"] == SAMPLES
    assert record["widths"] == WIDTHS and record["bias"] == bias
    want_g = oracle.agop(weights, biases, activation, x)
    want_k = oracle.ptk(weights, biases, activation, x)
    for l, layer in enumerate(record["layers"]):
        assert layer["tensor"] == f"{2 * l}.weight"
        assert layer["bias_tensor"] == (f"{2 * l}.bias" if bias else None)
        w = weights[l]
        assert oracle.relative(layer["nfm"], w.T @ w) <= RTOL
        assert oracle.relative(layer["agop"], want_g[l]) <= RTOL
        assert oracle.relative(layer["ptk"], want_k[l]) <= RTOL
        assert layer["agop_agreement"] <= RTOL
        nfa = {(v["similarity"], v["alpha"]): v["value"] for v in layer["nfa"]}
        for convention in flc.SIMILARITIES:
            for label, alpha in (("1", 1.0), ("1/2", 0.5), ("0.7", 0.7)):
                want = oracle.similarity(w.T @ w, oracle.psd_power(want_g[l], alpha), convention)
                assert abs(nfa[(convention, label)] - want) <= RTOL * max(1, abs(want))
        uc = {v["similarity"]: v["value"] for v in layer["uc_nfa"]}
        dw = w - init[l]
        c = {v["similarity"]: v["value"] for v in layer["c_nfa"]}
        for convention in flc.SIMILARITIES:
            want = oracle.similarity(w.T @ want_k[l] @ w, w.T @ w, convention)
            assert abs(uc[convention] - want) <= RTOL * max(1, abs(want))
            want = oracle.similarity(dw.T @ want_k[l] @ dw, dw.T @ dw, convention)
            assert abs(c[convention] - want) <= RTOL * max(1, abs(want))
    kernels = oracle.ntk(weights, biases, activation, x)
    stats = record["ntk"]
    for c in range(WIDTHS[-1]):
        want = oracle.kernel_target_alignment(kernels[c], y[:, c])
        assert abs(stats["alignment"][c] - want) <= RTOL
        want = oracle.kernel_target_alignment(kernels[c], y[:, c], centered=True)
        assert abs(stats["centered_alignment"][c] - want) <= RTOL
        assert abs(stats["kernel_norm"][c] / np.linalg.norm(kernels[c]) - 1) <= RTOL
        for c2 in range(WIDTHS[-1]):
            want = oracle.kernel_target_alignment(kernels[c], y[:, c2])
            assert abs(stats["specialisation"]["matrix"][c][c2] - want) <= RTOL
            want = oracle.kernel_alignment(kernels[c], kernels[c2])
            assert abs(stats["kernel_alignment"]["matrix"][c][c2] - want) <= RTOL
