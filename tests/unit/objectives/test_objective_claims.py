"""The claims table on constructed measures: a real wave benefit is reproduced, and the shuffled
control takes it away when shuffled waves do as well as waves."""

from __future__ import annotations

import numpy as np
import xarray as xr
import yaml

from insilico.objectives import summary
from insilico.objectives.measures import GEOMETRY, MANIFOLDS

RUNS = ["untrained", "supervised", "simclr", "mmcr", "waves", "shuffled_waves"]
LAYERS = ["conv1", "conv2", "conv3", "conv4", "avgpool"]


def _measures(wave_gain: float, shuffled_gain: float) -> xr.Dataset:
    rng = np.random.default_rng(0)
    shape = (len(RUNS), 3, len(LAYERS))
    invariance = 0.5 + 0.01 * rng.normal(size=shape)
    geometry = 0.1 + 0.001 * rng.normal(size=(*shape, 2, 4))
    invariance[RUNS.index("waves")] += wave_gain
    invariance[RUNS.index("shuffled_waves")] += shuffled_gain
    geometry[RUNS.index("waves"), :, :, 1, 0] += wave_gain
    geometry[RUNS.index("shuffled_waves"), :, :, 1, 0] += shuffled_gain
    return xr.Dataset(
        {
            "probe_accuracy": (("run", "seed", "layer"), 0.3 + 0.01 * rng.normal(size=shape)),
            "invariance": (("run", "seed", "layer"), invariance),
            "geometry": (("run", "seed", "layer", "manifold", "measure"), geometry),
            "pgd_accuracy": (("run", "seed", "epsilon"), np.tile([0.3, 0.1, 0.0], (*shape[:2], 1))),
            "predictivity": (
                ("run", "seed", "layer", "region"),
                0.3 + 0.01 * rng.normal(size=(*shape, 2)),
            ),
        },
        coords={
            "run": RUNS,
            "seed": [0, 1, 2],
            "layer": LAYERS,
            "region": ["V4", "IT"],
            "epsilon": [0.0, 0.01, 0.5],
            "manifold": list(MANIFOLDS),
            "measure": list(GEOMETRY),
        },
        attrs={"chance": 0.125},
    )


def _settings() -> dict:
    import pathlib

    config = pathlib.Path(__file__).resolve().parents[3] / "config.yaml"
    return yaml.safe_load(config.read_text())["objectives"]


def test_wave_benefit_is_reproduced_and_lost_when_shuffled_waves_match_it():
    settings = _settings()
    helped = summary.wave_claims(_measures(0.2, 0.0), settings)
    assert all(
        row["verdict"] == "reproduced"
        for name, (_, row) in helped.items()
        if "shuffled" in name and "classification" not in name
    )
    matched = summary.wave_claims(_measures(0.2, 0.2), settings)
    shuffled = {name: row for name, (_, row) in matched.items() if "over shuffled" in name}
    assert shuffled and all(row["verdict"] != "reproduced" for row in shuffled.values())


def test_design_checks_read_the_wave_statistics():
    settings = _settings()
    waves = xr.Dataset(
        {
            "speed_um_s": ("seed", [150.0, 180.0, 220.0]),
            "interval_s": ("seed", [50.0, 55.0, 70.0]),
            "size_mm2": ("seed", [30.0, 40.0, 50.0]),
        }
    )
    checks = summary.design_checks(_measures(0.0, 0.0), waves, settings)
    verdicts = {name.split(" within")[0]: row["verdict"] for name, (_, row) in checks.items()}
    assert verdicts["design check: wave speed"] == "reproduced"
    assert verdicts["design check: wave size"] == "not reproduced"  # 100 x the measured size
    table = summary.claims(_measures(0.0, 0.0), waves, settings)
    assert {"claim", "model", "value", "ci_low", "ci_high", "n", "verdict"} <= set(table.columns)
