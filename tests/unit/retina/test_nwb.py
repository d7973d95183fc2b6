"""NWB recordings written here with pynwb, in the two shapes users bring, converted and read back."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pynwb import NWBHDF5IO, NWBFile
from pynwb.image import ImageSeries, OpticalSeries

from insilico.retina.nwb import NwbLayoutError, convert_nwb
from insilico.retina.recording import read_recording

SETTINGS = {"train_series": "train", "test_series": "test"}
RNG = np.random.default_rng(0)
TRAIN = RNG.integers(0, 256, (40, 6, 6), dtype=np.uint8)  # 40 frames at 50 Hz: 80 bins of 10 ms
TEST = RNG.integers(0, 256, (10, 6, 6), dtype=np.uint8)  # 10 frames at 50 Hz: 20 bins
TRAIN_START, TEST_STARTS = 1.0, [3.0, 4.0, 5.0]
# spike times of two cells: cell 1 fires at train bin 3 and in test bin 5 of every repeat
SPIKES = [
    np.array([TRAIN_START + 0.035] + [s + 0.055 for s in TEST_STARTS]),
    np.array([TRAIN_START + 0.005, TRAIN_START + 0.006, TEST_STARTS[1] + 0.195]),
]


def _nwbfile() -> NWBFile:
    nwb = NWBFile("simulated retina", "test-file", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    for spikes in SPIKES:
        nwb.add_unit(spike_times=spikes)
    return nwb


def _write(nwb: NWBFile, path) -> None:
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def _stored(path, test_presentations=TEST_STARTS, units=True):
    nwb = _nwbfile() if units else NWBFile("x", "y", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    nwb.add_stimulus(
        OpticalSeries(
            name="train",
            data=TRAIN,
            unit="n.a.",
            rate=50.0,
            starting_time=TRAIN_START,
            distance=0.1,
            field_of_view=[0.3, 0.3],
            orientation="lower left",
        )
    )
    nwb.add_stimulus(ImageSeries(name="test", data=TEST, unit="n.a.", rate=50.0))
    nwb.add_trial_column("stimulus", "the stimulus series shown")
    nwb.add_trial(start_time=TRAIN_START, stop_time=TRAIN_START + 0.8, stimulus="train")
    for start in test_presentations:
        nwb.add_trial(start_time=start, stop_time=start + 0.2, stimulus="test")
    _write(nwb, path)
    return path


def _external(folder):
    """Frames outside the file (.npy stacks), frame onsets as timestamps, presentations as epochs."""
    np.save(folder / "train_a.npy", TRAIN[:25])
    np.save(folder / "train_b.npy", TRAIN[25:])
    np.save(folder / "test.npy", TEST)
    nwb = _nwbfile()
    nwb.add_stimulus(
        ImageSeries(
            name="train",
            external_file=["train_a.npy", "train_b.npy"],
            starting_frame=[0, 25],
            format="external",
            unit="n.a.",
            timestamps=TRAIN_START + np.arange(40) * 0.02,
        )
    )
    nwb.add_stimulus(
        ImageSeries(
            name="test",
            external_file=["test.npy"],
            starting_frame=[0],
            format="external",
            unit="n.a.",
            timestamps=np.arange(10) * 0.02,
        )
    )
    nwb.add_epoch(TRAIN_START, TRAIN_START + 0.8, ["train"])
    for start in TEST_STARTS:
        nwb.add_epoch(start, start + 0.2, ["test"])
    path = folder / "recording.nwb"
    _write(nwb, path)
    return path


@pytest.mark.parametrize("shape", ["stored", "external"])
def test_both_shapes_convert_to_the_same_deep_retina_recording(tmp_path, shape):
    source = _stored(tmp_path / "in.nwb") if shape == "stored" else _external(tmp_path)
    info = convert_nwb(source, tmp_path / "out.h5", SETTINGS)
    recording = read_recording(tmp_path / "out.h5")
    assert info["test_repeats"] == 3 and info["unit_ids"] == [0, 1]
    # 50 Hz frames held for two 10 ms bins each
    np.testing.assert_array_equal(recording.train_stimulus, np.repeat(TRAIN, 2, axis=0))
    np.testing.assert_array_equal(recording.test_stimulus, np.repeat(TEST, 2, axis=0))
    assert recording.test_repeats.shape == (2, 3, 20)
    counts = recording.train_counts
    assert counts[0, 3] == 1 and counts[1, 0] == 2 and counts.sum() == 3
    # the test repeats are rates (counts / 10 ms, smoothed): cell 1 peaks at bin 5 in each repeat
    assert (recording.test_repeats[0].argmax(axis=-1) == 5).all()
    assert recording.test_repeats[1, 1].argmax() == 19 and recording.test_repeats[1, 0].max() == 0


def test_float_frames_are_rescaled_to_the_layouts_uint8(tmp_path):
    global TRAIN, TEST
    saved = TRAIN, TEST
    TRAIN, TEST = TRAIN / 255.0, TEST / 255.0
    try:
        info = convert_nwb(_stored(tmp_path / "in.nwb"), tmp_path / "out.h5", SETTINGS)
    finally:
        TRAIN, TEST = saved
    recording = read_recording(tmp_path / "out.h5")
    assert recording.train_stimulus.dtype == np.uint8 and "rescaled" in info["pixels"]
    assert np.abs(recording.train_stimulus[::2].astype(int) - TRAIN).max() <= 1


def test_a_test_movie_shown_once_is_refused_in_one_line(tmp_path):
    source = _stored(tmp_path / "in.nwb", test_presentations=[3.0])
    with pytest.raises(NwbLayoutError, match=r"in\.nwb: the test movie 'test' needs at least two"):
        convert_nwb(source, tmp_path / "out.h5", SETTINGS)
    assert not (tmp_path / "out.h5").exists()


def test_a_missing_series_names_the_series_there_are(tmp_path):
    source = _stored(tmp_path / "in.nwb")
    with pytest.raises(NwbLayoutError, match=r"no stimulus series 'movie' .*\['test', 'train'\]"):
        convert_nwb(source, tmp_path / "out.h5", {**SETTINGS, "train_series": "movie"})


def test_a_file_without_units_names_the_units_table(tmp_path):
    with pytest.raises(NwbLayoutError, match="no Units table"):
        convert_nwb(_stored(tmp_path / "in.nwb", units=False), tmp_path / "out.h5", SETTINGS)


def test_a_file_that_is_not_nwb_is_named(tmp_path):
    source = tmp_path / "notes.nwb"
    source.write_text("not hdf5")
    with pytest.raises(NwbLayoutError, match=r"notes\.nwb: not a readable NWB file"):
        convert_nwb(source, tmp_path / "out.h5", SETTINGS)


def test_the_up_front_check_finds_what_the_conversion_would_refuse(tmp_path):
    from insilico.retina.nwb import check_nwb

    good = _stored(tmp_path / "good.nwb")
    check_nwb(good, SETTINGS, cells=[1, 2])
    with pytest.raises(NwbLayoutError, match=r"cells \[3\] are not in the recording; available"):
        check_nwb(good, SETTINGS, cells=[2, 3])
    once = _stored(tmp_path / "once.nwb", test_presentations=[3.0])
    with pytest.raises(NwbLayoutError, match="needs at least two presentations"):
        check_nwb(once, SETTINGS)
    external = _external(tmp_path)
    check_nwb(external, SETTINGS)
    (tmp_path / "test.npy").unlink()
    with pytest.raises(NwbLayoutError, match=r"'test' names .*test\.npy: no such file"):
        check_nwb(external, SETTINGS)
    with pytest.raises(NwbLayoutError, match="no such file"):
        check_nwb(tmp_path / "missing.nwb", SETTINGS)
