"""Structured stimuli of retinal phenomenology, rendered as movies in a model's input format.

Every phenomenon is a set of *conditions* (e.g. one per flash intensity) that share one duration,
so a stimulus is one uint8 array ``movie (condition, frame, y, x)`` of 10 ms frames around the mean
grey. Each condition starts with ``history - 1`` grey frames (``pad``): a model sees ``history``
frames per prediction, so its predictions then cover every stimulus frame, aligned on the ``time``
coordinate (seconds from the stimulus start, one bin per frame). Luminance is given as Weber
contrast ``c`` in [-1, 1]: pixel value ``GREY * (1 + c)``, clipped to 0..255.

Geometry: pixel ``x`` covers ``[x - 0.5, x + 0.5]``; bars are vertical and move along ``x``; the
field centre is ``(size - 1) / 2``. Bars and gratings are rendered with exact pixel coverage
(anti-aliased), so slow motion moves them smoothly by fractions of a pixel.

Parameters come from ``config["mechanisms"]["stimuli"][phenomenon]`` (durations in frames, widths
and positions in pixels, speeds in pixels per frame); random parts (flicker, jitter) from their
own ``seed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import xarray as xr

from insilico.core.units import BIN_SECONDS, GREY


class Rendered:
    """Contrast movie ``(condition, time, y, x)`` plus labelled coordinates, before padding."""

    def __init__(
        self,
        contrast: np.ndarray,
        conditions: dict[str, np.ndarray | list],
        timed: dict[str, np.ndarray] | None = None,
        events: dict[str, int | float] | None = None,
    ) -> None:
        self.contrast = np.asarray(contrast, dtype=np.float32)
        self.conditions = conditions
        self.timed = timed or {}
        self.events = events or {}


def to_uint8(contrast: np.ndarray) -> np.ndarray:
    """Weber contrast to uint8 pixel values around the mean grey."""
    return np.clip(np.rint(GREY * (1.0 + np.asarray(contrast, dtype=np.float64))), 0, 255).astype(
        np.uint8
    )


def _pixels(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.float64)


def bar_profile(centres: np.ndarray, width: float, size: int) -> np.ndarray:
    """Pixel coverage ``(len(centres), size)`` of bars ``[centre - width/2, centre + width/2]``.

    A NaN centre means no bar in that frame.
    """
    centres = np.asarray(centres, dtype=np.float64)[:, None]
    x = _pixels(size)[None, :]
    overlap = np.minimum(x + 0.5, centres + width / 2) - np.maximum(x - 0.5, centres - width / 2)
    return np.nan_to_num(np.clip(overlap, 0.0, 1.0))


def square_wave(offsets: np.ndarray, width: float, size: int) -> np.ndarray:
    """Pixel averages ``(len(offsets), size)`` of a +-1 square-wave grating of bars ``width`` wide.

    The grating is +1 on ``[offset, offset + width)``, -1 on the next bar and so on; averaging the
    wave over each pixel is exact, through its integral (a triangle wave).
    """
    offsets = np.asarray(offsets, dtype=np.float64)[:, None]
    x = _pixels(size)[None, :]

    def integral(u: np.ndarray) -> np.ndarray:
        phase = np.mod((u - offsets) / width, 2.0)
        return width * np.where(phase < 1.0, phase, 2.0 - phase)

    return integral(x + 0.5) - integral(x - 0.5)


def _full_field(values: np.ndarray, size: int) -> np.ndarray:
    """(condition, time) contrasts to uniform frames (condition, time, size, size)."""
    return np.broadcast_to(values[..., None, None], (*values.shape, size, size))


def _columns(profile: np.ndarray, size: int) -> np.ndarray:
    """(..., size) contrast per column to frames (..., size, size) of vertical structure."""
    return np.broadcast_to(profile[..., None, :], (*profile.shape[:-1], size, size))


def flash(params: dict, size: int) -> Rendered:
    """Full-field flashes and steps, bright and dark: the cell's polarity and kinetics."""
    pre, flash_frames = params["pre_frames"], params["flash_frames"]
    step, post, contrast = params["step_frames"], params["post_frames"], params["contrast"]
    kinds = ["flash", "flash", "step", "step"]
    polarity = np.array([1.0, -1.0, 1.0, -1.0])
    n_frames = pre + step + post
    values = np.zeros((4, n_frames))
    for i, kind in enumerate(kinds):
        duration = flash_frames if kind == "flash" else step
        values[i, pre : pre + duration] = polarity[i] * contrast
    labels = [f"{kind}_{'on' if p > 0 else 'off'}" for kind, p in zip(kinds, polarity, strict=True)]
    return Rendered(
        _full_field(values, size),
        {"label": labels, "kind": kinds, "polarity": polarity},
        events={"onset_frame": pre, "step_offset_frame": pre + step},
    )


def latency(params: dict, size: int) -> Rendered:
    """Full-field steps from grey to darker intensities: latency coding of intensity."""
    pre, step = params["pre_frames"], params["step_frames"]
    intensities = np.asarray(params["intensities"], dtype=np.float64)
    values = np.zeros((len(intensities), pre + step))
    values[:, pre:] = -intensities[:, None]
    return Rendered(
        _full_field(values, size), {"intensity": intensities}, events={"onset_frame": pre}
    )


def omitted_stimulus(params: dict, size: int) -> Rendered:
    """Periodic full-field flashes, then one omitted: the omitted stimulus response (OSR)."""
    pre, flash_frames, n_flashes = params["pre_frames"], params["flash_frames"], params["n_flashes"]
    periods = np.asarray(params["periods"], dtype=np.int64)
    if (periods < flash_frames).any():
        raise ValueError(f"omitted_stimulus: periods {periods.tolist()} shorter than a flash")
    n_frames = pre + n_flashes * int(periods.max()) + params["post_frames"]
    values = np.zeros((len(periods), n_frames))
    for i, period in enumerate(periods):
        for k in range(n_flashes):
            start = pre + k * period
            values[i, start : start + flash_frames] = params["contrast"]
    return Rendered(
        _full_field(values, size),
        {
            "period": periods,
            "last_flash_frame": pre + (n_flashes - 1) * periods,
            "omitted_frame": pre + n_flashes * periods,
        },
        events={"onset_frame": pre},
    )


def _crossing(speed: float, width: float, size: int) -> np.ndarray:
    """Bar centres of a bar entering at the left edge and leaving at the right, one per frame."""
    start, stop = -width / 2 - 0.5, size - 0.5 + width / 2
    return start + speed * np.arange(int(np.ceil((stop - start) / speed)) + 1)


def anticipation(params: dict, size: int) -> Rendered:
    """A bar moving across the field against the same bar flashed at each position."""
    width, speed = params["bar_width"], params["speed"]
    pre, flash_frames, post = params["pre_frames"], params["flash_frames"], params["post_frames"]
    moving = _crossing(speed, width, size)
    positions = np.arange(0.0, size - 0.5, params["flash_spacing"])
    n_frames = max(pre + len(moving), pre + flash_frames) + post
    centres = np.full((1 + len(positions), n_frames), np.nan)
    centres[0, pre : pre + len(moving)] = moving
    centres[1:, pre : pre + flash_frames] = positions[:, None]
    profile = bar_profile(centres.ravel(), width, size).reshape(*centres.shape, size)
    return Rendered(
        _columns(params["contrast"] * profile, size),
        {
            "kind": ["moving"] + ["flash"] * len(positions),
            "position": np.concatenate([[np.nan], positions]),
        },
        timed={"bar_position": centres},
        events={"onset_frame": pre, "speed": speed},
    )


def reversal(params: dict, size: int) -> Rendered:
    """A bar that reverses its motion at several positions, and one that does not (control)."""
    width, speed, post = params["bar_width"], params["speed"], params["post_frames"]
    turns = (size - 1) / 2 + np.asarray(params["reversal_positions"], dtype=np.float64)
    start = -width / 2 - 0.5
    turn_frames = np.ceil((turns - start) / speed).astype(np.int64)
    n_frames = int(turn_frames.max()) + post
    t = np.arange(n_frames)
    forward = start + speed * t
    centres = np.empty((len(turns) + 1, n_frames))
    for i, frame in enumerate(turn_frames):
        peak = start + speed * frame
        centres[i] = np.where(t <= frame, forward, peak - speed * (t - frame))
    centres[-1] = forward
    profile = bar_profile(centres.ravel(), width, size).reshape(*centres.shape, size)
    return Rendered(
        _columns(params["contrast"] * profile, size),
        {
            "kind": ["reversal"] * len(turns) + ["control"],
            "reversal_position": np.concatenate([params["reversal_positions"], [np.nan]]),
            "reversal_frame": np.concatenate([turn_frames, [-1]]),
        },
        timed={"bar_position": centres},
        events={"speed": speed},
    )


def paired_flash(params: dict, size: int) -> Rendered:
    """One flash alone, then pairs at increasing intervals: recovery of the second response."""
    pre, flash_frames, post = params["pre_frames"], params["flash_frames"], params["post_frames"]
    intervals = np.asarray(params["intervals"], dtype=np.int64)
    if (intervals < flash_frames).any():
        raise ValueError(f"paired_flash: intervals {intervals.tolist()} shorter than a flash")
    n_frames = pre + int(intervals.max()) + flash_frames + post
    values = np.zeros((1 + len(intervals), n_frames))
    values[:, pre : pre + flash_frames] = params["contrast"]
    for i, interval in enumerate(intervals, start=1):
        values[i, pre + interval : pre + interval + flash_frames] = params["contrast"]
    return Rendered(
        _full_field(values, size),
        {"interval": np.concatenate([[0], intervals])},
        events={"onset_frame": pre, "flash_frames": flash_frames},
    )


def contrast_adaptation(params: dict, size: int) -> Rendered:
    """Full-field Gaussian flicker switching low -> high -> low contrast, several repeats.

    The last fifth of the high-contrast period repeats its first fifth frame for frame (a frozen
    probe), so the responses early and late in the period differ only by the circuit's adaptation
    state, not by the stimulus.
    """
    low, high = params["low_frames"], params["high_frames"]
    schedule = np.concatenate(
        [
            np.full(low, params["low_contrast"]),
            np.full(high, params["high_contrast"]),
            np.full(low, params["low_contrast"]),
        ]
    )
    rng = np.random.default_rng(params["seed"])
    values = np.clip(rng.standard_normal((params["repeats"], len(schedule))) * schedule, -1, 1)
    probe = max(1, high // 5)
    values[:, low + high - probe : low + high] = values[:, low : low + probe]
    return Rendered(
        _full_field(values, size),
        {"repeat": np.arange(params["repeats"])},
        timed={"contrast_std": np.broadcast_to(schedule, values.shape).copy()},
        events={"high_start_frame": low, "high_stop_frame": low + high, "probe_frames": probe},
    )


def reversing_grating(params: dict, size: int) -> Rendered:
    """Contrast-reversing square-wave gratings of several bar widths and spatial phases."""
    half, cycles = params["half_period_frames"], params["cycles"]
    widths = np.asarray(params["bar_widths"], dtype=np.float64)
    phases = np.arange(params["n_phases"]) / params["n_phases"]
    width_of = np.repeat(widths, len(phases))
    phase_of = np.tile(phases, len(widths))
    offsets = (size - 1) / 2 + phase_of * 2 * width_of  # phase 0: a bar edge at the centre
    patterns = np.stack(
        [square_wave(np.array([o]), w, size)[0] for o, w in zip(offsets, width_of, strict=True)]
    )
    sign = np.where((np.arange(2 * half * cycles) // half) % 2 == 0, 1.0, -1.0)
    profile = params["contrast"] * sign[None, :, None] * patterns[:, None, :]
    return Rendered(
        _columns(profile, size),
        {"bar_width": width_of, "phase": phase_of},
        events={"half_period_frames": half, "cycles": cycles},
    )


def object_motion(params: dict, size: int) -> Rendered:
    """A jittering grating patch over the centre, its background moving with it or independently.

    ``global``: object and background jitter together (eye movement); ``differential``: the
    background follows its own trajectory (object motion). The object's trajectory is the same in
    both, so the centre sees the same stimulus and only the surround differs.
    """
    width, frames, trials = params["bar_width"], params["frames"], params["trials"]
    rng = np.random.default_rng(params["seed"])
    walks = np.cumsum(rng.normal(0.0, params["jitter_px"], size=(trials, 2, frames)), axis=-1)
    centre = (size - 1) / 2
    inside_1d = np.abs(_pixels(size) - centre) <= params["object_half_width"]
    inside = inside_1d[:, None] & inside_1d[None, :]
    kinds, trial_of, contrast = [], [], []
    for kind in ("global", "differential"):
        for trial in range(trials):
            obj = square_wave(walks[trial, 0], width, size)
            background = obj if kind == "global" else square_wave(walks[trial, 1], width, size)
            frames_ = np.where(inside, _columns(obj, size), _columns(background, size))
            contrast.append(params["contrast"] * frames_)
            kinds.append(kind)
            trial_of.append(trial)
    return Rendered(
        np.stack(contrast),
        {"kind": kinds, "trial": np.array(trial_of)},
        events={"object_half_width": params["object_half_width"]},
    )


PHENOMENA: dict[str, Callable[[dict, int], Rendered]] = {
    "flash": flash,
    "latency": latency,
    "omitted_stimulus": omitted_stimulus,
    "anticipation": anticipation,
    "reversal": reversal,
    "paired_flash": paired_flash,
    "contrast_adaptation": contrast_adaptation,
    "reversing_grating": reversing_grating,
    "object_motion": object_motion,
}


def render(phenomenon: str, params: dict, size: int, history: int) -> xr.Dataset:
    """The stimulus of ``phenomenon`` for a model of ``size`` pixels and ``history`` frames.

    Returns a Dataset with ``movie (condition, frame, y, x)`` uint8 (``pad = history - 1`` grey
    frames first), the condition coordinates, per-frame coordinates on ``time`` and attrs
    ``phenomenon``, ``pad``, ``history``, ``size``, ``params`` (JSON) and the stimulus' events.
    """
    if phenomenon not in PHENOMENA:
        raise ValueError(f"unknown phenomenon {phenomenon!r}; known: {sorted(PHENOMENA)}")
    if history < 1 or size < 1:
        raise ValueError(f"history and size must be positive, got {history}, {size}")
    rendered = PHENOMENA[phenomenon](params, size)
    pad = history - 1
    n_conditions, n_frames = rendered.contrast.shape[:2]
    movie = np.full((n_conditions, pad + n_frames, size, size), int(GREY), dtype=np.uint8)
    movie[:, pad:] = to_uint8(rendered.contrast)
    coords = {
        "condition": np.arange(n_conditions),
        "time": ("time", np.arange(n_frames) * BIN_SECONDS, {"units": "s"}),
        **{name: ("condition", np.asarray(values)) for name, values in rendered.conditions.items()},
        **{name: (("condition", "time"), values) for name, values in rendered.timed.items()},
    }
    attrs = {
        "phenomenon": phenomenon,
        "pad": pad,
        "history": history,
        "size": size,
        "params": json.dumps(params, sort_keys=True),
        **rendered.events,
    }
    return xr.Dataset({"movie": (("condition", "frame", "y", "x"), movie)}, coords, attrs)


def stimulus_params(dataset: xr.Dataset) -> dict:
    """The parameters a stimulus was rendered with."""
    return json.loads(dataset.attrs["params"])
