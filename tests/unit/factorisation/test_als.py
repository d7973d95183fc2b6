"""Our ALS wrapper is tensorly's parafac, and it works on a clean problem."""

import numpy as np
import tensorly as tl
from tensorly.decomposition import parafac

from insilico.factorisation.als import als, parafac_once
from insilico.factorisation.planted import matched_overlaps, planted_tensor, tensor_mse
from insilico.factorisation.priors import Prior


def test_wrapper_equals_tensorly():
    rng = np.random.default_rng(0)
    y, _ = planted_tensor(rng, 20, (1, 1, 1), 2, 10.0, Prior("gaussian"))
    weights, factors = parafac_once(y[0], 2, seed=7, n_iter_max=50)
    ref = parafac(tl.tensor(y[0]), rank=2, init="random", random_state=7, n_iter_max=50, tol=1e-8)
    np.testing.assert_array_equal(weights, ref.weights)
    for ours, theirs in zip(factors, ref.factors, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_best_of_inits_recovers_a_clean_plant_at_the_right_scale():
    rng = np.random.default_rng(1)
    y, truth = planted_tensor(rng, 30, (1, 1, 1), 2, 400.0, Prior("gaussian"), trials=2)
    est = als(y, 400.0, 30, rank=2, n_init=3, seed=0)
    _, cosine = matched_overlaps(est, truth)
    assert cosine.min() > 0.98
    assert tensor_mse(est, truth).max() < 0.05
