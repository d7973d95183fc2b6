"""Summary table, trends, theory-vs-simulation dataset and the figures' plotted data."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from insilico.geometry import plots, summary
from insilico.geometry.layers import GeometryOptions, model_dataset, neural_dataset
from insilico.geometry.simulation import compare, comparison_dataset
from insilico.geometry.synthetic import sphere_manifolds

OPTIONS = GeometryOptions(
    n_t=60, sizes=(10, 20), n_reps=2, error_mode_size=20, n_splits=3, train_fraction=0.75
)


@pytest.fixture(scope="module")
def collected(fake_layers, fake_neural):
    trained = {"l1": fake_layers["noise"], "l2": fake_layers["clustered"]}
    untrained = {"l1": fake_layers["noise"], "l2": fake_layers["noise"]}
    runs = {
        ("cnn", "trained", 0): model_dataset(trained, fake_neural, OPTIONS),
        ("cnn", "untrained", 0): model_dataset(untrained, fake_neural, OPTIONS),
    }
    geometry = summary.collect(runs)
    scores = xr.Dataset(
        {
            "score": (
                ("model", "state", "seed", "layer", "region"),
                np.array([[[[[0.1, 0.2], [0.6, 0.7]]], [[[0.1, 0.1], [0.1, 0.1]]]]]),
            )
        },
        coords={
            "model": ["cnn"],
            "state": ["trained", "untrained"],
            "seed": [0],
            "layer": ["l1", "l2"],
            "region": ["V4", "IT"],
        },
    )
    neural = neural_dataset(fake_neural, OPTIONS)
    return geometry, neural, summary.table(geometry, neural, scores)


def test_table_rows_and_trends(collected):
    _, _, frame = collected
    assert list(frame["model"]) == ["cnn"] * 4 + ["recording"] * 2
    assert list(frame["layer"][:2]) == ["l1", "l2"]
    assert frame["pls_r_IT"].iloc[1] == 0.7
    trends = summary.trends(frame)
    for manifold in ("object", "category"):  # the clustered layer beats noise
        assert trends[f"trained_minus_untrained_cnn_{manifold}"] > 0


def test_trends_rank_capacity_by_depth_with_seeds_pooled():
    """Two seeds of a model whose capacity rises with depth: rho 1 (row order is not depth)."""
    rows = [
        {
            "model": "cnn",
            "state": state,
            "seed": seed,
            "layer": f"l{depth}",
            "depth": depth,
            "capacity_object": 0.1 * depth + 0.01 * seed + (0.5 if state == "trained" else 0),
            "capacity_category": 0.2,
            "pls_r_IT": 0.1 * depth,
        }
        for state in ("trained", "untrained")
        for seed in (0, 1)
        for depth in range(3)
    ]
    trends = summary.trends(pd.DataFrame(rows))
    assert trends["rise_cnn_object"] == pytest.approx(0.9, abs=0.1)
    assert trends["trained_minus_untrained_cnn_object"] == pytest.approx(0.5)
    assert trends["trained_minus_untrained_cnn_category"] == pytest.approx(0.0)


def test_figures_plot_the_table_values(collected):
    geometry, neural, frame = collected
    fig = plots.layer_geometry(geometry, neural)
    line = fig.axes[0].lines[0]  # capacity, object manifolds, cnn trained
    expected = geometry["capacity"].sel(
        model="cnn", state="trained", seed=0, step=-1, manifold="object"
    )
    np.testing.assert_allclose(line.get_ydata(), expected.sel(layer=["l1", "l2"]).values)
    assert fig.axes[0].get_title() == "object manifolds"
    scatter = plots.capacity_against_predictivity(frame, 0.5, 0.1)
    offsets = np.concatenate([c.get_offsets() for c in scatter.axes[0].collections])
    assert sorted(offsets[:, 1]) == sorted(frame["pls_r_IT"].dropna())
    curves = plots.learning_curves(geometry)
    assert "l2" in curves.axes[0].lines[0].get_label()  # the best ridge layer of the trained run
    modes = plots.error_mode_geometry(geometry)
    assert modes.axes[0].get_ylabel() == "error mode radius"


def test_theory_against_simulation_dataset_and_figure():
    manifolds = sphere_manifolds(300, 24, n_points=10, dim=3, radius=1.5, seed=1)
    comparison = comparison_dataset(
        {"synthetic": compare(manifolds, 100, 10, 10, 0)}, tolerance=0.15
    )
    assert bool(comparison["within_tolerance"].sel(case="synthetic"))
    fig = plots.theory_against_simulation(comparison)
    theory_line = fig.axes[0].lines[1]
    assert theory_line.get_xdata()[0] == pytest.approx(24 / float(comparison["theory_capacity"][0]))
