"""The positive control: attribution recovers the pathways of a CNN built from the true circuit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from insilico.branches import validate
from insilico.core.config import load_schema, read_config_file
from insilico.mechanisms import attribution, experiments, groundtruth, reduction, stimuli
from insilico.mechanisms.control import (
    circuit_cnn,
    dense_control,
    distractor_levels,
    untrained_cnn,
)
from insilico.retina.inference import predict
from insilico.retina.simulator import SimulatedRetina, white_noise_movie

REPO = Path(__file__).parents[3]
HISTORY = 20  # the default: shorter windows cut the slow OFF filter and blur the two OFF types
DEVICE = torch.device("cpu")
PHENOMENA = ["flash", "anticipation", "reversing_grating"]
# The default CNN's architecture (config.yaml retina.models.cnn) for the untrained control.
UNTRAINED = {"channels": [8, 8], "kernels": [9, 5], "batchnorm": True, "noise_std": 0.1}


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
    model, meta = circuit_cnn(retina, HISTORY, channels=(8, 8))  # the default CNN's counts
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


def _dissect(retina, model, meta):
    """The pipeline's stages on ``model``: per (phenomenon, layer) whether it recovered the
    circuit and was testable, the mean precision over chance, and the shuffled controls."""
    schema = load_schema(REPO / "schemas" / "config.schema.yaml")
    params = validate({}, schema, read_config_file(REPO / "config.yaml"))["mechanisms"]["stimuli"]
    offsets = groundtruth.receptive_field_offsets(model, meta)
    recovered, testable, excess, shuffled = [], [], [], []
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
            shuffles=100,
            alpha=0.05,
            seed=0,
            batch_size=4096,
            device=DEVICE,
        )
        recovered += list(checked["recovered"].values)
        testable += list(checked["testable"].values)
        excess.append(float((checked["mean_precision"] - checked["mean_chance"]).mean()))
        shuffled.append(checked["shuffled_recovered"].values)
    return np.array(recovered), np.array(testable), np.mean(excess), np.concatenate(shuffled)


@pytest.fixture(scope="module")
def dissected(control):
    """The circuit control, it with dense distractors at an untrained CNN's off-pathway level,
    and the untrained CNN itself, each dissected as a fitted CNN would be."""
    retina, model, meta = control
    untrained = untrained_cnn(retina, {**meta, "model_params": UNTRAINED}, seed=0)
    levels = distractor_levels(*untrained, retina)
    dense = dense_control(retina, HISTORY, levels, 1.0, seed=0, channels=(8, 8))
    return {
        "circuit": _dissect(retina, model, meta),
        "dense": _dissect(retina, *dense),
        "untrained": _dissect(retina, *untrained),
    }


def test_attribution_recovers_the_circuit_control(dissected):
    """Layer 2 (the bipolar and amacrine channels a cell reads) in every phenomenon; layer 1 is
    not required: its extra random channels take identities too, which lifts chance."""
    recovered, _, excess, _ = dissected["circuit"]
    assert recovered[1::2].all(), recovered
    assert excess > 0.2


def test_recovery_falls_as_distractors_grow(dissected):
    """Dense connections from every channel to every cell: the method's power must drop (a
    control that passed by construction would not notice them)."""
    circuit, dense = dissected["circuit"], dissected["dense"]
    assert dense[2] < circuit[2] - 0.05, (dense[2], circuit[2])
    assert dense[0].sum() < circuit[0].sum()


def test_negative_controls_stay_near_the_test_level(dissected):
    """Identities shuffled (>= 100 shuffles) and an untrained CNN: at most 10 % of cases
    recovered at alpha 0.05."""
    for name in ("circuit", "dense", "untrained"):
        shuffled = dissected[name][3]
        assert shuffled.shape[1] >= 100
        assert shuffled.mean() <= 0.10, (name, shuffled.mean())
    assert dissected["untrained"][0].mean() <= 0.10, dissected["untrained"][0]
