"""Convolutive NMF: the operators, exactness of HALS, monotone objective, planted recovery."""

import numpy as np
import pytest
from scipy.optimize import nnls

from insilico.factorisation import cnmf


def test_transpose_conv_is_the_adjoint():
    rng = np.random.default_rng(0)
    w, h, r = rng.random((7, 3, 4)), rng.random((3, 30)), rng.random((7, 30))
    assert np.sum(cnmf.reconstruct(w, h) * r) == pytest.approx(
        np.sum(h * cnmf.transpose_conv(w, r))
    )
    flat = w.reshape(7, 12) @ cnmf.shifted_stack(h, 4)
    np.testing.assert_allclose(flat, cnmf.reconstruct(w, h))


def test_hals_h_sweeps_converge_to_the_exact_nnls_solution():
    rng = np.random.default_rng(0)
    x, _, _ = cnmf.planted_sequences(rng, 10, 2, 3, 20, rate=0.2)
    w, h = cnmf.initialise(x, 2, 3, seed=1)
    columns = []
    for k in range(2):
        for t in range(20):
            e = np.zeros((2, 20))
            e[k, t] = 1
            columns.append(cnmf.reconstruct(w, e).ravel())
    exact = nnls(np.stack(columns, axis=1), x.ravel())[0].reshape(2, 20)
    for _ in range(300):
        h = cnmf._hals_h(x, w, h)
    np.testing.assert_allclose(h, exact, atol=1e-8)


@pytest.fixture(scope="module")
def planted():
    return cnmf.planted_sequences(np.random.default_rng(3), 60, 3, 10, 800, rate=0.02)


@pytest.mark.parametrize("method", ["hals", "mu", "anls"])
def test_objective_never_increases(planted, method):
    x, _, _ = planted
    res = cnmf.fit(x, 3, 10, method, seed=0, max_iter=25, tol=0)
    assert np.all(np.diff(res.losses) <= 1e-12 * res.losses[0])
    assert res.losses[-1] < 0.6 * res.losses[0]


def test_hals_recovers_planted_motifs_up_to_permutation_and_shift(planted):
    x, w_true, h_true = planted
    res = cnmf.fit(x, 3, 10, "hals", seed=0, max_iter=150, tol=1e-6)
    assert res.losses[-1] < 1.1 * cnmf.loss(x, w_true, h_true)
    assert cnmf.motif_similarity(res.w, w_true).min() > 0.9


def test_motif_similarity_ignores_order_and_lag_shift():
    rng = np.random.default_rng(0)
    w = rng.random((20, 3, 8))
    w[:, :, -2:] = 0
    shifted = np.zeros_like(w)
    shifted[:, :, 2:] = w[:, :, :-2]
    np.testing.assert_allclose(cnmf.motif_similarity(shifted[:, ::-1], w), 1.0)


def test_time_to_reach():
    res = cnmf.CNMFResult(None, None, np.array([0.0, 1.0, 2.0]), np.array([1.0, 0.5, 0.2]))
    assert cnmf.time_to_reach(res, 0.5) == 1.0
    assert cnmf.time_to_reach(res, 0.1) == np.inf
