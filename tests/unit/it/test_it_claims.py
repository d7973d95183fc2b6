"""The claims table (Nayebi et al. 2018) on summaries whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from insilico.it.claims import paper_claims

STARTS = np.arange(70, 260, 10)


def _summary(best, best_layer, curves):
    """A minimal summary: best scores (model, state, seed, region), layers, per-bin curves."""
    dims = ("model", "state", "seed", "region")
    return xr.Dataset(
        {
            "best_score": (dims, best),
            "best_layer": (dims, best_layer),
            "best_score_t": ((*dims, "time_bin"), curves),
            "ceiling": ("region", [0.9, 0.8]),
        },
        coords={
            "model": ["cnn", "convrnn"],
            "state": ["trained", "untrained"],
            "seed": [0, 1],
            "region": ["V4", "IT"],
            "layer": ["conv1", "conv2", "conv3", "avgpool"],
            "time_bin_start": ("time_bin", STARTS),
        },
        attrs={"window_start_ms": 70},
    )


def _claims():
    best = np.zeros((2, 2, 2, 2))
    best[:, 0] = [[0.6, 0.5], [0.64, 0.54]]  # trained: V4, IT per seed (both models)
    best[:, 1] = [[0.3, 0.2], [0.3, 0.2]]  # untrained
    layers = np.empty((2, 2, 2, 2), dtype=object)
    layers[..., 0], layers[..., 1] = "conv2", "avgpool"
    curves = np.ones((2, 2, 2, 2, len(STARTS)))
    curves[0, :, :, :, STARTS >= 170] = 0.5  # the CNN halves late, the ConvRNN holds
    return paper_claims(_summary(best, layers, curves), late_start_ms=170).set_index(
        ["claim", "model", "region"]
    )


def test_trained_minus_untrained_is_paired_over_seeds():
    claims = _claims()
    row = claims.loc[("trained_minus_untrained", "cnn", "IT")]
    assert row["value"] == pytest.approx(0.32)  # (0.3 + 0.34) / 2
    assert row["sem"] == pytest.approx(0.02)  # std of (0.3, 0.34) over sqrt(2)
    assert row["holds"] and row["n_seeds"] == 2


def test_layer_order_ceiling_fraction_and_late_bins():
    claims = _claims()
    assert claims.loc[("v4_layer_before_it", "cnn", "V4-IT"), "value"] == -2  # conv2 vs avgpool
    assert claims.loc[("v4_layer_before_it", "cnn", "V4-IT"), "holds"]
    fraction = claims.xs("fraction_of_ceiling", level="claim")
    assert fraction.loc[(slice(None), "IT"), "value"].item() == pytest.approx(0.52 / 0.8)
    assert fraction.loc[(slice(None), "IT"), "holds"].item()  # 0.65 >= 0.6
    assert claims.loc[("late_over_peak", "cnn", "IT"), "value"] == pytest.approx(0.5)
    assert claims.loc[("late_over_peak", "convrnn", "IT"), "value"] == pytest.approx(1.0)
    late = claims.loc[("late_convrnn_minus_cnn", "convrnn-cnn", "IT")]
    assert late["value"] == pytest.approx(0.5) and late["holds"]
