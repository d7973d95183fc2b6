"""In-silico experiments: responses of a CNN and of the simulated retina to the structured stimuli,
and each phenomenon's standard summary (the numbers the figures and tables report).

Responses are rates ``(condition, cell, time)`` in Hz on the stimulus' ``time`` axis. ``rest`` is a
cell's rate on the mean-grey screen: the CNN's output for an all-grey window, the simulator's rate
at rest. Latencies are in ms from the event, positions in pixels. A cell counts as responsive to
a condition when its response exceeds rest by ``min_response`` Hz; unresponsive entries are NaN,
so means over cells are over responsive cells only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from insilico.core.units import BIN_MS, GREY
from insilico.mechanisms.stimuli import stimulus_params

# Scores of the channel identification against the true pathways (mechanisms.groundtruth), per
# cell and layer, each with its chance level; the summary table reports their means.
IDENTIFICATION_SCORES = (
    "precision",
    "chance",
    "polarity_precision",
    "polarity_chance",
    "top_hit",
    "overlap",
    "overlap_chance",
)


def truth_cell_indices(cell_names: Sequence[str]) -> list[int]:
    """0-based simulator cell index of each recorded cell name (``cell01`` is the first cell)."""
    indices = []
    for name in cell_names:
        if not (name.startswith("cell") and name[4:].isdigit()):
            raise ValueError(f"cannot map cell name {name!r} to a simulator cell (expected cellNN)")
        indices.append(int(name[4:]) - 1)
    return indices


def check_geometry(stimulus: xr.Dataset, meta: dict) -> None:
    """Stimuli rendered for another CNN's size or history would be misread: refuse them."""
    if stimulus.attrs["history"] != meta["history"] or stimulus.attrs["size"] != meta["size"]:
        raise ValueError(
            f"stimulus {stimulus.attrs['phenomenon']!r} was rendered for history "
            f"{stimulus.attrs['history']}, size {stimulus.attrs['size']}; the model has history "
            f"{meta['history']}, size {meta['size']}"
        )


def cnn_rates(model, meta: dict, stimulus: xr.Dataset, batch_size: int = 4096) -> np.ndarray:
    """CNN rates ``(condition, cell, time)``: all conditions in one pass, batched on the model's device.

    The conditions are concatenated along time; every condition starts with ``history - 1`` grey
    frames, so each prediction's window lies within one condition.
    """
    from insilico.retina.inference import predict

    check_geometry(stimulus, meta)
    movie = stimulus["movie"].values
    n_conditions, n_frames = movie.shape[:2]
    n_time = stimulus.sizes["time"]
    rates = predict(model, meta, movie.reshape(-1, *movie.shape[2:]), batch_size=batch_size)
    index = np.arange(n_conditions)[:, None] * n_frames + np.arange(n_time)[None, :]
    return rates[:, index].transpose(1, 0, 2)


def cnn_rest(model, meta: dict) -> np.ndarray:
    """CNN rates ``(cell,)`` for an all-grey window (the integrated-gradients baseline)."""
    from insilico.retina.inference import predict

    grey = np.full((meta["history"], meta["size"], meta["size"]), int(GREY), dtype=np.uint8)
    return predict(model, meta, grey)[:, 0]


def retina_rates(retina, stimulus: xr.Dataset, cells: Sequence[int]) -> np.ndarray:
    """Noiseless simulator rates ``(condition, cell, time)``; each condition starts from rest."""
    pad = stimulus.attrs["pad"]
    movie = stimulus["movie"].values
    return np.stack([retina.respond(m, keep_internals=False)["rate"][cells, pad:] for m in movie])


def retina_rest(retina, cells: Sequence[int]) -> np.ndarray:
    """Simulator rates ``(cell,)`` on a grey screen (the circuit at rest)."""
    grey = np.full((2, retina.size, retina.size), int(GREY), dtype=np.uint8)
    return retina.respond(grey, keep_internals=False)["rate"][cells, -1]


# -- summaries ------------------------------------------------------------------------------------


def _responsive(values: np.ndarray, min_response: float) -> np.ndarray:
    return np.where(values >= min_response, values, np.nan)


def _peak(rate: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Peak value and its frame (from ``start``) of ``rate[..., start:stop]``."""
    window = rate[..., start:stop]
    return window.max(-1), window.argmax(-1)


def _events(stimulus: xr.Dataset) -> dict:
    return {**stimulus.attrs, **stimulus_params(stimulus)}


def summarise_flash(rate, rest, stimulus, min_response) -> xr.Dataset:
    """Peak (Hz above rest) and latency (ms) of the onset response; offset response of steps;
    polarity index (ON - OFF) / (ON + OFF) of the flash responses (+1 ON, -1 OFF, 0 ON-OFF)."""
    e = _events(stimulus)
    drive = rate - rest[None, :, None]
    peak, frame = _peak(drive, e["onset_frame"], e["step_offset_frame"])
    offset_peak, _ = _peak(drive, e["step_offset_frame"], drive.shape[-1])
    peak = _responsive(peak, min_response)
    latency = np.where(np.isfinite(peak), frame * BIN_MS, np.nan)
    labels = list(stimulus["label"].values)
    on = np.nan_to_num(peak[labels.index("flash_on")])
    off = np.nan_to_num(peak[labels.index("flash_off")])
    total = on + off
    polarity = np.divide(on - off, total, out=np.full_like(total, np.nan), where=total > 0)
    return xr.Dataset(
        {
            "peak": (("condition", "cell"), peak, {"units": "Hz above rest"}),
            "latency": (("condition", "cell"), latency, {"units": "ms"}),
            "offset_peak": (("condition", "cell"), _responsive(offset_peak, min_response)),
            "polarity_index": ("cell", polarity),
        }
    )


def summarise_latency(rate, rest, stimulus, min_response) -> xr.Dataset:
    """Latency (ms) and size of the peak response after the step, per intensity."""
    e = _events(stimulus)
    peak, frame = _peak(rate - rest[None, :, None], e["onset_frame"], rate.shape[-1])
    peak = _responsive(peak, min_response)
    return xr.Dataset(
        {
            "peak": (("condition", "cell"), peak, {"units": "Hz above rest"}),
            "latency": (
                ("condition", "cell"),
                np.where(np.isfinite(peak), frame * BIN_MS, np.nan),
                {"units": "ms"},
            ),
        }
    )


def _slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of each column of ``y`` (x, cell) on ``x``, over finite entries."""
    slopes = np.full(y.shape[1], np.nan)
    for cell in range(y.shape[1]):
        ok = np.isfinite(y[:, cell])
        if ok.sum() >= 2 and np.ptp(x[ok]) > 0:
            slopes[cell] = np.polyfit(x[ok], y[ok, cell], 1)[0]
    return slopes


def summarise_omitted_stimulus(rate, rest, stimulus, min_response) -> xr.Dataset:
    """Burst after the omitted flash: peak (Hz above rest) and latency from the omitted flash (ms).

    ``slope`` is the slope of the burst time measured from the *last* flash against the period:
    1 when the burst tracks the expected time of the next flash (prediction), 0 when it is a fixed
    rebound after the last flash.
    """
    post = stimulus_params(stimulus)["post_frames"]
    omitted = stimulus["omitted_frame"].values
    drive = rate - rest[None, :, None]
    peaks, frames = zip(*(_peak(drive[i], o, o + post) for i, o in enumerate(omitted)), strict=True)
    peak = _responsive(np.stack(peaks), min_response)
    latency = np.where(np.isfinite(peak), np.stack(frames) * BIN_MS, np.nan)
    period_ms = stimulus["period"].values * BIN_MS
    return xr.Dataset(
        {
            "burst_peak": (("condition", "cell"), peak, {"units": "Hz above rest"}),
            "burst_latency": (("condition", "cell"), latency, {"units": "ms from omitted flash"}),
            "slope": ("cell", _slope(period_ms, latency + period_ms[:, None])),
        }
    )


def _refine(profile: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Sub-sample position of each column's maximum (parabola through the peak and neighbours)."""
    best = profile.argmax(0)
    out = positions[best].astype(float)
    step = positions[1] - positions[0] if len(positions) > 1 else 0.0
    for cell, i in enumerate(best):
        if 0 < i < len(positions) - 1:
            left, mid, right = profile[i - 1 : i + 2, cell]
            curvature = left - 2 * mid + right
            if curvature < 0:
                out[cell] += step * 0.5 * (left - right) / curvature
    return out


def summarise_anticipation(rate, rest, stimulus, min_response) -> xr.Dataset:
    """Receptive-field position from flashed bars against the peak of the moving-bar response.

    ``rf_position``: the bar position that gives the largest flash response (refined by a
    parabola); ``flash_latency``: time to that response's peak. ``lead``: how far the moving bar's
    response is ahead of the bar, ``rf_position - bar position at the response peak`` in pixels
    along the motion; a pure delay would give ``expected_lead = -speed * flash_latency``.
    """
    e = _events(stimulus)
    kinds = list(stimulus["kind"].values)
    moving = kinds.index("moving")
    flashes = [i for i, k in enumerate(kinds) if k == "flash"]
    positions = stimulus["position"].values[flashes]
    drive = rate - rest[None, :, None]
    profile, frames = _peak(drive[flashes], e["onset_frame"], drive.shape[-1])
    rf_position = _refine(profile, positions)
    best = profile.argmax(0)
    flash_latency = frames[best, np.arange(len(best))] * BIN_MS
    moving_peak, moving_frame = _peak(drive[moving], e["onset_frame"], drive.shape[-1])
    bar_at_peak = (
        stimulus["bar_position"].values[moving, e["onset_frame"]] + e["speed"] * moving_frame
    )
    ok = (profile.max(0) >= min_response) & (moving_peak >= min_response)
    lead = np.where(ok, rf_position - bar_at_peak, np.nan)
    expected = np.where(ok, -e["speed"] * flash_latency / BIN_MS, np.nan)
    return xr.Dataset(
        {
            "flash_profile": (("flash", "cell"), profile, {"units": "Hz above rest"}),
            "rf_position": ("cell", np.where(ok, rf_position, np.nan), {"units": "px"}),
            "flash_latency": ("cell", np.where(ok, flash_latency, np.nan), {"units": "ms"}),
            "lead": ("cell", lead, {"units": "px"}),
            "expected_lead": ("cell", expected, {"units": "px"}),
        },
        coords={"flash_position": ("flash", positions)},
    )


def summarise_reversal(rate, rest, stimulus, min_response) -> xr.Dataset:
    """Reversal burst: the response in excess of the non-reversing control after the reversal."""
    post = stimulus_params(stimulus)["post_frames"]
    kinds = list(stimulus["kind"].values)
    control = rate[kinds.index("control")]
    turns = [(i, int(f)) for i, f in enumerate(stimulus["reversal_frame"].values) if f >= 0]
    amplitude = np.full((len(kinds), rate.shape[1]), np.nan)
    latency = np.full_like(amplitude, np.nan)
    for i, frame in turns:
        peak, at = _peak(rate[i] - control, frame, frame + post)
        amplitude[i] = _responsive(peak, min_response)
        latency[i] = np.where(np.isfinite(amplitude[i]), at * BIN_MS, np.nan)
    return xr.Dataset(
        {
            "burst_amplitude": (("condition", "cell"), amplitude, {"units": "Hz above control"}),
            "burst_latency": (("condition", "cell"), latency, {"units": "ms from reversal"}),
        }
    )


def summarise_paired_flash(rate, rest, stimulus, min_response) -> xr.Dataset:
    """Second-flash response (pair minus single flash) relative to the single-flash response."""
    e = _events(stimulus)
    intervals = stimulus["interval"].values
    single = rate[0]
    first, _ = _peak(single - rest[:, None], e["onset_frame"], rate.shape[-1])
    first = _responsive(first, min_response)
    ratio = np.full((len(intervals), rate.shape[1]), np.nan)
    for i, interval in enumerate(intervals):
        if interval == 0:
            continue
        second, _ = _peak(rate[i] - single, e["onset_frame"] + interval, rate.shape[-1])
        ratio[i] = second / first
    return xr.Dataset(
        {
            "first_peak": ("cell", first, {"units": "Hz above rest"}),
            "ratio": (("condition", "cell"), ratio, {"units": "second / first response"}),
        }
    )


def summarise_contrast_adaptation(rate, rest, stimulus, min_response) -> xr.Dataset:
    """Trial-averaged rate; adaptation index (early - late) / (early + late) of the high period.

    Early and late are the mean rates over the first and last fifth of the high-contrast period,
    where the stimulus is the same frozen flicker: positive when the rate decays as the circuit
    adapts, 0 without adaptation, negative for sensitisation. A cell counts when its
    trial-averaged rate during the high-contrast period spans at least ``min_response``.
    """
    e = _events(stimulus)
    mean = rate.mean(0)
    start, stop, window = e["high_start_frame"], e["high_stop_frame"], e["probe_frames"]
    early = mean[:, start : start + window].mean(-1)
    late = mean[:, stop - window : stop].mean(-1)
    ok = np.ptp(mean[:, start:stop], axis=-1) >= min_response
    index = np.where(ok, (early - late) / np.maximum(early + late, 1e-9), np.nan)
    return xr.Dataset(
        {
            "mean_rate": (("cell", "time"), mean, {"units": "Hz"}),
            "early_rate": ("cell", early, {"units": "Hz"}),
            "late_rate": ("cell", late, {"units": "Hz"}),
            "adaptation_index": ("cell", index),
        }
    )


def summarise_reversing_grating(rate, rest, stimulus, min_response) -> xr.Dataset:
    """F1 and F2 amplitudes (Hz) per grating; frequency doubling F2 / F1 per bar width.

    Harmonics of the reversal cycle from the Fourier transform of the response over all cycles
    but the first (onset transient); per bar width, the maximum over spatial phases of F2 divided
    by the maximum of F1 (Hochstein and Shapley): above 1 means nonlinear spatial summation.
    """
    e = _events(stimulus)
    half, cycles = e["half_period_frames"], e["cycles"]
    skip = 1 if cycles > 1 else 0
    segment = rate[..., skip * 2 * half : cycles * 2 * half]
    n_cycles = cycles - skip
    spectrum = 2 * np.abs(np.fft.rfft(segment, axis=-1)) / segment.shape[-1]
    f1, f2 = spectrum[..., n_cycles], spectrum[..., 2 * n_cycles]
    widths = stimulus["bar_width"].values
    unique = np.unique(widths)
    f1_max = np.stack([f1[widths == w].max(0) for w in unique])
    f2_max = np.stack([f2[widths == w].max(0) for w in unique])
    ok = np.maximum(f1_max, f2_max) >= min_response
    index = np.where(ok, f2_max / np.maximum(f1_max, 1e-9), np.nan)
    return xr.Dataset(
        {
            "f1": (("condition", "cell"), f1, {"units": "Hz"}),
            "f2": (("condition", "cell"), f2, {"units": "Hz"}),
            "doubling_index": (("width", "cell"), index, {"units": "max F2 / max F1"}),
        },
        coords={"width": unique},
    )


def summarise_object_motion(rate, rest, stimulus, min_response) -> xr.Dataset:
    """Mean rate to global and differential motion; OMS index (diff - global) / (diff + global)."""
    kinds = np.asarray(stimulus["kind"].values)
    names = ["global", "differential"]
    mean = np.stack([rate[kinds == k].mean((0, -1)) for k in names])
    ok = mean.max(0) - rest >= min_response
    index = np.where(ok, (mean[1] - mean[0]) / np.maximum(mean.sum(0), 1e-9), np.nan)
    return xr.Dataset(
        {
            "motion_rate": (("motion", "cell"), mean, {"units": "Hz"}),
            "oms_index": ("cell", index),
        },
        coords={"motion": names},
    )


SUMMARIES: dict[str, Callable[..., xr.Dataset]] = {
    "flash": summarise_flash,
    "latency": summarise_latency,
    "omitted_stimulus": summarise_omitted_stimulus,
    "anticipation": summarise_anticipation,
    "reversal": summarise_reversal,
    "paired_flash": summarise_paired_flash,
    "contrast_adaptation": summarise_contrast_adaptation,
    "reversing_grating": summarise_reversing_grating,
    "object_motion": summarise_object_motion,
}


def summarise(rate: xr.DataArray, rest: xr.DataArray, stimulus: xr.Dataset, min_response: float):
    """The phenomenon's summary for every ``source`` of ``rate (source, condition, cell, time)``."""
    summarise_one = SUMMARIES[stimulus.attrs["phenomenon"]]
    per_source = [
        summarise_one(
            rate.sel(source=source).transpose("condition", "cell", "time").values,
            rest.sel(source=source).values,
            stimulus,
            min_response,
        )
        for source in rate["source"].values
    ]
    summary = xr.concat(per_source, dim="source", data_vars="all", coords="minimal")
    summary = summary.assign_coords(source=rate["source"].values, cell=rate["cell"].values)
    return summary.rename({name: f"summary_{name}" for name in summary.data_vars})


def _nanmean(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def _first_finite(values: np.ndarray) -> np.ndarray:
    """Per cell (column), the first finite entry along the first axis (NaN if none)."""
    finite = np.isfinite(values)
    first = finite.argmax(0)
    picked = values[first, np.arange(values.shape[1])]
    return np.where(finite.any(0), picked, np.nan)


def key_numbers(summary: xr.Dataset, stimulus: xr.Dataset, source: str) -> dict[str, float]:
    """The phenomenon's headline numbers for one source (means over responsive cells).

    Where a curve runs over a stimulus parameter (intensity, bar width), "weakest" / "finest"
    is each cell's first value that passes the response criterion from that end.
    """
    s = summary.sel(source=source)
    phenomenon = stimulus.attrs["phenomenon"]

    def v(name):
        return s[f"summary_{name}"]

    if phenomenon == "flash":
        labels = list(stimulus["label"].values)
        return {
            "flash_on_latency_ms": _nanmean(v("latency")[labels.index("flash_on")]),
            "flash_off_latency_ms": _nanmean(v("latency")[labels.index("flash_off")]),
            "on_cells": float((v("polarity_index") > 1 / 3).sum()),
            "off_cells": float((v("polarity_index") < -1 / 3).sum()),
        }
    if phenomenon == "latency":
        latency = v("latency").values
        return {
            "latency_weakest_ms": _nanmean(_first_finite(latency)),
            "latency_strongest_ms": _nanmean(_first_finite(latency[::-1])),
        }
    if phenomenon == "omitted_stimulus":
        return {
            "burst_latency_ms": _nanmean(v("burst_latency")),
            "burst_slope_vs_period": _nanmean(v("slope")),
        }
    if phenomenon == "anticipation":
        return {"lead_px": _nanmean(v("lead")), "expected_lead_px": _nanmean(v("expected_lead"))}
    if phenomenon == "reversal":
        return {
            "burst_latency_ms": _nanmean(v("burst_latency")),
            "burst_amplitude_hz": _nanmean(v("burst_amplitude")),
        }
    if phenomenon == "paired_flash":
        ratio = v("ratio").values[1:]
        return {"ratio_shortest": _nanmean(ratio[0]), "ratio_longest": _nanmean(ratio[-1])}
    if phenomenon == "contrast_adaptation":
        return {"adaptation_index": _nanmean(v("adaptation_index"))}
    if phenomenon == "reversing_grating":
        index = v("doubling_index").values
        return {
            "f2_f1_finest": _nanmean(_first_finite(index)),
            "f2_f1_coarsest": _nanmean(_first_finite(index[::-1])),
        }
    if phenomenon == "object_motion":
        return {"oms_index": _nanmean(v("oms_index"))}
    raise ValueError(f"no key numbers for phenomenon {phenomenon!r}")


def run_experiment(
    stimulus: xr.Dataset,
    *,
    model,
    meta: dict,
    retina=None,
    null=None,
    element_null=None,
    min_response: float,
    batch_size: int = 4096,
) -> xr.Dataset:
    """Responses of the CNN (and of the simulated retina, if given) and their summaries.

    Returns the stimulus Dataset with ``rate (source, condition, cell, time)``, ``rest_rate
    (source, cell)`` and ``summary_*`` variables; ``source`` is ``cnn`` and, with a retina,
    ``truth``. ``null``: ``(model, meta)`` of a null model (the LN model) whose key numbers
    join the ``key_numbers`` attribute as ``null``, the baseline a CNN must beat.
    ``element_null``: ``(element, model, meta)``, the circuit control with the phenomenon's
    element removed (:func:`insilico.mechanisms.control.without_element`); its key numbers join
    as ``element_null`` and the attribute ``element`` names it.
    """
    cells = list(meta["cell_names"])
    rates = [cnn_rates(model, meta, stimulus, batch_size)]
    rests = [cnn_rest(model, meta)]
    sources = ["cnn"]
    if retina is not None:
        indices = truth_cell_indices(cells)
        rates.append(retina_rates(retina, stimulus, indices))
        rests.append(retina_rest(retina, indices))
        sources.append("truth")
    rate = xr.DataArray(
        np.stack(rates),
        dims=("source", "condition", "cell", "time"),
        coords={"source": sources, "cell": cells},
        attrs={"units": "Hz"},
    )
    rest = xr.DataArray(np.stack(rests), dims=("source", "cell"), coords=rate["source"].coords)
    rest = rest.assign_coords(cell=cells)
    out = stimulus.assign(rate=rate, rest_rate=rest)
    summary = summarise(rate, rest, stimulus, min_response)
    out = out.merge(summary)
    out.attrs["min_response"] = min_response
    numbers = {source: key_numbers(out, stimulus, source) for source in sources}
    if null is not None:
        numbers["null"] = _null_numbers(*null, stimulus, min_response, batch_size)
    if element_null is not None:
        element, *ablated = element_null
        numbers["element_null"] = _null_numbers(*ablated, stimulus, min_response, batch_size)
        out.attrs["element"] = element
    out.attrs["key_numbers"] = json.dumps(numbers)
    return out


def _null_numbers(model, meta, stimulus, min_response, batch_size) -> dict[str, float]:
    """The null model's key numbers for the stimulus (its rates summarised as the CNN's)."""
    rate = xr.DataArray(
        cnn_rates(model, meta, stimulus, batch_size)[None],
        dims=("source", "condition", "cell", "time"),
        coords={"source": ["null"], "cell": list(meta["cell_names"])},
    )
    rest = xr.DataArray(
        cnn_rest(model, meta)[None], dims=("source", "cell"), coords=rate["source"].coords
    ).assign_coords(cell=list(meta["cell_names"]))
    return key_numbers(summarise(rate, rest, stimulus, min_response), stimulus, "null")
