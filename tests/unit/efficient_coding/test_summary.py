"""The claims table decides each claim from per-seed values, in both directions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.efficient_coding import encoder, summary

BUDGETS = [0.1, 0.2, 0.5]
SEEDS = [0, 1, 2]


def _theory(gain: float, rng) -> xr.Dataset:
    """A theory dataset whose pair beats one type by ``gain`` (plus seed jitter)."""
    one = 0.5 + 0.01 * rng.normal(size=(3, 3))
    ratio = np.array([2.0, 4.0, 8.0])  # fine cells per coarse cell rising with budget
    coarse = np.broadcast_to(8.0, (3, 3))
    tilt = {
        f"tilt_{n}": (("seed", "tilt", "budget"), np.broadcast_to(v, (3, 2, 3)))
        for n, v in (("coarse_stride", 8.0), ("fine_stride", 4.0))
    }
    return xr.Dataset(
        {
            "one_error": (("seed", "budget"), one),
            "two_error": (("seed", "budget"), one - gain * (1 + 0.1 * rng.random((3, 3)))),
            "coarse_stride": (("seed", "budget"), coarse),
            "fine_stride": (("seed", "budget"), coarse / ratio * (1 + 0 * one)),
            **tilt,
            "toy_coarse_stride": (("slope", "budget"), np.full((2, 3), 8.0)),
            "toy_fine_stride": (("slope", "budget"), np.full((2, 3), 2.0)),
        },
        coords={"seed": SEEDS, "budget": BUDGETS, "tilt": [0.0, 1.0], "slope": [1.0, 2.0]},
    )


def _trained(rng, on_off: bool) -> xr.Dataset:
    bump = np.exp(-np.add.outer((np.arange(8) - 4.0) ** 2, (np.arange(8) - 4.0) ** 2) / 3)
    filters = np.zeros((3, 1, 4, 4, 8, 8), dtype=np.float32)
    for s in range(3):
        filters[s, 0, :, 0] = bump * 2  # wide-ish coarse filter
        filters[s, 0, :, 1] = np.roll(bump**2, 1, 0)  # narrower fine filter
        sign = -1 if on_off else 1
        filters[s, 0, 2] = np.stack([bump, sign * bump, bump, sign * bump]) + 0.01 * rng.normal(
            size=(4, 8, 8)
        )
    error = np.stack([[[0.40, 0.38, 0.39, 0.41]]] * 3) + 0.001 * rng.normal(size=(3, 1, 4))
    return xr.Dataset(
        {
            "error": (("seed", "budget", "kind"), error),
            "theory_one": (("seed", "budget"), np.full((3, 1), 0.399)),
            "theory_pair": (("seed", "budget"), np.full((3, 1), 0.379)),
            "filter": (("seed", "budget", "kind", "type", "x", "t"), filters),
        },
        coords={"seed": SEEDS, "budget": [0.2], "kind": list(encoder.KINDS)},
    )


def _verdicts(table: pd.DataFrame) -> dict:
    return dict(zip(table["claim"], table["verdict"], strict=True))


def _find(verdicts: dict, start: str) -> str:
    (verdict,) = [v for claim, v in verdicts.items() if claim.startswith(start)]
    return verdict


def test_claims_follow_the_per_seed_values():
    rng = np.random.default_rng(0)
    verdicts = _verdicts(summary.claims(_theory(0.02, rng), _trained(rng, on_off=True)))
    assert _find(verdicts, "two types beat one at every budget (") == "reproduced"
    assert _find(verdicts, "two types beat one (") == "reproduced"
    assert (
        _find(verdicts, "trained linear encoder within 5 % of water-filling (one") == "reproduced"
    )
    assert _find(verdicts, "type ratio (fine per coarse) rises") == "reproduced"
    assert _find(verdicts, "rectified encoder splits into ON and OFF (") == "reproduced"


def test_claims_fail_when_the_values_go_the_other_way():
    rng = np.random.default_rng(1)
    table = summary.claims(_theory(-0.02, rng), _trained(rng, on_off=False))
    verdicts = _verdicts(table)
    assert _find(verdicts, "two types beat one at every budget (") == "not reproduced"
    assert _find(verdicts, "rectified encoder splits into ON and OFF (") == "not reproduced"
    assert not table["holds"].iloc[0]
