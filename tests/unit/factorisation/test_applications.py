"""Rank selection finds a planted rank; label decoding from factors and CNMF motif purity work
on known cases."""

import numpy as np

from insilico.factorisation import applications as app
from insilico.factorisation import cnmf


def test_heldout_rank_selection_finds_the_planted_rank():
    tensor = app.planted_cp(np.random.default_rng(0), (15, 20, 8), 3, 0.1)
    errors, best = app.select_rank(tensor, [1, 2, 3, 4, 5], seed=0)
    assert best in (3, 4) and errors[2] < 0.5 * errors[1]
    # the held-out error stops falling at the planted rank
    assert errors[3] > 0.9 * errors[2]


def test_cp_factors_decode_labels_planted_in_one_mode():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1, 2], 6)
    cells = np.eye(3)[labels] + 0.05 * rng.random((18, 3))
    tensor = np.einsum("ir,jr,kr->ijk", cells, rng.random((30, 3)), rng.random((4, 3)))
    ds = app.cp_study(tensor, labels, 0, [2, 3, 4], 0, ("cell", "time", "repeat"))
    assert ds.attrs["decoding_accuracy"] == 1.0
    assert ds.attrs["chance"] == 1 / 3


def test_nearest_centroid_is_at_chance_on_noise():
    rng = np.random.default_rng(2)
    acc = app.nearest_centroid_accuracy(rng.standard_normal((200, 3)), rng.integers(0, 4, 200))
    assert acc < 0.4


def test_cnmf_motifs_are_pure_on_planted_sequences_and_independent_of_speed():
    """One label per planted sequence: each motif is one label's; the budget is in iterations,
    so a rerun gives the same motifs however loaded the machine."""
    x, w, _ = cnmf.planted_sequences(np.random.default_rng(3), 30, 3, 8, 600, rate=0.02)
    labels = w.sum(axis=2).argmax(axis=1)
    ds = app.cnmf_study(x, labels, 3, 8, seed=0, max_iter=40)
    assert ds.attrs["purity"] > 0.9
    assert ds.sizes["iteration"] <= 40 + 1
    np.testing.assert_array_equal(ds["w"], app.cnmf_study(x, labels, 3, 8, 0, 40)["w"])
