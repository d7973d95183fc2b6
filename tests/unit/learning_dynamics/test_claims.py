"""Claims that can fail: known answers at a small scale, and negative controls that must not pass."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.core.config import ConfigError
from insilico.learning_dynamics import claims as cl
from insilico.learning_dynamics import semantic
from insilico.learning_dynamics.config import check_config

DECOUPLED = {
    "seeds": 3,
    "modes": 2,
    "dim": 4,
    "values": [1.0, 2.5],
    "s0": 0.01,
    "hidden": 4,
    "depths": [2],
    "horizons": [6],
    "lrs": [0.004],
    "points": 30,
}
TREE = {
    "depth": 2,
    "branching": [3, 4],
    "features": 60,
    "flip": 0.15,
    "top_value": 2.0,
    "seeds": 4,
    "hidden": 32,
    "scale": 0.01,
    "lr": 0.05,
    "horizon": 12,
    "points": 30,
    "groups": 3,
}
HIERARCHY = {
    "levels": 3,
    "seeds": 3,
    "hidden": 16,
    "scale": 0.01,
    "lr": 0.05,
    "horizon": 30,
    "points": 60,
    "groups": 4,
}


def _by_claim(rows):
    return {r["claim"]: r for r in rows}


def test_decoupled_claim_passes_for_the_simulation_and_fails_when_it_is_shifted():
    ds = semantic.decoupled(DECOUPLED, 0)
    assert cl.decoupled_rows(ds, 0.01)[0]["verdict"] == "reproduced"
    shifted = ds.copy()
    shifted["simulation"] = ds.simulation.shift(frac=3).fillna(0)  # learnt later than s(t)
    assert cl.decoupled_rows(shifted, 0.01)[0]["verdict"] == "not reproduced"


def test_hierarchy_claims_at_a_small_scale():
    rows = _by_claim(
        cl.hierarchy_rows(
            semantic.hierarchy(HIERARCHY, 0),
            {
                "random_start": 0.1,
                "similarity": 0.1,
            },
        )
    )
    for claim in (
        "progressive_differentiation",
        "illusory_correlation",
        "hidden_similarity_over_time",
    ):
        assert rows[claim]["verdict"] == "reproduced", claim


def test_typicality_is_found_and_a_shuffled_readout_is_not():
    ds = semantic.random_tree(TREE, 0)
    rows = _by_claim(cl.random_tree_rows(ds, {"random_start": 0.1}))
    assert rows["typicality"]["verdict"] == "reproduced"
    rng = np.random.default_rng(0)
    shuffled = ds.copy()
    shuffled["map"] = ds["map"].isel(item=rng.permutation(ds.sizes["item"]))
    control = _by_claim(cl.random_tree_rows(shuffled, {"random_start": 0.1}))["typicality"]
    assert control["verdict"] != "reproduced" and control["value"] < 0.2


def test_config_checks_name_the_key():
    config = {
        "learning_dynamics": {
            "decoupled": {**DECOUPLED, "depths": [2, 3]},
            "hierarchy": HIERARCHY,
            "teacher": {"n": 10, "ranks": [1], "width_rank": 1, "alignments": [0.0, 1.0]},
        }
    }
    with pytest.raises(ConfigError, match="learning_dynamics.decoupled.horizons"):
        check_config(config)
    config["learning_dynamics"]["decoupled"]["depths"] = [2]
    config["learning_dynamics"]["teacher"]["alignments"] = [1.0, 0.0]
    with pytest.raises(ConfigError, match="learning_dynamics.teacher.alignments"):
        check_config(config)
