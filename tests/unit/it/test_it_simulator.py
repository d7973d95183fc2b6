"""The synthetic HvM-like experiment: determinism, design, ground truth, files in Brain-Score format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from insilico.core.io import load_torch, read_netcdf, save_torch
from insilico.it import brain as hidden
from insilico.it import experiment as it_experiment
from insilico.it import simulator as it_sim
from insilico.it.assembly import read_assembly, read_stimulus_set
from insilico.it.protocol.ceiling import ceilings, neural_targets

pytestmark = pytest.mark.usefixtures("one_torch_thread")


PARAMS = {
    "seed": 0,
    "image_size": 16,
    "n_categories": 3,
    "objects_per_category": 2,
    "variations": [0, 3, 6],
    "images_per_object": 2,
    "hard_images_per_object": 1,
    "repetitions": 6,
    "v4_neuroids": 5,
    "it_neuroids": 5,
    "brain_resolution": 16,
    "brain": {
        "width": 4,
        "it_units": 8,
        "iterations": 3,
        "iteration_ms": 25,
        "train_images": 60,
        "steps": 3,
        "batch_size": 16,
        "learning_rate": 0.01,
    },
    "baseline_hz": [2, 12],
    "peak_hz": [60, 160],
    "fano_factor": [1.0, 1.5],
    "image_on_ms": 100,
    "time_bins_ms": [70, 260],
    "window_ms": [70, 170],
}


N_STIMULI = 3 * 2 * (3 * 2 + 4)  # objects x (clean levels x images + hard kinds)


@pytest.fixture(scope="module")
def network():
    return hidden.train_hidden_network(PARAMS)


@pytest.fixture(scope="module")
def brain(network):
    return hidden.GroundTruthBrain(PARAMS, seed=0, checkpoint=network)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, network):
    folder = tmp_path_factory.mktemp("it")
    paths = {
        "assembly_path": folder / "assembly.nc",
        "temporal_path": folder / "temporal.nc",
        "csv_path": folder / "stimuli.csv",
        "zip_path": folder / "stimuli.zip",
        "groundtruth_path": folder / "groundtruth.nc",
    }
    network_path = folder / "network.pt"
    save_torch(network, network_path)
    summary = it_experiment.simulate_experiment(PARAMS, 0, **paths, network_path=network_path)
    return paths, summary


def test_design_and_rendering_are_deterministic_and_varied():
    objects = it_sim.make_objects(3, 2, seed=0)
    design = it_sim.stimulus_design(objects, [0, 3, 6], 2, seed=0, stream="hvm")
    assert len(design) == 3 * 6 * 2 and design["stimulus_id"].is_unique
    canonical = design[design["variation"] == 0]
    assert (canonical[["ty", "tz", "rxy", "rxz", "ryz"]].abs().to_numpy() == 0).all()
    assert (canonical["s"] == 1).all()
    spread = design.groupby("variation")["ty"].apply(lambda v: v.abs().max())
    assert spread[0] == 0 < spread[3] < spread[6]
    images = it_sim.render_design(objects, design, 16, seed=0, stream="hvm")
    again = it_sim.render_design(objects, design, 16, seed=0, stream="hvm")
    assert images.dtype == np.uint8 and images.shape == (36, 16, 16)
    np.testing.assert_array_equal(images, again)
    other = it_sim.render_design(objects, design, 16, seed=1, stream="hvm")
    assert not np.array_equal(images, other)  # other backgrounds


def test_hard_images_differ_from_their_clean_twins_only_where_the_kind_says():
    """Same object, pose and background: occluders, clutter and low contrast change the pixels."""
    objects = it_sim.make_objects(3, 2, seed=0)
    design = it_sim.stimulus_design(objects, [3], 1, seed=0, stream="hvm", hard_images_per_object=1)
    counts = design["image_kind"].value_counts()
    assert counts.to_dict() == {kind: 6 for kind in it_sim.IMAGE_KINDS}
    unusual = design[design["image_kind"] == "unusual_pose"]
    assert (unusual[["rxz", "ryz"]].abs().to_numpy() >= 60).all()
    clean = design[design["image_kind"] == "clean"].reset_index(drop=True)
    rng = lambda: np.random.default_rng(0)  # noqa: E731 - the same backgrounds for every kind
    poses = {key: clean[key].to_numpy() for key in ("ty", "tz", "s", "rxy", "rxz", "ryz")}
    index = clean["object_index"].to_numpy()
    base = it_sim.render(objects, index, poses, 32, rng()).astype(float)
    for kind in ("occluded", "cluttered", "low_contrast"):
        hard = it_sim.render(objects, index, poses, 32, rng(), np.full(6, kind)).astype(float)
        assert np.abs(hard - base).mean() > 2, kind  # grey levels
    low = it_sim.render(objects, index, poses, 32, rng(), np.full(6, "low_contrast")).astype(float)
    centre = slice(12, 20)
    assert (
        np.abs(low[:, centre, centre] - 127.5).mean()
        < np.abs(base[:, centre, centre] - 127.5).mean()
    )


def test_hidden_network_training_is_deterministic(network):
    again = hidden.train_hidden_network(PARAMS)
    for name, value in network["state"].items():
        torch.testing.assert_close(again["state"][name], value, rtol=0, atol=0)
    assert network["settings"] == hidden.network_settings(PARAMS)
    assert len(network["accuracy"]["clean"]) == PARAMS["brain"]["iterations"] + 1


def test_brain_refuses_a_network_trained_for_other_settings(network):
    other = {**PARAMS, "brain": {**PARAMS["brain"], "steps": 4}}
    with pytest.raises(ValueError, match="other settings"):
        hidden.GroundTruthBrain(other, seed=0, checkpoint=network)


def test_brain_responses_are_a_fixed_function_of_each_image(brain):
    """Image computability: drives take pixels only; batching and order change nothing."""
    images, _, _ = it_sim.task_images(PARAMS, 0, 70, "probe")
    whole = brain.drives(images)
    assert whole.shape == (70, PARAMS["brain"]["iterations"] + 1, 10)
    parts = np.concatenate([brain.drives(images[i : i + 7]) for i in range(0, 70, 7)])
    np.testing.assert_allclose(whole, parts, rtol=1e-5, atol=1e-6)
    order = np.random.default_rng(0).permutation(70)
    np.testing.assert_allclose(brain.drives(images[order]), whole[order], rtol=1e-5, atol=1e-6)
    assert (whole >= 0).all() and whole.max() > 0.5  # rectified, calibrated to about 0..1


def test_late_bins_read_late_iterations(brain):
    """Before latency + one iteration only the feedforward sweep drives a site; after latency +
    all iterations only the settled state does."""
    starts = np.arange(0, 260, 10)
    weights = hidden._iteration_weights(starts, brain.latency, 25.0, 3)  # (n, bins, 4)
    np.testing.assert_allclose(weights.sum(-1), 1.0)
    early = starts[None, :] + 10 <= brain.latency[:, None]
    assert (weights[..., 0][early] == 1).all()
    late = starts[None, :] >= brain.latency[:, None] + 75
    assert (weights[..., 3][late] == 1).all()


def test_v4_responds_before_it(brain):
    starts = np.arange(0, 260, 10)
    course = hidden.time_course(starts, brain.latency, PARAMS["image_on_ms"])
    onset = (course > 0.2).argmax(axis=1) * 10
    assert onset[brain.region == "V4"].max() < onset[brain.region == "IT"].min()
    assert (course[:, starts < 50] == 0).all()  # nothing before the latencies


def test_the_same_images_give_the_same_assembly(experiment, network, tmp_path):
    """The whole experiment from the cached network, twice: identical files and ground truth."""
    paths, _ = experiment
    again = {key: tmp_path / value.name for key, value in paths.items()}
    network_path = tmp_path / "network.pt"
    save_torch(network, network_path)
    it_experiment.simulate_experiment(PARAMS, 0, **again, network_path=network_path)
    for key in ("assembly_path", "temporal_path"):
        np.testing.assert_array_equal(
            read_assembly(paths[key]).values, read_assembly(again[key]).values
        )
    truth, truth_again = (
        read_netcdf(paths["groundtruth_path"]),
        read_netcdf(again["groundtruth_path"]),
    )
    np.testing.assert_array_equal(truth["rate"].values, truth_again["rate"].values)
    assert load_torch(network_path)["settings"] == network["settings"]


def test_spike_counts_have_the_neuroids_fano_factor():
    rng = np.random.default_rng(0)
    rates = np.full((1, 2, 4000), 200.0)  # 2 spikes per 10 ms bin on average
    counts = (
        it_experiment.spike_rates(rates, np.array([1.0, 1.5]), 1, rng)[0, 0] / 100.0
    )  # (2, 4000)
    assert counts.mean() == pytest.approx(2.0, rel=0.05)
    np.testing.assert_allclose(counts.var(axis=1) / counts.mean(axis=1), [1.0, 1.5], atol=0.1)


def test_task_images_are_disjoint_from_the_stimulus_set(experiment):
    paths, _ = experiment
    stimuli = read_stimulus_set(paths["csv_path"], paths["zip_path"])
    task = it_sim.task_image_set(PARAMS, n_train=40, n_test=10, seed=1, size=16)
    flat = {image.tobytes() for image in stimuli.images}
    assert not any(image.tobytes() in flat for image in task["train_images"].values)
    assert set(np.unique(task["train_labels"].values)) <= set(range(PARAMS["n_categories"]))


def test_experiment_files_follow_the_brain_score_format(experiment):
    paths, summary = experiment
    temporal = read_assembly(paths["temporal_path"])
    averaged = read_assembly(paths["assembly_path"])
    assert temporal.sizes == {"presentation": N_STIMULI * 6, "neuroid": 10, "time_bin": 19}
    assert averaged.sizes["time_bin"] == 1
    assert averaged["time_bin_start"].values.tolist() == [70]
    assert averaged["time_bin_end"].values.tolist() == [170]
    assert set(temporal["region"].values) == {"V4", "IT"}
    assert temporal.attrs["stimulus_set_identifier"] == it_experiment.STIMULUS_SET_IDENTIFIER
    # the averaged assembly is the mean of the temporal one over the 70-170 ms bins
    window = temporal.isel(time_bin=slice(0, 10)).mean("time_bin")
    np.testing.assert_allclose(averaged.values[:, :, 0], window.values, rtol=1e-5)
    stimuli = read_stimulus_set(paths["csv_path"], paths["zip_path"])
    assert set(stimuli.stimulus_ids) == set(temporal["stimulus_id"].values)
    assert {"object_name", "category_name", "variation", "image_kind", "ty", "tz", "s"} <= set(
        stimuli.metadata
    )
    assert summary["n_stimuli"] == N_STIMULI


def test_estimated_ceiling_is_close_to_the_true_reliability(experiment):
    paths, _ = experiment
    neural = neural_targets(
        assembly_path=paths["assembly_path"],
        temporal_path=paths["temporal_path"],
        csv_path=paths["csv_path"],
        n_splits=10,
        seed=0,
        groundtruth_path=paths["groundtruth_path"],
    )
    result = ceilings(neural)
    assert ((result["ceiling"] > 0) & (result["ceiling"] < 1)).all()
    np.testing.assert_allclose(result["ceiling"], result["true_ceiling"], atol=0.15)


def test_without_a_temporal_assembly_the_time_averaged_targets_are_unchanged(experiment):
    """Many users have only the time-averaged assembly: the window analyses run on it alone."""
    paths, _ = experiment
    common = {"assembly_path": paths["assembly_path"], "csv_path": paths["csv_path"]}
    both = neural_targets(temporal_path=paths["temporal_path"], n_splits=4, seed=0, **common)
    alone = neural_targets(temporal_path=None, n_splits=4, seed=0, **common)
    assert alone.sizes["time_bin"] == 0 and both.sizes["time_bin"] > 0
    assert "no temporal assembly" in alone.attrs["temporal_missing"]
    assert "temporal_missing" not in both.attrs
    np.testing.assert_array_equal(alone["rates_window"], both["rates_window"])
    np.testing.assert_array_equal(alone["consistency_window"], both["consistency_window"])
    np.testing.assert_array_equal(ceilings(alone)["ceiling"], ceilings(both)["ceiling"])
    assert ceilings(alone)["ceiling_t"].shape == (0, 2)


def test_a_killed_hidden_network_training_resumes_to_the_same_network(tmp_path, monkeypatch):
    """Killed at step 120 of 150 (checkpoints every 100 steps), the hidden network resumes from
    step 100 with its weights, Adam and its numpy batch stream, to the same network."""
    params = {**PARAMS, "brain": {**PARAMS["brain"], "steps": 150}}
    reference = hidden.train_hidden_network(params)  # in memory: no checkpoint
    per_step = params["brain"]["iterations"] + 1  # one head loss per iteration
    real, calls = hidden._head_loss, []

    def counted(*args, kill_at=None):
        calls.append(1)
        if len(calls) == kill_at:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(hidden, "_head_loss", lambda *a: counted(*a, kill_at=120 * per_step))
    with pytest.raises(KeyboardInterrupt):
        hidden.train_hidden_network(params, tmp_path / "checkpoint.pt")
    calls.clear()
    monkeypatch.setattr(hidden, "_head_loss", lambda *a: counted(*a))
    resumed = hidden.train_hidden_network(params, tmp_path / "checkpoint.pt")
    assert len(calls) == 50 * per_step  # steps 101 to 150: it resumed from step 100
    for name, value in reference["state"].items():
        assert torch.equal(resumed["state"][name], value), name
    assert resumed["accuracy"] == reference["accuracy"]
    assert not (tmp_path / "checkpoint.pt").exists()
