"""The synthetic HvM-like experiment: determinism, design, ground truth, files in Brain-Score format."""

from __future__ import annotations

import numpy as np
import pytest

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
    "repetitions": 6,
    "v4_neuroids": 5,
    "it_neuroids": 5,
    "brain_resolution": 16,
    "it_feature_bank": 6,
    "it_mix": {"features": 0.25, "category": 0.5, "identity": 0.25},
    "baseline_hz": [2, 12],
    "peak_hz": [60, 160],
    "fano_factor": [1.0, 1.5],
    "image_on_ms": 100,
    "time_bins_ms": [70, 260],
    "window_ms": [70, 170],
}


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("it")
    paths = {
        "assembly_path": folder / "assembly.nc",
        "temporal_path": folder / "temporal.nc",
        "csv_path": folder / "stimuli.csv",
        "zip_path": folder / "stimuli.zip",
        "groundtruth_path": folder / "groundtruth.nc",
    }
    summary = it_sim.simulate_experiment(PARAMS, 0, **paths)
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


def test_brain_responses_do_not_depend_on_batching():
    """Drives are a fixed function of each image (normalisation fixed on calibration images)."""
    brain = it_sim.GroundTruthBrain(PARAMS, seed=0)
    images, _, design = it_sim.task_images(PARAMS, 0, 70, "probe")
    design["s"] = design["s"].to_numpy()
    whole = brain.drives(images, design)
    parts = [brain.drives(images[i : i + 7], design.iloc[i : i + 7]) for i in range(0, 70, 7)]
    for key, value in whole.items():
        np.testing.assert_allclose(
            value, np.concatenate([part[key] for part in parts]), rtol=1e-5, atol=1e-6
        )


def test_v4_responds_before_it():
    brain = it_sim.GroundTruthBrain(PARAMS, seed=0)
    starts = np.arange(0, 260, 10)
    course = it_sim._time_course(starts, brain.latency, PARAMS["image_on_ms"])
    onset = (course > 0.2).argmax(axis=1) * 10
    assert onset[brain.region == "V4"].max() < onset[brain.region == "IT"].min()
    assert (course[:, starts < 50] == 0).all()  # nothing before the latencies


def test_spike_counts_have_the_neuroids_fano_factor():
    rng = np.random.default_rng(0)
    rates = np.full((1, 2, 4000), 200.0)  # 2 spikes per 10 ms bin on average
    counts = it_sim.spike_rates(rates, np.array([1.0, 1.5]), 1, rng)[0, 0] / 100.0  # (2, 4000)
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
    assert temporal.sizes == {"presentation": 36 * 6, "neuroid": 10, "time_bin": 19}
    assert averaged.sizes["time_bin"] == 1
    assert averaged["time_bin_start"].values.tolist() == [70]
    assert averaged["time_bin_end"].values.tolist() == [170]
    assert set(temporal["region"].values) == {"V4", "IT"}
    assert temporal.attrs["stimulus_set_identifier"] == it_sim.STIMULUS_SET_IDENTIFIER
    # the averaged assembly is the mean of the temporal one over the 70-170 ms bins
    window = temporal.isel(time_bin=slice(0, 10)).mean("time_bin")
    np.testing.assert_allclose(averaged.values[:, :, 0], window.values, rtol=1e-5)
    stimuli = read_stimulus_set(paths["csv_path"], paths["zip_path"])
    assert set(stimuli.stimulus_ids) == set(temporal["stimulus_id"].values)
    assert {"object_name", "category_name", "variation", "ty", "tz", "s"} <= set(stimuli.metadata)
    assert summary["n_stimuli"] == 36


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
