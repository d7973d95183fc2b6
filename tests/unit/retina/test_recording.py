"""The deep-retina HDF5 reader/writer: round trip and every way a file can be unusable."""

from __future__ import annotations

import struct

import h5py
import numpy as np
import pytest

from insilico.retina.recording import (
    RetinaFileError,
    check_recording,
    read_recording,
    write_recording,
)

N_CELLS, N_REPEATS, T_TRAIN, T_TEST, SIZE = 3, 2, 50, 20, 4
# Every fault is found by the reader and by the metadata-only check run before any job.
READERS = pytest.mark.parametrize(
    "reader", [read_recording, check_recording], ids=["read", "check"]
)


def _arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(0.2, size=(N_CELLS, T_TRAIN))
    return {
        "train_stimulus": rng.integers(0, 256, (T_TRAIN, SIZE, SIZE), dtype=np.uint8),
        "train_rate": counts / 0.01,
        "train_counts": counts,
        "test_stimulus": rng.integers(0, 256, (T_TEST, SIZE, SIZE), dtype=np.uint8),
        "test_repeats": rng.gamma(2.0, 5.0, (N_CELLS, N_REPEATS, T_TEST)),
    }


def _write_raw(path, drop=(), **override) -> None:
    """Write the deep-retina layout with h5py directly, so that tests can break it on purpose."""
    a = _arrays()
    datasets = {
        "train/stimulus": a["train_stimulus"],
        "train/response/firing_rate_10ms": a["train_rate"],
        "test/stimulus": a["test_stimulus"],
        **{f"test/repeats/cell{i + 1:02d}": a["test_repeats"][i] for i in range(N_CELLS)},
    }
    datasets.update(override)
    with h5py.File(path, "w") as h5:
        for name, value in datasets.items():
            if name not in drop:
                h5[name] = value


def test_round_trip(tmp_path):
    a = _arrays()
    truth = np.arange(N_CELLS * T_TEST, dtype=float).reshape(N_CELLS, T_TEST)
    path = tmp_path / "rec.h5"
    write_recording(
        path,
        train_stimulus=a["train_stimulus"],
        train_rate=a["train_rate"],
        test_stimulus=a["test_stimulus"],
        test_repeats=a["test_repeats"],
        train_counts=a["train_counts"],
        attrs={"source": "simulated", "seed": 3, "parameters": {"size": SIZE}},
        groundtruth={"test_rate": truth, "cell_types": np.array(["on", "off_fast", "on_off"])},
    )
    assert [p.name for p in tmp_path.iterdir()] == ["rec.h5"]  # no temporary left behind

    rec = read_recording(path)
    assert rec.path == path
    assert rec.train_stimulus.dtype == np.uint8 and rec.test_stimulus.dtype == np.uint8
    np.testing.assert_array_equal(rec.train_stimulus, a["train_stimulus"])
    np.testing.assert_array_equal(rec.test_stimulus, a["test_stimulus"])
    np.testing.assert_allclose(rec.train_rate, a["train_rate"])
    np.testing.assert_allclose(rec.test_repeats, a["test_repeats"])
    np.testing.assert_allclose(rec.test_rate, a["test_repeats"].mean(axis=1))
    np.testing.assert_allclose(rec.true_test_rate, truth)
    assert rec.cell_names == ("cell01", "cell02", "cell03")
    np.testing.assert_array_equal(rec.train_counts, a["train_counts"])  # unsmoothed, for the GLM
    subset = read_recording(path, cells=[3, 1])
    np.testing.assert_array_equal(subset.train_counts, a["train_counts"][[2, 0]])

    with h5py.File(path, "r") as h5:
        np.testing.assert_allclose(h5["train/time"][:3], [0.0, 0.01, 0.02])
        assert h5["test/time"].shape == (T_TEST,)
        np.testing.assert_array_equal(h5["train/response/binned"][()], a["train_counts"])
        np.testing.assert_allclose(h5["test/response/firing_rate_10ms"][()], rec.test_rate)
        spikes = h5["spikes/cell02"][()]
        assert spikes.size == a["train_counts"][1].sum()
        np.testing.assert_array_equal(
            np.bincount((spikes / 0.01).astype(int), minlength=T_TRAIN), a["train_counts"][1]
        )
        assert h5.attrs["source"] == "simulated" and h5.attrs["seed"] == 3
        assert h5.attrs["parameters"] == '{"size": 4}'
        assert h5["groundtruth/cell_types"].asstr()[()].tolist() == ["on", "off_fast", "on_off"]


def test_heldout_test_set_round_trip_and_fallback(tmp_path):
    a, b = _arrays(), _arrays(seed=1)
    truth = np.ones((N_CELLS, T_TEST))
    path = tmp_path / "rec.h5"
    write_recording(
        path,
        **{k: a[k] for k in ("train_stimulus", "train_rate", "test_stimulus", "test_repeats")},
        heldout=(b["test_stimulus"], b["test_repeats"]),
        attrs={"source": "simulated"},
        groundtruth={"test_rate": 0 * truth, "heldout_rate": truth},
    )
    rec = read_recording(path, cells=[2, 3], test_set="heldout")
    assert rec.test_set == "heldout"
    np.testing.assert_array_equal(rec.test_stimulus, b["test_stimulus"])
    np.testing.assert_allclose(rec.test_repeats, b["test_repeats"][1:])
    np.testing.assert_allclose(rec.true_test_rate, truth[1:])
    np.testing.assert_allclose(rec.train_rate, a["train_rate"][1:])
    assert read_recording(path).test_set == "test"
    # a recording without a held-out movie gives its single test set, and says so
    _write_raw(tmp_path / "plain.h5")
    plain = read_recording(tmp_path / "plain.h5", test_set="heldout")
    assert plain.test_set == "test"
    np.testing.assert_array_equal(plain.test_stimulus, a["test_stimulus"])
    with pytest.raises(ValueError, match="test_set must be one of"):
        read_recording(path, test_set="validation")


def test_cells_are_selected_in_the_order_asked(tmp_path):
    path = tmp_path / "rec.h5"
    _write_raw(path)
    a = _arrays()
    rec = read_recording(path, cells=[3, 1])
    assert rec.cell_names == ("cell03", "cell01")
    np.testing.assert_allclose(rec.train_rate, a["train_rate"][[2, 0]])
    np.testing.assert_allclose(rec.test_repeats, a["test_repeats"][[2, 0]])
    assert rec.true_test_rate is None


@READERS
def test_unknown_cell_is_refused_with_the_available_ones(reader, tmp_path):
    path = tmp_path / "rec.h5"
    _write_raw(path)
    with pytest.raises(RetinaFileError, match=r"cell 7 \(cell07\).*available cells: \[1, 2, 3\]"):
        reader(path, cells=[1, 7])


@READERS
def test_missing_file(reader, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        reader(tmp_path / "nope.h5")


@READERS
def test_file_that_is_not_hdf5(reader, tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("this is a text file\n")
    with pytest.raises(RetinaFileError, match=r"notes\.h5 is not a readable HDF5 file"):
        reader(path)


@READERS
def test_truncated_file(reader, tmp_path):
    path = tmp_path / "cut.h5"
    _write_raw(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RetinaFileError, match=r"cut\.h5 is not a readable HDF5 file"):
        reader(path)


@READERS
def test_cut_file_whose_header_claims_its_full_length(reader, tmp_path):
    """A copy cut short whose superblock was rewritten to its new length opens fine in HDF5;
    the datasets past the cut are found when they are opened, before any data are read."""
    path = tmp_path / "cut.h5"
    _write_raw(path, **{"test/repeats/cell03": np.zeros((N_REPEATS, T_TEST))})
    data = bytearray(path.read_bytes()[: path.stat().st_size * 3 // 4])
    assert data[8] == 0  # superblock version 0: the end-of-file address sits at bytes 40-48
    data[40:48] = struct.pack("<Q", len(data))
    path.write_bytes(bytes(data))
    h5py.File(path, "r").close()  # the cut is not seen when the file is opened
    with pytest.raises(RetinaFileError, match=r"cut\.h5 is not a readable HDF5 file"):
        reader(path)


def test_check_reads_no_data_and_lists_the_cells(tmp_path, monkeypatch):
    path = tmp_path / "rec.h5"
    _write_raw(path, drop=("test/repeats/cell02",))

    def no_reading(*args):
        raise AssertionError("the check read data")

    monkeypatch.setattr(h5py.Dataset, "__getitem__", no_reading)
    assert check_recording(path) == [1, 3]
    assert check_recording(path, cells=[3]) == [1, 3]
    with pytest.raises(RetinaFileError, match=r"cell 2 \(cell02\).*available cells: \[1, 3\]"):
        check_recording(path, cells=[2])


@READERS
def test_file_in_another_layout(reader, tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["stimulus"] = np.zeros((5, 2, 2), np.uint8)
        h5["response"] = np.zeros((1, 5))
    with pytest.raises(
        RetinaFileError,
        match=r"other\.h5: missing dataset 'train/stimulus'.*found at '/': \['response', 'stimulus'\]",
    ):
        reader(path)


@READERS
@pytest.mark.parametrize(
    ("dropped", "listed"),
    [
        ("train/response/firing_rate_10ms", r"found at 'train': \['stimulus'\]"),
        ("test/stimulus", r"found at 'test': \['repeats'\]"),
    ],
)
def test_missing_dataset_names_path_and_what_was_found(reader, tmp_path, dropped, listed):
    path = tmp_path / "rec.h5"
    _write_raw(path, drop=(dropped,))
    with pytest.raises(RetinaFileError, match=rf"rec\.h5: missing dataset '{dropped}'.*{listed}"):
        reader(path)


@READERS
def test_missing_repeats(reader, tmp_path):
    path = tmp_path / "rec.h5"
    _write_raw(path, drop=tuple(f"test/repeats/cell{i:02d}" for i in (1, 2, 3)))
    with pytest.raises(RetinaFileError, match=r"missing dataset 'test/repeats'.*\['stimulus'\]"):
        reader(path)


@READERS
def test_train_response_length_must_match_stimulus(reader, tmp_path):
    path = tmp_path / "rec.h5"
    _write_raw(path, **{"train/response/firing_rate_10ms": np.zeros((N_CELLS, T_TRAIN - 1))})
    with pytest.raises(
        RetinaFileError,
        match=rf"firing_rate_10ms has shape \(3, 49\), expected \(n_cells, {T_TRAIN}\)",
    ):
        reader(path)


@READERS
def test_test_frames_must_match_train_frames(reader, tmp_path):
    path = tmp_path / "rec.h5"
    _write_raw(path, **{"test/stimulus": np.zeros((T_TEST, SIZE, SIZE + 1), np.uint8)})
    with pytest.raises(
        RetinaFileError, match=r"test/stimulus frames are \(4, 5\), expected \(4, 4\)"
    ):
        reader(path)


@READERS
def test_stimulus_must_be_uint8_movie(reader, tmp_path):
    path = tmp_path / "rec.h5"
    _write_raw(path, **{"train/stimulus": np.zeros((T_TRAIN, SIZE, SIZE), np.float32)})
    with pytest.raises(RetinaFileError, match=r"train/stimulus has dtype float32, expected uint8"):
        reader(path)


def test_test_response_one_bin_longer_is_aligned_on_the_stimulus(tmp_path):
    path = tmp_path / "rec.h5"
    longer = np.arange(N_REPEATS * (T_TEST + 1), dtype=float).reshape(N_REPEATS, T_TEST + 1)
    _write_raw(path, **{f"test/repeats/cell{i:02d}": longer for i in (1, 2, 3)})
    rec = read_recording(path)
    assert rec.test_repeats.shape == (N_CELLS, N_REPEATS, T_TEST)
    np.testing.assert_allclose(rec.test_repeats[0], longer[:, :T_TEST])


@READERS
@pytest.mark.parametrize("extra", [2, -1])
def test_other_test_response_lengths_are_refused(reader, tmp_path, extra):
    path = tmp_path / "rec.h5"
    bad = np.zeros((N_REPEATS, T_TEST + extra))
    _write_raw(path, **{"test/repeats/cell02": bad})
    with pytest.raises(
        RetinaFileError,
        match=rf"test/repeats/cell02 has shape \(2, {T_TEST + extra}\), expected \(n_repeats, {T_TEST}\)",
    ):
        reader(path)


@READERS
def test_repeat_counts_must_agree_between_cells(reader, tmp_path):
    path = tmp_path / "rec.h5"
    _write_raw(path, **{"test/repeats/cell03": np.zeros((N_REPEATS + 1, T_TEST))})
    with pytest.raises(RetinaFileError, match="differ in their number of repeats"):
        reader(path)


def test_writer_refuses_inconsistent_arrays(tmp_path):
    a = _arrays()
    common = {"attrs": {}, "test_stimulus": a["test_stimulus"], "test_repeats": a["test_repeats"]}
    with pytest.raises(ValueError, match="uint8"):
        write_recording(
            tmp_path / "x.h5",
            train_stimulus=a["train_stimulus"].astype(float),
            train_rate=a["train_rate"],
            **common,
        )
    with pytest.raises(ValueError, match="train_rate has shape"):
        write_recording(
            tmp_path / "x.h5",
            train_stimulus=a["train_stimulus"],
            train_rate=a["train_rate"][:, 1:],
            **common,
        )
    assert not list(tmp_path.iterdir())


def test_spike_counts_are_optional_but_checked(tmp_path):
    path = tmp_path / "rec.h5"
    _write_raw(path)
    assert read_recording(path).train_counts is None  # a file without train/response/binned
    _write_raw(path, **{"train/response/binned": np.zeros((N_CELLS, T_TRAIN - 1))})
    with pytest.raises(RetinaFileError, match=r"rec.h5: train/response/binned has shape"):
        read_recording(path)
