"""NeuroidAssembly and StimulusSet files: round trips, Brain-Score variants, clear errors, ceilings."""

from __future__ import annotations

import hashlib
import zipfile

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from insilico.it.assembly import (
    AssemblyFormatError,
    open_assembly,
    read_assembly,
    read_stimulus_metadata,
    read_stimulus_set,
    split_half_consistency,
    trial_average,
    validator,
    write_assembly,
    write_stimulus_set,
)


def make_assembly(n_stimuli=6, n_reps=3, n_neuroids=4, n_bins=2, seed=0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    ids = np.array([f"im{i}" for i in range(n_stimuli)])
    return xr.DataArray(
        rng.normal(size=(n_stimuli * n_reps, n_neuroids, n_bins)).astype(np.float32),
        dims=("presentation", "neuroid", "time_bin"),
        coords={
            "stimulus_id": ("presentation", np.tile(ids, n_reps)),
            "repetition": ("presentation", np.repeat(np.arange(n_reps), n_stimuli)),
            "object_name": (
                "presentation",
                np.tile([f"obj{i % 3}" for i in range(n_stimuli)], n_reps),
            ),
            "neuroid_id": ("neuroid", [f"n{i}" for i in range(n_neuroids)]),
            "region": ("neuroid", ["V4", "IT"] * (n_neuroids // 2)),
            "time_bin_start": ("time_bin", 70 + 10 * np.arange(n_bins)),
            "time_bin_end": ("time_bin", 80 + 10 * np.arange(n_bins)),
        },
        attrs={"identifier": "test.Assembly", "stimulus_set_identifier": "test.Stimuli"},
    )


def test_assembly_round_trip_keeps_values_coords_and_attrs(tmp_path):
    assembly = make_assembly()
    path = tmp_path / "assy.nc"
    write_assembly(assembly, path)
    back = read_assembly(path)
    assert back.dims == ("presentation", "neuroid", "time_bin")
    np.testing.assert_array_equal(back.values, assembly.values)
    for name in (
        "stimulus_id",
        "repetition",
        "object_name",
        "neuroid_id",
        "region",
        "time_bin_start",
    ):
        np.testing.assert_array_equal(back[name].values, assembly[name].values)
    assert back.attrs["identifier"] == "test.Assembly"
    assert back.attrs["stimulus_set_identifier"] == "test.Stimuli"


def test_brainio_style_file_is_read_neuroid_first_legacy_names_and_multiindex(tmp_path):
    """BrainIO writes the dims in any order, with MultiIndex levels reset; old files say image_id."""
    assembly = make_assembly().rename({"stimulus_id": "image_id"})
    assembly = assembly.set_index(presentation=["image_id", "repetition"]).transpose(
        "neuroid", "presentation", "time_bin"
    )
    path = tmp_path / "legacy.nc"
    assembly.reset_index("presentation").to_netcdf(path, engine="h5netcdf")
    back = read_assembly(path)
    assert back.dims == ("presentation", "neuroid", "time_bin")
    assert "stimulus_id" in back.coords
    np.testing.assert_array_equal(back.values, make_assembly().values)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda a: a.drop_vars("repetition"),
            "lacks coordinate(s) ['repetition'] on dimension 'presentation'",
        ),
        (lambda a: a.drop_vars("region"), "lacks coordinate(s) ['region'] on dimension 'neuroid'"),
        (lambda a: a.isel(neuroid=0, drop=True), "missing ['neuroid']"),
    ],
)
def test_incomplete_assembly_names_file_and_missing_coordinate(tmp_path, change, message):
    path = tmp_path / "bad.nc"
    change(make_assembly()).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(AssemblyFormatError) as error:
        read_assembly(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_unreadable_and_ambiguous_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"not a netcdf file")
    with pytest.raises(AssemblyFormatError, match="not a readable netCDF-4 file"):
        read_assembly(garbage)
    two = tmp_path / "two.nc"
    xr.Dataset({"a": make_assembly(), "b": make_assembly()}).to_netcdf(two, engine="h5netcdf")
    with pytest.raises(AssemblyFormatError, match="exactly one data variable"):
        read_assembly(two)
    with pytest.raises(AssemblyFormatError, match="no such NeuroidAssembly file"):
        read_assembly(tmp_path / "missing.nc")


def test_writer_refuses_missing_identifiers(tmp_path):
    assembly = make_assembly()
    del assembly.attrs["identifier"]
    with pytest.raises(AssemblyFormatError, match="'identifier'"):
        write_assembly(assembly, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()


def test_trial_average_matches_groupby_and_reads_lazily(tmp_path):
    assembly = make_assembly(n_stimuli=5, n_reps=4)
    path = tmp_path / "assy.nc"
    write_assembly(assembly, path)
    order = ["im3", "im0", "im4", "im1", "im2"]
    with open_assembly(path) as lazy:
        mean = trial_average(lazy, order)
    expected = assembly.groupby("stimulus_id").mean("presentation").sel(stimulus_id=order)
    np.testing.assert_allclose(mean, expected.values, rtol=1e-6)
    with pytest.raises(AssemblyFormatError, match="no presentation"):
        trial_average(assembly, ["im0", "unknown"])


def test_split_half_ceiling_recovers_known_reliability():
    """Signal + independent trial noise: reliability of the n-trial mean is s2 / (s2 + noise2 / n)."""
    rng = np.random.default_rng(1)
    n_stimuli, n_neuroids, n_reps = 1500, 12, 10
    signal_sd = np.linspace(0.5, 2.0, n_neuroids)
    noise_sd = 3.0
    signal = rng.normal(size=(n_stimuli, n_neuroids)) * signal_sd
    trials = signal[None] + noise_sd * rng.normal(size=(n_reps, n_stimuli, n_neuroids))
    assembly = xr.DataArray(
        trials.reshape(n_reps * n_stimuli, n_neuroids)[:, :, None],
        dims=("presentation", "neuroid", "time_bin"),
        coords={
            "stimulus_id": ("presentation", np.tile(np.arange(n_stimuli).astype(str), n_reps)),
            "repetition": ("presentation", np.repeat(np.arange(n_reps), n_stimuli)),
            "neuroid_id": ("neuroid", np.arange(n_neuroids).astype(str)),
            "region": ("neuroid", ["IT"] * n_neuroids),
            "time_bin_start": ("time_bin", [70]),
            "time_bin_end": ("time_bin", [170]),
        },
    )
    consistency = split_half_consistency(assembly, np.arange(n_stimuli).astype(str), 10, seed=0)
    estimate = consistency.mean(axis=0)[:, 0]
    signal_var = signal.var(axis=0, ddof=1)  # the sample's own signal variance
    truth = signal_var / (signal_var + noise_sd**2 / n_reps)
    np.testing.assert_allclose(estimate, truth, atol=0.04)
    assert abs(np.median(estimate) - np.median(truth)) < 0.015
    assert consistency.shape == (10, n_neuroids, 1)


def test_stimulus_set_round_trip_is_byte_identical(tmp_path):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(4, 8, 8), dtype=np.uint8)
    metadata = pd.DataFrame(
        {
            "stimulus_id": ["a", "b", "c", "d"],
            "object_name": ["o1", "o1", "o2", "o2"],
            "category_name": ["c1", "c1", "c2", "c2"],
            "variation": [0, 3, 0, 6],
        }
    )
    digests = []
    for run in range(2):
        csv, archive = tmp_path / f"s{run}.csv", tmp_path / f"s{run}.zip"
        write_stimulus_set(images, metadata, csv, archive)
        digests.append(hashlib.sha1(archive.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    stimuli = read_stimulus_set(csv, archive)
    np.testing.assert_array_equal(stimuli.images, images)
    assert list(stimuli.stimulus_ids) == ["a", "b", "c", "d"]
    assert list(stimuli.metadata["filename"]) == ["a.png", "b.png", "c.png", "d.png"]
    assert read_stimulus_set(csv, archive, size=4).images.shape == (4, 4, 4)


def test_stimulus_set_errors_name_file_and_member(tmp_path):
    metadata = pd.DataFrame(
        {
            "image_id": ["a", "b"],
            "object_name": ["o", "o"],
            "category_name": ["c", "c"],
            "filename": ["a.png", "b.png"],
        }
    )
    csv = tmp_path / "legacy.csv"
    metadata.to_csv(csv, index=False)
    assert list(read_stimulus_metadata(csv)["stimulus_id"]) == ["a", "b"]  # legacy column name
    archive = tmp_path / "part.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.png", b"\x89PNG broken")
    with pytest.raises(AssemblyFormatError, match=r"1 file\(s\) named in legacy.csv are missing"):
        read_stimulus_set(csv, archive)
    metadata.drop(columns="category_name").to_csv(csv, index=False)
    assert list(read_stimulus_metadata(csv)["category_name"]) == ["o", "o"]  # the labels stand in
    metadata.drop(columns="filename").to_csv(csv, index=False)
    with pytest.raises(AssemblyFormatError, match=r"lacks column\(s\) \['filename'\]"):
        read_stimulus_metadata(csv)
    with pytest.raises(AssemblyFormatError, match="not a zip"):
        validator("stimuli_zip")(csv)
