"""Per-layer geometry and spectral results on synthetic layers whose answer is known."""

import numpy as np
import pytest

from insilico.geometry.layers import (
    WINDOW_STEP,
    GeometryOptions,
    model_dataset,
    neural_dataset,
)

OPTIONS = GeometryOptions(
    n_t=100, sizes=(10, 20), n_reps=4, error_mode_size=20, n_splits=3, train_fraction=0.75
)


@pytest.fixture(scope="module")
def run(fake_layers, fake_neural):
    layers = {"noise": fake_layers["noise"], "clustered": fake_layers["clustered"]}
    return model_dataset(layers, fake_neural, OPTIONS)


def test_object_clusters_have_higher_capacity_than_noise(run):
    capacity = run["capacity"].sel(step=WINDOW_STEP, manifold="object")
    assert float(capacity.sel(layer="clustered")) > 2 * float(capacity.sel(layer="noise"))
    radius = run["radius"].sel(step=WINDOW_STEP, manifold="object")
    assert float(radius.sel(layer="clustered")) < float(radius.sel(layer="noise"))
    assert list(run["depth"].values) == [0, 1]


def test_responses_linear_in_a_layer_are_predicted_from_it_only(run):
    r = run["ridge_r"]
    assert (r.sel(layer="clustered") > 0.8).all()
    assert (np.abs(r.sel(layer="noise")) < 0.3).all()
    theory, empirical = run["theory_error"], run["empirical_error"]
    # 96 clustered (non-Gaussian) stimuli, p / n up to 0.2: the theory is only roughly right here
    np.testing.assert_allclose(
        empirical.sel(layer="clustered"), theory.sel(layer="clustered"), rtol=0.5
    )
    clustered = [theory.sel(layer="clustered"), empirical.sel(layer="clustered")]
    assert all((curve.diff("size") < 0).all() for curve in clustered)
    assert (
        run["error_at_size"].sel(layer="clustered") < run["error_at_size"].sel(layer="noise")
    ).all()


def test_convrnn_steps_without_stimulus_information_are_nan(fake_layers, fake_neural):
    options = GeometryOptions(
        n_t=100,
        sizes=(10,),
        n_reps=2,
        error_mode_size=10,
        n_splits=3,
        steps_every=1,
        train_fraction=0.75,
    )
    run = model_dataset({"c": fake_layers["clustered_temporal"]}, fake_neural, options)
    capacity = run["capacity"].sel(layer="c", manifold="object")
    assert np.isnan(float(capacity.sel(step=0)))
    assert float(capacity.sel(step=WINDOW_STEP)) == pytest.approx(
        float(capacity.sel(step=1)), rel=1e-6
    )


def test_recordings_geometry_per_region(fake_neural):
    neural = neural_dataset(fake_neural, OPTIONS)
    assert list(neural["region"].values) == ["V4", "IT"]
    assert list(neural["n_neuroids"].values) == [6, 6]
    assert (neural["capacity"] > 0).all()
