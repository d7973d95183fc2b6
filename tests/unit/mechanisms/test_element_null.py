"""The second null of phenomena.csv: the circuit control with its mechanism's element removed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from insilico.branches import validate
from insilico.core.config import load_schema, read_config_file
from insilico.mechanisms import control, experiments, stimuli
from insilico.retina.inference import predict
from insilico.retina.simulator import SimulatedRetina, white_noise_movie

REPO = Path(__file__).parents[3]
HISTORY = 20
RETINA = {
    "size": 20,  # the default circuit, with its OMS cells
    "cell_types": ["off_fast", "off_slow", "on", "on_off", "oms"],
    "cells_per_type": 2,
    "subunit_spacing": 2,
    "max_rate": 60,
    "saccade_seconds": 1.0,
    "jitter_px": 0.5,
}


@pytest.fixture(scope="module")
def circuit():
    retina = SimulatedRetina(RETINA, seed=0)
    return retina, *control.circuit_cnn(retina, HISTORY, channels=(8, 8))


@pytest.fixture(scope="module")
def config():
    schema = load_schema(REPO / "schemas" / "config.schema.yaml")
    return validate({}, schema, read_config_file(REPO / "config.yaml"))["mechanisms"]


def test_removing_an_element_zeroes_its_channels_only(circuit):
    retina, model, meta = circuit
    n_bipolar = len(retina.bipolar_types)
    assert control.element_channels(retina, "amacrine") == [n_bipolar, n_bipolar + 1]
    assert control.element_channels(retina, "polyaxonal") == [n_bipolar + 2]
    ablated, ablated_meta = control.without_element(model, meta, retina, "polyaxonal")
    weight = model.readout.weight.detach().view(meta["n_cells"], 8, -1)
    after = ablated.readout.weight.detach().view(meta["n_cells"], 8, -1)
    assert weight[:, n_bipolar + 2].abs().sum() > 0 and after[:, n_bipolar + 2].abs().sum() == 0
    np.testing.assert_array_equal(after[:, : n_bipolar + 2], weight[:, : n_bipolar + 2])
    assert ablated_meta["control"] == "circuit without polyaxonal"
    movie = white_noise_movie(100, retina.size, np.random.default_rng(0))
    oms = [i for i, t in enumerate(retina.cell_types) if t == "oms"]
    rates, ablated_rates = predict(model, meta, movie), predict(ablated, meta, movie)
    others = [i for i in range(retina.n_cells) if i not in oms]
    np.testing.assert_array_equal(rates[others], ablated_rates[others])
    assert not np.allclose(rates[oms], ablated_rates[oms])
    without_oms = SimulatedRetina({**RETINA, "cell_types": ["on"]}, seed=0)
    assert control.without_element(model, meta, without_oms, "polyaxonal") is None
    with pytest.raises(ValueError, match="unknown element"):
        control.element_channels(retina, "depression")


@pytest.mark.parametrize("phenomenon", ["object_motion", "flash"])
def test_the_element_null_differs_from_the_intact_control(circuit, config, phenomenon):
    """Each default element moves at least one of its phenomenon's key numbers by more than the
    resolution: the null is not the intact control under another name."""
    retina, model, meta = circuit
    element = config["element_nulls"][phenomenon]
    stimulus = stimuli.render(phenomenon, config["stimuli"][phenomenon], retina.size, HISTORY)
    responses = experiments.run_experiment(
        stimulus,
        model=model,
        meta=meta,
        retina=retina,
        element_null=(element, *control.without_element(model, meta, retina, element)),
        min_response=config["min_response"],
    )
    numbers = json.loads(responses.attrs["key_numbers"])
    assert responses.attrs["element"] == element
    tolerance = config["agreement"][phenomenon]
    moved = {
        q: abs(numbers["element_null"][q] - numbers["cnn"][q]) > tolerance[q]
        for q in numbers["cnn"]
    }
    assert any(moved.values()), numbers
    if phenomenon == "object_motion":  # without the polyaxonal inhibition no object preference
        assert moved["oms_index"] and numbers["element_null"]["oms_index"] < 0.05
