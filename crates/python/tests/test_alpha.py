"""The three estimators of alpha (SPEC 1.2) against matrices whose exponent
is known, against SciPy's bounded minimiser of the same objective on a
real network, and the typed outcomes for an AGOP of rank one."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import feature_learning_checks as flc
import oracle
from conftest import random_network


def commuting_pair(alpha, d=6, seed=0):
    """A full-rank PSD G with spread eigenvalues and F = 3 G^alpha."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    w = np.geomspace(0.05, 20.0, d)
    return 3.0 * (q * w**alpha) @ q.T, (q * w) @ q.T


@pytest.mark.parametrize("alpha", [0.2, 0.5, 1 / 3, 1.3])
@pytest.mark.parametrize("estimator", flc.ESTIMATORS)
def test_a_known_exponent_is_recovered(estimator, alpha):
    f, g = commuting_pair(alpha)
    got = flc.estimate_alpha(f, g, estimator)
    # corr and fit stop when the golden-section bracket is 1e-6 wide; eig is
    # a least-squares slope through exact points (round-off ~1e-12).
    assert abs(got - alpha) <= (1e-12 if estimator == "eig" else 1e-6), got


def test_fit_agrees_with_scipy_on_a_trained_like_pair():
    weights, _, rng = random_network(7, [5, 8, 3], False)
    x = rng.standard_normal((20, 5))
    f = weights[0].T @ weights[0]
    g = oracle.agop(weights, None, "tanh", x)[0]

    def objective(a):
        return oracle.similarity(f, oracle.psd_power(g, a), "relerr_scaled")

    want = minimize_scalar(objective, bounds=(0.02, 2.0), method="bounded", options={"xatol": 1e-10})
    got = flc.estimate_alpha(f, g, "fit")
    # Both minimise the same smooth objective: the package's bracket is 1e-6
    # wide, SciPy's 1e-10; the optimum is interior (not at a bound).
    assert 0.02 < want.x < 2.0
    assert abs(got - want.x) <= 2e-6, (got, want.x)
    # corr with the cosine maximises a different objective, in [0.02, 2].
    corr = flc.estimate_alpha(f, g, "corr", similarity="cosine")
    best = minimize_scalar(
        lambda a: -oracle.similarity(f, oracle.psd_power(g, a), "cosine"),
        bounds=(0.02, 2.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert abs(corr - best.x) <= 2e-6, (corr, best.x)


def test_rank_one_agop_is_unidentifiable_not_a_number():
    v = np.arange(1.0, 5.0)
    g = np.outer(v, v)
    f = np.diag(v)
    for estimator in flc.ESTIMATORS:
        got = flc.estimate_alpha(f, g, estimator)
        assert isinstance(got, flc.Unidentifiable), (estimator, got)
        assert got.rank == 1 and "rank(AGOP) = 1" in got.reason
        assert not got


def test_undefined_values_are_typed():
    z = np.zeros((3, 3))
    got = flc.similarity(z, np.eye(3))
    assert isinstance(got, flc.Undefined) and "zero matrix" in got.reason
    got = flc.similarity(np.eye(3), np.ones((3, 3)), "pearson")
    assert isinstance(got, flc.Undefined) and "constant" in got.reason
    w = np.ones((2, 3))
    got = flc.c_nfa(w, w, np.eye(2))
    assert isinstance(got, flc.Undefined)
    assert isinstance(flc.estimate_alpha(np.eye(3), z), flc.Undefined)
    assert repr(flc.Undefined("x")) == 'Undefined("x")'
    assert flc.Undefined("x") == flc.Undefined("x") != flc.Undefined("y")
