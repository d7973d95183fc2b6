"""The simulated retina itself shows each phenomenon the mechanisms branch dissects.

Each test renders the phenomenon's stimulus (the default config's parameters), runs the noiseless
simulator from rest and checks the standard summary of :mod:`insilico.mechanisms.experiments`
for the sign and rough size reported for salamander retina (reference values in each docstring).
"""

from __future__ import annotations

import numpy as np
import pytest

from insilico.mechanisms import experiments as ex
from insilico.mechanisms.stimuli import render
from insilico.retina import simulator as rs

PARAMS = {
    "size": 16,
    "cell_types": ["off_fast", "off_slow", "on", "on_off"],
    "cells_per_type": 2,
    "subunit_spacing": 2,
    "max_rate": 60,
    "saccade_seconds": 1.0,
    "jitter_px": 0.5,
}
MIN_RESPONSE = 2.0
STIMULI = {
    "latency": {
        "pre_frames": 10,
        "step_frames": 40,
        "intensities": [0.1, 0.2, 0.35, 0.5, 0.7, 1.0],
    },
    "omitted_stimulus": {
        "pre_frames": 10,
        "periods": [6, 7, 8, 9, 10],
        "flash_frames": 2,
        "n_flashes": 8,
        "contrast": -1.0,
        "post_frames": 40,
    },
    "anticipation": {
        "bar_width": 2,
        "speed": 0.25,
        "contrast": -1.0,
        "pre_frames": 5,
        "flash_frames": 3,
        "post_frames": 30,
        "flash_spacing": 1,
    },
    "reversal": {
        "bar_width": 2,
        "speed": 0.3,
        "contrast": -1.0,
        "reversal_positions": [-4, -2, 0, 2, 4],
        "post_frames": 40,
    },
    "paired_flash": {
        "pre_frames": 10,
        "flash_frames": 2,
        "intervals": [20, 30, 50, 80, 120],
        "contrast": -1.0,
        "post_frames": 40,
    },
    "contrast_adaptation": {
        "low_contrast": 0.05,
        "high_contrast": 0.5,
        "low_frames": 100,
        "high_frames": 300,
        "repeats": 2,
        "seed": 0,
    },
    "reversing_grating": {
        "bar_widths": [2, 4, 8],
        "n_phases": 2,
        "half_period_frames": 20,
        "cycles": 3,
        "contrast": 1.0,
    },
}


@pytest.fixture(scope="module")
def retina():
    return rs.SimulatedRetina(PARAMS, 0)


def _summary(retina, phenomenon: str):
    """The simulator's summary of a phenomenon over all its cells, and the stimulus."""
    stimulus = render(phenomenon, STIMULI[phenomenon], retina.size, history=1)
    cells = list(range(retina.n_cells))
    rate = ex.retina_rates(retina, stimulus, cells)
    rest = ex.retina_rest(retina, cells)
    return ex.SUMMARIES[phenomenon](rate, rest, stimulus, MIN_RESPONSE), stimulus


def _of_type(retina, *types: str) -> np.ndarray:
    return np.array([t in types for t in retina.cell_types])


def test_omitted_stimulus_burst_tracks_the_period(retina):
    """Schwartz et al. 2007: ON-pathway cells burst after the missing dark flash; the burst time
    after the last flash grows with the period (slope ~1: the retina 'predicts' the next flash),
    not a fixed-latency rebound (slope 0). Burst larger than the responses during the train."""
    summary, stimulus = _summary(retina, "omitted_stimulus")
    on = _of_type(retina, "on", "on_off")
    slope = summary["slope"].values[on]
    assert np.isfinite(slope).all()
    assert 0.7 <= slope.mean() <= 1.2, slope
    latency = summary["burst_latency"].values[:, on]
    assert (latency >= 50).all() and (latency <= 200).all(), latency
    # A burst, not a ripple: well above the rate at the last flash of the train.
    cells = list(np.flatnonzero(on))
    rate = ex.retina_rates(retina, stimulus, cells)
    last = stimulus["last_flash_frame"].values
    during = np.stack([rate[i, :, last[i] - 5 : last[i] + 2].max(-1) for i in range(len(last))])
    assert (summary["burst_peak"].values[:, on] > 2 * during).all()


def test_latency_falls_with_contrast(retina):
    """Gollisch & Meister 2008: first-spike latency falls by tens of ms as contrast rises."""
    summary, _ = _summary(retina, "latency")
    latency = summary["latency"].values[:, _of_type(retina, "off_fast", "off_slow")]
    assert np.isfinite(latency[1:]).all()
    assert (np.diff(latency[1:], axis=0) <= 0).all(), latency
    drop = latency[1] - latency[-1]
    assert (drop >= 30).all() and (drop <= 150).all(), drop


def test_moving_bar_response_anticipates(retina):
    """Berry et al. 1999: the moving bar's response peaks near the bar's leading edge, far ahead
    of where a pure response delay (the flashed bar's latency) would put it."""
    summary, _ = _summary(retina, "anticipation")
    lead, expected = summary["lead"].values, summary["expected_lead"].values
    ok = np.isfinite(lead)
    assert ok.sum() >= retina.n_cells // 2
    assert np.mean(expected[ok]) < -1.5  # a delay would lag by more than a bar width
    assert np.mean(lead[ok]) > -0.5, (lead, expected)  # the response catches up with the bar
    assert np.mean(lead[ok] - expected[ok]) > 1.5


def test_reversal_evokes_a_burst(retina):
    """Schwartz et al. 2007 (PLoS Biol.): a burst about 100-250 ms after the bar reverses, in
    excess of the response to the bar that keeps going."""
    summary, _ = _summary(retina, "reversal")
    amplitude = summary["burst_amplitude"].values
    latency = summary["burst_latency"].values
    assert np.isfinite(amplitude).sum() >= retina.n_cells
    assert np.nanmean(amplitude) > 10
    assert 100 <= np.nanmedian(latency) <= 300, latency


def test_paired_flash_depression_recovers(retina):
    """Depleted ribbon pool: the second of two flashes 200 ms apart gives well under half the
    first response; it recovers towards 1 over about a second."""
    summary, _ = _summary(retina, "paired_flash")
    ratio = summary["ratio"].values[1:][:, _of_type(retina, "off_fast", "off_slow")]
    assert (ratio[0] < 0.5).all(), ratio
    assert (ratio[-1] > 0.75).all() and (ratio[-1] <= 1.05).all(), ratio
    assert (np.diff(ratio, axis=0) > -0.02).all(), ratio  # recovery is monotonic


def test_contrast_adaptation_gain_falls_at_high_contrast(retina):
    """Smirnakis et al. 1997, Baccus & Meister 2002: at high contrast the response to the same
    (frozen) flicker is smaller late than early; index (early - late) / (early + late) > 0."""
    summary, _ = _summary(retina, "contrast_adaptation")
    index = summary["adaptation_index"].values
    assert np.isfinite(index).all()
    assert (index > 0.03).all() and 0.08 <= index.mean() <= 0.4, index


def test_fine_reversing_gratings_double_the_frequency(retina):
    """Hochstein & Shapley 1976: rectified subunits make fine reversing gratings drive F2 > F1
    (in every type, at the finest visible bars); coarse bars favour F1 in the ON and OFF cells."""
    summary, _ = _summary(retina, "reversing_grating")
    index = summary["doubling_index"].values  # (width, cell), finest first
    assert np.nanmean(index[0]) > 1.5, index
    polar = _of_type(retina, "off_fast", "off_slow", "on")
    assert np.nanmean(index[-1, polar]) < np.nanmean(index[0, polar]), index


def test_differential_motion_excites_more_than_global_motion():
    """Olveczky et al. 2003: object-motion-sensitive cells fire to differential motion of centre
    and background and are suppressed by global motion (OMS index clearly above 0). Their
    polyaxonal amacrine inhibition is what does it: the other types are not OMS (index ~0)."""
    retina = rs.SimulatedRetina({**PARAMS, "cell_types": [*PARAMS["cell_types"], "oms"]}, 0)
    params = {
        "bar_width": 2,
        "object_half_width": 4,
        "jitter_px": 0.5,
        "frames": 150,
        "trials": 2,
        "contrast": 1.0,
        "seed": 0,
    }
    stimulus = render("object_motion", params, retina.size, history=1)
    cells = list(range(retina.n_cells))
    rate = ex.retina_rates(retina, stimulus, cells)
    rest = ex.retina_rest(retina, cells)
    summary = ex.summarise_object_motion(rate, rest, stimulus, 0.0)
    index = summary["oms_index"].values
    oms = _of_type(retina, "oms")
    assert np.isfinite(index).all(), index
    assert (index[oms] > 0.2).all(), index
    # Global motion suppresses OMS cells below their grey-screen rate.
    assert (summary["motion_rate"].sel(motion="global").values[oms] < rest[oms]).all()
    assert (index[~oms] < 0.1).all() and abs(index[~oms].mean()) < 0.05, index
