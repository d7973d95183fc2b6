"""Small synthetic IT-branch files for the geometry tests: known structure, seconds to analyse."""

import numpy as np
import pytest
import xarray as xr

N_OBJECTS, N_CATEGORIES, IMAGES = 12, 3, 8


def _labels():
    objects = np.repeat([f"obj{i:02d}" for i in range(N_OBJECTS)], IMAGES)
    categories = np.repeat(
        [f"cat{i}" for i in range(N_CATEGORIES)], IMAGES * N_OBJECTS // N_CATEGORIES
    )
    return objects, categories


@pytest.fixture(scope="session")
def fake_layers():
    """Two activation datasets: ``clustered`` (tight object clouds) and ``noise`` (no objects)."""
    rng = np.random.default_rng(0)
    objects, categories = _labels()
    n = len(objects)
    centres = rng.standard_normal((N_OBJECTS, 40))
    clustered = np.repeat(centres, IMAGES, axis=0) + 0.3 * rng.standard_normal((n, 40))
    noise = rng.standard_normal((n, 40))

    def dataset(values, temporal):
        steps = 3 if temporal else 1
        stacked = np.repeat(values[:, None], steps, axis=1) if temporal else values[:, None]
        if temporal:
            stacked[:, 0] = 0.0  # the image has not reached the layer yet
        return xr.Dataset(
            {"activations": (("stimulus", "time_step", "feature"), stacked)},
            coords={
                "stimulus_id": ("stimulus", [f"s{i:03d}" for i in range(n)]),
                "object_name": ("stimulus", objects),
                "category_name": ("stimulus", categories),
                "time_step": np.arange(steps),
                "step_start_ms": (
                    "time_step",
                    70 + 10 * np.arange(steps) - (10 if temporal else 0),
                ),
            },
            attrs={"temporal": int(temporal)},
        )

    return {
        "clustered": dataset(clustered, False),
        "noise": dataset(noise, False),
        "clustered_temporal": dataset(clustered, True),
        "features": clustered,
    }


@pytest.fixture(scope="session")
def fake_neural(fake_layers):
    """Recordings: V4 and IT linear in the clustered layer's features, plus noise."""
    rng = np.random.default_rng(1)
    objects, categories = _labels()
    features = fake_layers["features"]
    rates = np.column_stack(
        [features @ rng.standard_normal((40, 6)), features[:, :20] @ rng.standard_normal((20, 6))]
    )
    rates += 0.5 * rng.standard_normal(rates.shape)
    ids = [f"s{i:03d}" for i in range(len(objects))]
    return xr.Dataset(
        {"rates_window": (("stimulus", "neuroid"), rates)},
        coords={
            "stimulus_id": ("stimulus", ids),
            "object_name": ("stimulus", objects),
            "category_name": ("stimulus", categories),
            "region": ("neuroid", ["V4"] * 6 + ["IT"] * 6),
        },
        attrs={"window_start_ms": 70, "window_end_ms": 170},
    ).isel(stimulus=rng.permutation(len(ids)))  # another stimulus order than the activations
