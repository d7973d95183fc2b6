"""Bottleneck claims: intervals over seeds (networks), never over units."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from insilico.bottleneck.claims import COLUMNS, claims_table

N_BN, D_VVS, STAGES = [1, 4, 16], [0, 2], ["bottleneck", "v1"]


def _measures(n_seeds=4, n_units=16, seed_noise=0.02, orientation_step=0.1, seed=0):
    """Orientedness rising with n_bn by ``orientation_step`` per width (bottleneck), v1 at +0.2;
    centre-surround falling with n_bn; linearity rising with d_vvs; a network-level offset per
    seed (``seed_noise``) shared by its units, and small unit noise."""
    rng = np.random.default_rng(seed)
    shape = (len(N_BN), len(D_VVS), len(STAGES), n_seeds, n_units)
    width = np.arange(len(N_BN))[:, None, None, None, None]
    v1 = np.array([0.0, 0.2])[None, None, :, None, None]
    network = seed_noise * rng.standard_normal(shape[:4])[..., None]
    unit = 0.01 * rng.standard_normal(shape)
    orientedness = 0.2 + orientation_step * width + v1 + network + unit
    centre_surround = 0.5 - orientation_step * width + network + unit
    depth = np.array([0.0, 0.2])[None, :, None, None]
    linearity = 0.3 + depth + seed_noise * rng.standard_normal(shape[:2] + shape[3:])
    dims = ("n_bn", "d_vvs", "stage", "seed", "unit")
    return xr.Dataset(
        {
            "orientedness_gradient": (dims, orientedness),
            "centre_surround_gradient": (dims, centre_surround),
            "linearity": (("n_bn", "d_vvs", "seed", "unit"), linearity),
        },
        coords={"n_bn": N_BN, "d_vvs": D_VVS, "stage": STAGES, "seed": np.arange(n_seeds)},
    )


def test_clear_trends_are_reproduced_with_one_replicate_per_seed():
    table = claims_table(_measures()).set_index(["claim", "model"])
    assert list(table.reset_index().columns[:2]) == COLUMNS[:2]
    assert (table["n"] == 4).all()  # seeds, not 4 x 16 units
    assert (table["verdict"] == "reproduced").all() and table["holds"].all()
    row = table.loc[("narrow bottleneck less oriented than wide", "n_bn 1 vs 16, d_vvs 2")]
    assert row["value"] == pytest.approx(-0.2, abs=0.05)
    linear = table.xs("deeper ventral stream, more linear bottleneck", level="claim")
    assert list(linear.index) == [
        "n_bn 1, d_vvs 0 vs 2",
        "n_bn 4, d_vvs 0 vs 2",
        "n_bn 16, d_vvs 0 vs 2",
    ]


def test_no_trend_is_not_resolved_even_with_many_units():
    """Network-level noise with no effect: pooling 200 units would give a tiny s.e.m.; over
    seeds the interval contains zero."""
    table = claims_table(_measures(n_units=200, seed_noise=0.1, orientation_step=0.0, seed=3))
    width = table[table["claim"].str.contains("wide")]
    assert (width["verdict"] == "not resolved").all() and not width["holds"].any()
    assert (width["ci_low"] < 0).all() and (width["ci_high"] > 0).all()


def test_two_seeds_are_never_enough():
    table = claims_table(_measures(n_seeds=2))
    assert (table["verdict"] == "not resolved").all() and (table["n"] == 2).all()
