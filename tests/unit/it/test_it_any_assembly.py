"""Any Brain-Score neural assembly: FreemanZiemba2013-shaped V1/V2 data in each shape Brain-Score
holds (per repetition or averaged, with or without time bins), regions from the data, the
stratification key from the config, and a missing key refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from insilico.it.assembly import (
    DEFAULT_WINDOW_MS,
    AssemblyFormatError,
    read_assembly,
    read_stimulus_metadata,
    read_stimulus_set,
)
from insilico.it.protocol.ceiling import ceilings, neural_targets

SHAPES = {
    "per-repetition, time bins": {"averaged": False, "time_bins": True},
    "per-repetition, no time bins": {"averaged": False, "time_bins": False},
    "averaged, time bins": {"averaged": True, "time_bins": True},
    "averaged, no time bins": {"averaged": True, "time_bins": False},
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_reads_as_presentation_neuroid_time_bin(tmp_path, brainscore_experiment, shape):
    paths = brainscore_experiment(tmp_path, **SHAPES[shape])
    assembly = read_assembly(paths["assembly"])
    assert assembly.dims == ("presentation", "neuroid", "time_bin")
    assert sorted(set(assembly["region"].values)) == ["V1", "V2"]
    n_stimuli = 60
    repetitions = 1 if SHAPES[shape]["averaged"] else 4
    assert assembly.sizes["presentation"] == n_stimuli * repetitions
    assert (assembly.attrs.get("averaged_repetitions") == "true") == SHAPES[shape]["averaged"]
    if SHAPES[shape]["time_bins"]:
        assert assembly.sizes["time_bin"] == 25
    else:  # the squeezed file's scalar bin coordinates give its one bin
        assert list(assembly["time_bin_start"].values) == [50]
        assert list(assembly["time_bin_end"].values) == [200]
        assert "time_window_assumed" not in assembly.attrs


def test_an_assembly_without_any_time_information_gets_the_default_window(tmp_path):
    assembly = xr.DataArray(
        np.ones((4, 2)),
        dims=("presentation", "neuroid"),
        coords={
            "stimulus_id": ("presentation", ["a", "b", "c", "d"]),
            "neuroid_id": ("neuroid", ["n0", "n1"]),
            "region": ("neuroid", ["V1", "V2"]),
        },
    )
    path = tmp_path / "bare.nc"
    assembly.to_netcdf(path, engine="h5netcdf")
    back = read_assembly(path)
    assert back.shape == (4, 2, 1)
    assert list(back["repetition"].values) == [0, 0, 0, 0]
    assert (int(back["time_bin_start"][0]), int(back["time_bin_end"][0])) == DEFAULT_WINDOW_MS
    assert back.attrs["time_window_assumed"] == "70-170 ms"


def test_repeated_stimuli_without_repetition_are_still_refused(tmp_path):
    assembly = xr.DataArray(
        np.ones((4, 2, 1)),
        dims=("presentation", "neuroid", "time_bin"),
        coords={
            "stimulus_id": ("presentation", ["a", "a", "b", "b"]),
            "neuroid_id": ("neuroid", ["n0", "n1"]),
            "region": ("neuroid", ["V1", "V2"]),
            "time_bin_start": ("time_bin", [50]),
            "time_bin_end": ("time_bin", [200]),
        },
    )
    path = tmp_path / "norep.nc"
    assembly.to_netcdf(path, engine="h5netcdf")
    with pytest.raises(AssemblyFormatError, match=r"lacks coordinate\(s\) \['repetition'\]"):
        read_assembly(path)


def test_stratification_labels_come_from_the_configured_column(tmp_path, brainscore_experiment):
    paths = brainscore_experiment(tmp_path)
    table = read_stimulus_metadata(paths["stimuli_csv"], stratify_by="texture_type")
    assert set(table["object_name"]) == {"texture", "noise"}
    assert (table["category_name"] == table["object_name"]).all()
    stimuli = read_stimulus_set(paths["stimuli_csv"], paths["stimuli_zip"], 8, "texture_family")
    assert stimuli.images.shape == (60, 8, 8)
    assert sorted(set(stimuli.metadata["object_name"])) == ["0", "1", "2", "3", "4"]


def test_a_missing_stratification_column_fails_in_one_line_naming_file_and_key(
    tmp_path, brainscore_experiment
):
    paths = brainscore_experiment(tmp_path)
    with pytest.raises(AssemblyFormatError) as error:
        read_stimulus_metadata(paths["stimuli_csv"])  # MajajHong's default: object_name
    message = str(error.value)
    assert "\n" not in message
    assert str(paths["stimuli_csv"]) in message and "'object_name'" in message
    assert "texture_type" in message  # the columns it has


@pytest.mark.parametrize("shape", SHAPES)
def test_neural_targets_score_the_regions_the_data_hold(tmp_path, brainscore_experiment, shape):
    paths = brainscore_experiment(tmp_path, **SHAPES[shape])
    neural = neural_targets(
        assembly_path=paths["assembly"],
        temporal_path=paths["assembly"] if SHAPES[shape]["time_bins"] else None,
        csv_path=paths["stimuli_csv"],
        n_splits=4,
        seed=0,
        stratify_by="texture_type",
        window_ms=[50, 200],
    )
    assert neural.sizes["stimulus"] == 60 and neural.sizes["neuroid"] == 16
    assert (neural.attrs["window_start_ms"], neural.attrs["window_end_ms"]) == (50, 200)
    assert neural.attrs["stratify_by"] == "texture_type"
    assert set(neural["object_name"].values) == {"texture", "noise"}
    ceiling = ceilings(neural)
    assert list(ceiling["region"].values) == ["V1", "V2"]
    if SHAPES[shape]["averaged"]:
        assert "ceiling_missing" in neural.attrs
        assert np.isnan(ceiling["ceiling"].values).all()
    else:  # signal well above the trial noise: reliable sites
        assert "ceiling_missing" not in neural.attrs
        assert (ceiling["ceiling"].values > 0.5).all()
    assert neural.sizes["time_bin"] == (25 if SHAPES[shape]["time_bins"] else 0)


def test_the_window_selects_the_averaged_bins_and_an_empty_one_is_refused(
    tmp_path, brainscore_experiment
):
    paths = brainscore_experiment(tmp_path)
    common = {
        "assembly_path": paths["assembly"],
        "temporal_path": None,
        "csv_path": paths["stimuli_csv"],
        "n_splits": 2,
        "seed": 0,
        "stratify_by": "texture_type",
    }
    whole = neural_targets(**common)
    early = neural_targets(**common, window_ms=[0, 40])  # before the responses rise
    assert (whole.attrs["window_start_ms"], whole.attrs["window_end_ms"]) == (0, 250)
    assert np.abs(early["rates_window"].values).mean() < np.abs(whole["rates_window"]).mean()
    with pytest.raises(AssemblyFormatError, match="no time bin .* inside the window 300-400 ms"):
        neural_targets(**common, window_ms=[300, 400])
