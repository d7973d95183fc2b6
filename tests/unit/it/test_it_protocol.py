"""Brain-Score protocol pieces: batched PLS against scikit-learn, splits, scores, layer choice."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import xarray as xr

from insilico.core import splits
from insilico.core.io import write_netcdf
from insilico.it.claims import NEEDS_TIME, paper_claims
from insilico.it.protocol import ceiling, pls, score

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def latent_data(n, p, q, seed, noise=1.0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4))
    X = z @ rng.normal(size=(4, p)) + 0.5 * rng.normal(size=(n, p))
    Y = z @ rng.normal(size=(4, q)) + noise * rng.normal(size=(n, q))
    return X, Y


@pytest.mark.parametrize(
    ("n", "p", "q", "k"),
    [(120, 30, 6, 10), (90, 200, 12, 25), (100, 8, 20, 8), (80, 40, 1, 25)],
)
def test_batched_pls_matches_sklearn(n, p, q, k):
    sklearn = pytest.importorskip("sklearn.cross_decomposition")
    X, Y = latent_data(n, p, q, seed=n + p + q)
    masks = splits.stratified_shuffle_splits(np.arange(n) % 7, 3, 0.9, seed=0)
    coef, x_mean, y_mean = pls.batched_pls(
        torch.tensor(X[None]), torch.tensor(Y[None]), torch.tensor(masks), k
    )
    for s in range(len(masks)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns on slow power-method convergence
            reference = sklearn.PLSRegression(n_components=k, scale=False).fit(
                X[masks[s]], Y[masks[s]]
            )
        expected = reference.predict(X[~masks[s]]).reshape(-1, q)
        mine = ((torch.tensor(X[~masks[s]]) - x_mean[0, s]) @ coef[0, s] + y_mean[0, s]).numpy()
        np.testing.assert_allclose(mine, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def test_batched_pls_broadcasts_one_feature_set_over_many_targets():
    """A feedforward layer (one X) against several time bins (several Y) equals separate fits."""
    X, Y1 = latent_data(60, 15, 4, seed=1)
    _, Y2 = latent_data(60, 15, 4, seed=2)
    masks = torch.tensor(splits.stratified_shuffle_splits(np.arange(60) % 6, 2, 0.9, seed=3))
    together = pls.batched_pls(torch.tensor(X[None]), torch.tensor(np.stack([Y1, Y2])), masks, 5)[0]
    alone = pls.batched_pls(torch.tensor(X[None]), torch.tensor(Y2[None]), masks, 5)[0]
    torch.testing.assert_close(together[1], alone[0])
    assert together.shape == (2, 2, 15, 4)


def test_stratified_splits_hold_out_every_class_proportionally():
    labels = np.repeat([f"object{i}" for i in range(16)], 12)  # 192 stimuli
    masks = splits.stratified_shuffle_splits(labels, 10, 0.9, seed=0)
    assert masks.shape == (10, 192)
    assert (~masks).sum(1).tolist() == [20] * 10  # ceil(0.1 * 192)
    for split in masks:
        held_out = np.unique(labels[~split], return_counts=True)[1]
        assert held_out.max() <= 2  # 20 test stimuli over 16 objects: 1 or 2 each
    assert len({m.tobytes() for m in masks}) == 10
    np.testing.assert_array_equal(masks, splits.stratified_shuffle_splits(labels, 10, 0.9, seed=0))


def test_cross_validated_r_is_high_for_linear_targets_and_null_for_noise():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 20))
    masks = splits.stratified_shuffle_splits(np.arange(150) % 10, 4, 0.9, seed=0)
    linear = X @ rng.normal(size=(20, 5)) + 0.1 * rng.normal(size=(150, 5))
    r = pls.cross_validated_r(X[None], linear[None], masks)
    assert r.shape == (1, 4, 5) and np.nanmin(r) > 0.95
    noise = rng.normal(size=(150, 5))
    assert abs(np.nanmean(pls.cross_validated_r(X[None], noise[None], masks))) < 0.15


def test_a_silent_layer_scores_zero_and_a_constant_neuroid_stays_undefined():
    """Constant features (a ConvRNN layer after the image goes off) predict nothing: r = 0."""
    rng = np.random.default_rng(5)
    masks = splits.stratified_shuffle_splits(np.arange(60) % 6, 3, 0.75, seed=0)
    silent = np.ones((1, 60, 8))
    targets = np.concatenate([rng.normal(size=(1, 60, 3)), np.full((1, 60, 1), 2.0)], axis=-1)
    r = pls.cross_validated_r(silent, targets, masks)
    assert np.all(r[..., :3] == 0) and np.isnan(r[..., 3]).all()
    features = rng.normal(size=(1, 60, 8))
    assert np.isnan(pls.cross_validated_r(features, targets, masks)[..., 3]).all()


def test_held_out_layer_selection_never_uses_the_split_it_scores():
    per_split = np.array([[0.9, 0.1, 0.1, 0.1], [0.2, 0.3, 0.3, 0.3]])  # layer x split
    chosen, scores = score.select_layer_held_out(per_split)
    # split 0: the other splits prefer layer 1, even though layer 0 is best on split 0 itself
    assert chosen.tolist() == [1, 0, 0, 0]
    np.testing.assert_allclose(scores, [0.2, 0.1, 0.1, 0.1])


def test_ceiled_score_formulas():
    assert ceiling.ceiled_score(0.5, 0.8, "r_over_c") == pytest.approx(0.625)
    assert ceiling.ceiled_score(0.5, 0.8, "r_over_c_squared") == pytest.approx(0.390625)
    assert ceiling.ceiled_score(0.5, 0.8, "r2_over_c") == pytest.approx(0.3125)
    with pytest.raises(ValueError, match="unknown ceiling formula"):
        ceiling.ceiled_score(0.5, 0.8, "r")


def _fake_neural(n_stimuli=60, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_stimuli, 6))
    regions = np.array(["V4"] * 4 + ["IT"] * 4)
    rates = latent @ rng.normal(size=(6, 8))
    per_bin = rates[:, :, None] * np.linspace(0.5, 1.0, 3)[None, None] + 0.3 * rng.normal(
        size=(n_stimuli, 8, 3)
    )
    neural = xr.Dataset(
        {
            "rates_window": (("stimulus", "neuroid"), rates + 0.3 * rng.normal(size=rates.shape)),
            "rates": (("stimulus", "neuroid", "time_bin"), per_bin),
            "consistency_window": (("split", "neuroid"), np.full((3, 8), 0.8)),
            "consistency": (("split", "neuroid", "time_bin"), np.full((3, 8, 3), 0.6)),
        },
        coords={
            "stimulus_id": ("stimulus", [f"s{i}" for i in range(n_stimuli)]),
            "object_name": ("stimulus", [f"o{i % 6}" for i in range(n_stimuli)]),
            "category_name": ("stimulus", [f"c{i % 2}" for i in range(n_stimuli)]),
            "neuroid_id": ("neuroid", [f"n{i}" for i in range(8)]),
            "region": ("neuroid", regions),
            "time_bin_start": ("time_bin", [70, 80, 90]),
            "time_bin_end": ("time_bin", [80, 90, 100]),
        },
        attrs={"window_start_ms": 70, "window_end_ms": 100, "n_repetitions": 4},
    )
    return neural, latent


def _activation_file(path, values, ids, temporal, accuracy):
    steps = np.arange(values.shape[1]) if temporal else np.array([-1])
    dataset = xr.Dataset(
        {"activations": (("stimulus", "time_step", "feature"), values)},
        coords={"stimulus_id": ("stimulus", ids), "time_step": steps},
        attrs={
            "cache_key": "k",
            "temporal": int(temporal),
            "kind": "x",
            "test_accuracy": accuracy,
            "steps_trained": 1,
        },
    )
    write_netcdf(dataset, path)
    return str(path)


def test_score_model_and_summary_on_synthetic_layers(tmp_path):
    neural, latent = _fake_neural()
    ids = neural["stimulus_id"].values
    rng = np.random.default_rng(5)
    good = latent @ rng.normal(size=(6, 12))
    bad = rng.normal(size=(60, 12))
    static = {
        "conv1": _activation_file(tmp_path / "a1.nc", bad[:, None], ids, False, 0.9),
        "conv2": _activation_file(tmp_path / "a2.nc", good[:, None], ids, False, 0.9),
    }
    # a temporal model: 12 steps of 10 ms; informative only from step 8 (80 ms) on
    steps = np.stack([good if t >= 8 else bad for t in range(12)], axis=1)
    temporal = {"conv1": _activation_file(tmp_path / "t1.nc", steps, ids, True, 0.5)}
    scores_static = score.score_model(
        neural, static, n_splits=3, train_fraction=0.9, seed=0, n_components=5
    )
    scores_temporal = score.score_model(
        neural, temporal, n_splits=3, train_fraction=0.9, seed=0, n_components=5
    )
    window = scores_static["score_window"].mean("split")
    assert (
        float(window.sel(layer="conv2", region="IT"))
        > 0.8
        > float(window.sel(layer="conv1", region="IT"))
    )
    per_bin = scores_temporal["score"].mean("split").sel(layer="conv1", region="IT").values
    assert per_bin[0] < 0.5 < per_bin[1]  # bin 70-80 ms sees step 7 (uninformative), 80-90 step 8
    summary, table = score.summarize(
        {("cnn", "trained", 0): scores_static, ("convrnn", "trained", 0): scores_temporal},
        neural,
        "r2_over_c",
    )
    cnn_it = table[(table.model == "cnn") & (table.region == "IT")].iloc[0]
    assert cnn_it.best_layer == "conv2" and cnn_it.layer_choice_agreement == 1.0
    assert cnn_it.ceiling == pytest.approx(0.8)
    assert cnn_it.ceiled_score == pytest.approx(cnn_it.raw_r**2 / 0.8)
    assert summary["best_score_t"].sel(model="cnn", state="trained", seed=0, region="IT").shape == (
        3,
    )
    assert set(summary["region"].values) == {"V4", "IT"}


def test_temporal_fits_can_be_limited_to_the_best_layer(tmp_path):
    neural, latent = _fake_neural()
    ids = neural["stimulus_id"].values
    rng = np.random.default_rng(6)
    files = {
        "conv1": _activation_file(
            tmp_path / "b1.nc", rng.normal(size=(60, 1, 12)), ids, False, 0.9
        ),
        "conv2": _activation_file(
            tmp_path / "b2.nc", (latent @ rng.normal(size=(6, 12)))[:, None], ids, False, 0.9
        ),
    }
    kwargs = dict(n_splits=3, train_fraction=0.9, seed=0, n_components=5)
    every = score.score_model(neural, files, temporal_layers="all", **kwargs)
    best = score.score_model(neural, files, temporal_layers="best", **kwargs)
    assert np.isnan(best["score"].sel(layer="conv1")).all()
    np.testing.assert_array_equal(
        best["score"].sel(layer="conv2"), every["score"].sel(layer="conv2")
    )
    np.testing.assert_array_equal(best["score_window"], every["score_window"])


def test_stratified_splits_refuse_what_brain_score_refuses_and_run_the_default_design():
    """As scikit-learn's StratifiedShuffleSplit: at least one test and one training stimulus per
    object. The old default (6 images x 64 objects) fails; the default (10 x 64) holds one out."""
    objects = [f"object{i:02d}" for i in range(64)]
    with pytest.raises(ValueError, match="at least one per object"):
        splits.stratified_shuffle_splits(np.repeat(objects, 6), 10, 0.9, seed=0)
    masks = splits.stratified_shuffle_splits(np.repeat(objects, 10), 10, 0.9, seed=0)
    labels = np.repeat(objects, 10)
    for split in masks:
        assert sorted(labels[~split]) == objects
    with pytest.raises(ValueError, match="only 1 stimulus"):
        splits.stratified_shuffle_splits(
            np.array(["a", "b", "b", "c", "c"] * 1 + ["b"] * 20), 2, 0.5, 0
        )


def test_r_by_group_separates_predictable_from_unpredictable_images():
    """Targets linear in X for the 'early' images and pure noise for the 'late' ones."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 10))
    groups = np.where(np.arange(200) % 2 == 0, "early", "late")
    Y = X @ rng.normal(size=(10, 3))
    Y[groups == "late"] = rng.normal(size=((groups == "late").sum(), 3)) * Y.std()
    masks = splits.stratified_shuffle_splits(np.arange(200) % 10, 4, 0.8, seed=0)
    r = pls.cross_validated_r_by_group(X[None], Y[None], masks, groups, ("early", "late"), 5)
    assert r.shape == (2, 1, 4, 3)
    assert np.nanmin(r[0]) > 0.8 and abs(np.nanmean(r[1])) < 0.3


def test_without_time_bins_the_static_scores_are_unchanged_and_no_bin_is_fitted(tmp_path):
    neural, latent = _fake_neural()
    averaged_only = neural.isel(time_bin=slice(0, 0))
    ids = neural["stimulus_id"].values
    good = latent @ np.random.default_rng(5).normal(size=(6, 12))
    files = {
        "conv1": _activation_file(
            tmp_path / "t.nc", np.repeat(good[:, None], 12, 1), ids, True, 0.5
        )
    }
    kwargs = {"n_splits": 3, "train_fraction": 0.9, "seed": 0, "n_components": 5}
    full = score.score_model(neural, files, **kwargs)
    alone = score.score_model(averaged_only, files, **kwargs)
    np.testing.assert_array_equal(alone["score_window"], full["score_window"])
    assert alone.sizes["time_bin"] == 0
    runs = {("cnn", "trained", 0): alone, ("convrnn", "trained", 0): alone}
    summary, table = score.summarize(runs, averaged_only, "r2_over_c")
    assert summary.sizes["time_bin"] == 0 and len(table) == 4
    assert np.isfinite(table["raw_r"]).all()
    # issue 31: the claims run on it (no reduction over an empty set of bins)
    claims = paper_claims(summary, late_start_ms=170).set_index("claim")
    assert (claims.loc["convrnn_minus_cnn_late", "verdict"] == NEEDS_TIME).all()
    assert np.isfinite(claims.loc["fraction_of_ceiling", "value"]).all()
