"""The structured stimuli: shapes, padding, timing of every event, exact bar and grating rendering."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from insilico.branches import validate
from insilico.core.config import ConfigError, load_schema, read_config_file
from insilico.mechanisms import stimuli

SIZE, HISTORY = 12, 5
PAD = HISTORY - 1
GREY = 128
REPO = Path(__file__).parents[3]
SCHEMA = load_schema(REPO / "schemas" / "config.schema.yaml")
DEFAULTS = read_config_file(REPO / "config.yaml")


@pytest.fixture(scope="module")
def defaults():
    """The defaults of ``mechanisms.stimuli`` (config.yaml)."""
    return validate({}, SCHEMA, DEFAULTS)["mechanisms"]["stimuli"]


def render(name, params, size=SIZE, history=HISTORY):
    return stimuli.render(name, params, size, history)


@pytest.mark.parametrize("name", sorted(stimuli.PHENOMENA))
def test_every_phenomenon_renders_at_the_model_geometry(defaults, name):
    out = render(name, defaults[name])
    movie = out["movie"].values
    assert movie.dtype == np.uint8
    n_conditions, n_frames, height, width = movie.shape
    assert (height, width) == (SIZE, SIZE)
    assert n_frames == PAD + out.sizes["time"]
    assert (movie[:, :PAD] == GREY).all(), "the history pad must be mean grey"
    assert (movie[:, PAD:] != GREY).any(axis=(1, 2, 3)).all(), "every condition shows something"
    assert out.attrs["pad"] == PAD and out.attrs["phenomenon"] == name
    assert np.allclose(np.diff(out["time"].values), 0.01)
    assert stimuli.stimulus_params(out) == defaults[name]


def test_unknown_phenomenon_is_refused():
    with pytest.raises(ValueError, match="unknown phenomenon"):
        render("looming", {})


def frames(out, condition):
    """Stimulus frames (after the pad) of one condition."""
    return out["movie"].values[condition, PAD:].astype(int)


def test_flash_and_step_timing_and_polarity():
    params = {
        "pre_frames": 3,
        "flash_frames": 2,
        "step_frames": 6,
        "post_frames": 4,
        "contrast": 1.0,
    }
    out = render("flash", params)
    assert list(out["label"].values) == ["flash_on", "flash_off", "step_on", "step_off"]
    centre = [frames(out, c)[:, 5, 5] for c in range(4)]
    assert list(centre[0]) == [128] * 3 + [255] * 2 + [128] * 8
    assert list(centre[1]) == [128] * 3 + [0] * 2 + [128] * 8
    assert list(centre[2]) == [128] * 3 + [255] * 6 + [128] * 4
    assert list(centre[3]) == [128] * 3 + [0] * 6 + [128] * 4
    assert (frames(out, 0)[3] == 255).all(), "full field"


def test_latency_steps_darken_to_minus_the_intensity():
    out = render("latency", {"pre_frames": 2, "step_frames": 3, "intensities": [0.25, 1.0]})
    assert list(frames(out, 0)[:, 0, 0]) == [128, 128, 96, 96, 96]
    assert list(frames(out, 1)[:, 0, 0]) == [128, 128, 0, 0, 0]


def test_omitted_stimulus_flashes_then_omits_one():
    params = {
        "pre_frames": 2,
        "periods": [3, 5],
        "flash_frames": 1,
        "n_flashes": 4,
        "contrast": -1.0,
        "post_frames": 6,
    }
    out = render("omitted_stimulus", params)
    for condition, period in enumerate([3, 5]):
        dark = np.flatnonzero(frames(out, condition)[:, 0, 0] == 0)
        assert list(dark) == [2 + k * period for k in range(4)]
        assert out["omitted_frame"].values[condition] == 2 + 4 * period
        assert out["last_flash_frame"].values[condition] == 2 + 3 * period
    assert out.sizes["time"] == 2 + 4 * 5 + 6


def test_bar_profile_is_exact_pixel_coverage():
    profile = stimuli.bar_profile(np.array([5.25, np.nan]), 2.0, SIZE)
    assert profile[0].sum() == pytest.approx(2.0)
    assert profile[0, 3:8] == pytest.approx([0, 0.25, 1, 0.75, 0])  # bar covers 4.25 .. 6.25
    assert (profile[1] == 0).all()


def test_square_wave_pixel_averages():
    wave = stimuli.square_wave(np.array([0.0, 0.5]), 2.0, 8)
    # Bars of 2 px starting at 0: pixel x covers [x - 0.5, x + 0.5].
    assert wave[0] == pytest.approx([0.0, 1.0, 0.0, -1.0, 0.0, 1.0, 0.0, -1.0])
    assert wave[1] == pytest.approx([-1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0])


def test_anticipation_bar_moves_at_its_speed_and_flashes_at_positions():
    params = {
        "bar_width": 2,
        "speed": 0.5,
        "contrast": -1.0,
        "pre_frames": 2,
        "flash_frames": 2,
        "post_frames": 3,
        "flash_spacing": 4,
    }
    out = render("anticipation", params)
    assert list(out["kind"].values) == ["moving", "flash", "flash", "flash"]
    assert out["position"].values[1:] == pytest.approx([0, 4, 8])
    centres = out["bar_position"].values[0]
    moving = centres[np.isfinite(centres)]
    assert np.diff(moving) == pytest.approx(0.5)
    assert np.isnan(centres[:2]).all(), "the moving bar appears after pre_frames"
    frame = frames(out, 0)[2 + 10]  # centre at -1.5 + 0.5 * 10 = 3.5: pixels 3 and 4 dark
    assert list(frame[0, 2:6]) == [128, 0, 0, 128]
    assert (frame == frame[0]).all(), "vertical bars span every row"
    flash = frames(out, 2)
    assert set(np.flatnonzero((flash[:, 0, :] != GREY).any(1))) == {2, 3}
    assert list(flash[2, 0, 2:7]) == [128, 64, 0, 64, 128]  # bar 3 .. 5: pixels 3 and 5 half


def test_reversal_turns_at_the_reversal_position():
    params = {
        "bar_width": 2,
        "speed": 0.5,
        "contrast": -1.0,
        "reversal_positions": [-2, 1],
        "post_frames": 5,
    }
    out = render("reversal", params)
    centres = out["bar_position"].values
    for condition, position in enumerate([-2, 1]):
        turn = out["reversal_frame"].values[condition]
        assert centres[condition, turn] == pytest.approx((SIZE - 1) / 2 + position, abs=0.5)
        assert np.all(np.diff(centres[condition, : turn + 1]) > 0)
        assert np.all(np.diff(centres[condition, turn:]) < 0)
    control = centres[-1]
    assert out["kind"].values[-1] == "control" and np.all(np.diff(control) > 0)
    assert out.sizes["time"] == out["reversal_frame"].values.max() + 5


def test_paired_flashes_at_their_intervals():
    params = {
        "pre_frames": 2,
        "flash_frames": 1,
        "intervals": [2, 5],
        "contrast": -1.0,
        "post_frames": 3,
    }
    out = render("paired_flash", params)
    assert list(out["interval"].values) == [0, 2, 5]
    onsets = [list(np.flatnonzero(frames(out, c)[:, 0, 0] == 0)) for c in range(3)]
    assert onsets == [[2], [2, 4], [2, 7]]


def test_contrast_adaptation_switches_contrast_and_freezes_the_probe():
    params = {
        "low_contrast": 0.05,
        "high_contrast": 0.4,
        "low_frames": 50,
        "high_frames": 100,
        "repeats": 2,
        "seed": 3,
    }
    out = render("contrast_adaptation", params)
    values = frames(out, 0)[:, 0, 0] - GREY
    assert values[50:150].std() > 4 * values[:50].std()
    probe = out.attrs["probe_frames"]
    assert probe == 20
    assert (values[150 - probe : 150] == values[50 : 50 + probe]).all()
    assert not (frames(out, 0) == frames(out, 1)).all(), "repeats are independent"
    again = render("contrast_adaptation", params)
    assert (again["movie"].values == out["movie"].values).all(), "seeded"


def test_reversing_grating_reverses_every_half_period():
    params = {
        "bar_widths": [2, 4],
        "n_phases": 2,
        "half_period_frames": 3,
        "cycles": 2,
        "contrast": 1.0,
    }
    out = render("reversing_grating", params)
    assert list(out["bar_width"].values) == [2, 2, 4, 4]
    assert list(out["phase"].values) == [0, 0.5, 0, 0.5]
    movie = frames(out, 0) - GREY
    assert out.sizes["time"] == 12
    assert (movie[0] == movie[2]).all()
    assert np.abs(movie[3] + movie[0]).max() <= 1  # uint8: +127 / -128
    assert (movie[6] == movie[0]).all()
    assert not (frames(out, 0)[0] == frames(out, 1)[0]).all(), "phases differ"


def test_object_motion_global_moves_everything_together():
    params = {
        "bar_width": 2,
        "object_half_width": 2,
        "jitter_px": 0.7,
        "frames": 30,
        "trials": 2,
        "contrast": 1.0,
        "seed": 1,
    }
    out = render("object_motion", params)
    kinds = list(out["kind"].values)
    assert kinds == ["global", "global", "differential", "differential"]
    centre = slice(4, 8)  # pixels 3.5 .. 7.5 lie within 2 px of the centre 5.5
    glob, diff = frames(out, 0), frames(out, 2)
    assert (glob == glob[:, :1, :]).all(), "global motion: one grating over the whole field"
    assert (glob[:, centre, centre] == diff[:, centre, centre]).all(), "same object"
    assert not (glob[:, 0] == diff[:, 0]).all(), "independent background"
    assert not (frames(out, 0) == frames(out, 1)).all(), "trials differ"


@pytest.mark.parametrize(
    ("mechanisms", "retina", "message"),
    [
        ({"cnns": {"seeds": [3]}}, {}, "'mechanisms.cnns.seeds': [3] not among the trained ones"),
        ({"cnns": {"experiments": ["x"]}}, {}, "'mechanisms.cnns.experiments': ['x'] not among"),
        ({}, {"fit": ["ln"]}, "dissecting CNNs needs cnn in retina.fit"),
        ({"stimuli": {"flash": {"contrast": 2}}}, {}, "'mechanisms.stimuli.flash.contrast'"),
    ],
)
def test_config_refuses_cnns_that_are_not_trained(mechanisms, retina, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate({"mechanisms": mechanisms, "retina": retina}, SCHEMA, DEFAULTS)


def test_no_cnns_means_no_mechanisms_and_no_check():
    config = {"mechanisms": {"cnns": {"stimuli": []}}, "retina": {"fit": ["ln"]}}
    assert validate(config, SCHEMA, DEFAULTS)["mechanisms"]["cnns"]["stimuli"] == []
