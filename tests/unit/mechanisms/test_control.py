"""The positive control: attribution recovers the pathways of a CNN built from the true circuit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from insilico.branches import validate
from insilico.core.config import load_schema
from insilico.mechanisms import attribution, experiments, groundtruth, reduction, stimuli
from insilico.mechanisms.control import circuit_cnn
from insilico.retina.inference import predict
from insilico.retina.simulator import SimulatedRetina, white_noise_movie

REPO = Path(__file__).parents[3]
HISTORY = 20  # the default: shorter windows cut the slow OFF filter and blur the two OFF types
DEVICE = torch.device("cpu")
PHENOMENA = ["flash", "anticipation", "reversing_grating"]


@pytest.fixture(scope="module")
def control():
    retina = SimulatedRetina(
        {
            "size": 20,  # the default circuit (at 16 px, flash layer 2 falls to chance)
            "cell_types": ["off_fast", "off_slow", "on", "on_off"],
            "cells_per_type": 2,
            "subunit_spacing": 2,
            "max_rate": 60,
            "saccade_seconds": 1.0,
            "jitter_px": 0.5,
        },
        seed=0,
    )
    model, meta = circuit_cnn(retina, HISTORY)
    return retina, model, meta


def test_control_channels_are_the_true_bipolar_signals(control):
    """Layer 1 is the rectified bipolar drive: identification names each channel's own type."""
    retina, model, meta = control
    offsets = groundtruth.receptive_field_offsets(model, meta)
    correlation = groundtruth.identify_on_probe(model, meta, retina, offsets, 4096, DEVICE)
    names = groundtruth.signal_names(retina)
    layer1 = correlation[: len(retina.bipolar_types)]
    assert [names[i] for i in layer1.argmax(1)] == [f"bipolar_{t}" for t in retina.bipolar_types]
    assert (layer1.max(1) > 0.5).all()


def test_control_fires_like_the_simulator(control):
    retina, model, meta = control
    movie = white_noise_movie(1000, retina.size, np.random.default_rng(3))
    rate = predict(model, meta, movie)
    assert 1.0 < rate.mean() < 20.0
    assert (rate.max(1) > 20.0).all()


def test_attribution_recovers_the_control_pathways(control):
    retina, model, meta = control
    schema = load_schema(REPO / "schemas" / "config.schema.yaml")
    params = validate({}, schema)["mechanisms"]["stimuli"]
    offsets = groundtruth.receptive_field_offsets(model, meta)
    recovered, testable = [], []
    for phenomenon in PHENOMENA:
        stimulus = stimuli.render(phenomenon, params[phenomenon], retina.size, HISTORY)
        responses = experiments.run_experiment(
            stimulus, model=model, meta=meta, retina=retina, min_response=2.0
        )
        attributed = attribution.attribute(
            model, meta, stimulus, steps=4, batch_size=4096, device=DEVICE
        )
        reduced = reduction.reduce(
            model,
            meta,
            stimulus,
            attributed,
            tolerance=0.1,
            min_response=2.0,
            batch_size=4096,
            device=DEVICE,
        )
        checked = groundtruth.check(
            model,
            meta,
            responses,
            attributed,
            reduced,
            retina,
            offsets=offsets,
            permutations=200,
            alpha=0.05,
            seed=0,
            batch_size=4096,
            device=DEVICE,
        )
        recovered += list(checked["recovered"].values)
        testable += list(checked["testable"].values)
        assert (checked["mean_precision"].values == 1.0).all(), phenomenon
    assert all(testable)
    assert np.mean(recovered) >= 0.9, recovered
