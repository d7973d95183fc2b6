import logging

import numpy as np
import pytest
import torch

from insilico.dynamics.gridcells import path_integration as pi
from insilico.dynamics.gridcells import population
from insilico.dynamics.gridcells.trajectories import Motion

MOTION = Motion(box=1.0, steps=10)
TRAIN = {"learning_rate": 3e-3, "steps": 150, "batch_size": 32}
LOG = logging.getLogger("test")


def net(**kw):
    base = dict(activation="relu", hidden=48, width=0.15, surround=2.0, weight_decay=1e-4, seed=0)
    return population.GridNetwork(**{**base, **kw})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    networks = [net(), net(seed=1)]
    checkpoint = tmp_path_factory.mktemp("stack") / "checkpoint.pt"
    params, history = pi.train_stack(networks, 32, MOTION, TRAIN, LOG, checkpoint)
    return networks, params, history


def test_a_trained_tiny_network_decodes_position_better_than_chance(trained):
    networks, params, history = trained
    assert (history[:, -20:].mean(1) < history[:, :5].mean(1)).all()
    result = pi.evaluate(params, networks, 32, MOTION, batch=200, seed=9)
    untrained = {k: torch.stack([pi.init_parameters(n, 32)[k] for n in networks]) for k in params}
    before = pi.evaluate(untrained, networks, 32, MOTION, batch=200, seed=9)
    assert (result["decoding_error"] < 0.6 * result["chance_error"]).all()
    assert (result["decoding_error"] < 0.75 * before["decoding_error"]).all()
    assert result["activity"].shape == (2, 200 * MOTION.steps, 48)


def test_a_network_trains_the_same_alone_or_in_a_stack(trained, tmp_path):
    networks, params, _ = trained
    short = {**TRAIN, "steps": 20}
    alone, _ = pi.train_stack([networks[1]], 32, MOTION, short, LOG, tmp_path / "alone.pt")
    stacked, _ = pi.train_stack(networks, 32, MOTION, short, LOG, tmp_path / "stacked.pt")
    for key in alone:
        torch.testing.assert_close(alone[key][0], stacked[key][1], rtol=1e-4, atol=1e-5)


def test_stacks_group_by_activation_and_size():
    networks = [net(), net(activation="tanh"), net(seed=2), net(hidden=8)]
    groups = {(a, h): i for a, h, i in population.stacks_of(networks)}
    assert groups == {("relu", 8): [3], ("relu", 48): [0, 2], ("tanh", 48): [1]}
    assert len({n.name for n in networks}) == 4
    assert np.all([isinstance(n.as_dict(), dict) for n in networks])


def test_population_varies_one_factor_at_a_time_around_the_base():
    config = {
        "hidden": 16,
        "base": {"activation": "relu", "width": 0.12, "surround": 2.0, "weight_decay": 1e-4},
        "seeds": [0, 1],
        "sweep": {"activation": ["tanh", "linear"], "width": [0.12, 0.16], "surround": [1.0]},
    }
    networks = population.population(config)
    assert len(networks) == 6  # 2 base seeds + tanh + linear + width 0.16 + surround 1
    factors = [population.varied_factor(n, config["base"]) for n in networks]
    assert factors == ["base", "base", "activation", "activation", "width", "surround"]
    jobs = population.chunks(networks, per_job=3)
    assert sorted(len(j) for j in jobs) == [1, 1, 1, 3]
    assert all(len({n.activation for n in job}) == 1 for job in jobs)
    # factors in sweep_every_seed run at every seed, so claims can pair them with the base
    paired = population.population({**config, "sweep_every_seed": ["activation"]})
    controls = [(n.activation, n.seed) for n in paired if n.activation != "relu"]
    assert controls == [("tanh", 0), ("tanh", 1), ("linear", 0), ("linear", 1)]
    assert len(paired) == 8


def test_a_killed_stack_resumes_to_the_parameters_of_an_uninterrupted_one(tmp_path, monkeypatch):
    """Killed at step 7 of 20 (checkpoints every 2 steps), the stack resumes from step 6 with its
    weights, Adam and each seed's trajectory generator as they were, and its loss history."""
    networks, short = [net(hidden=8), net(hidden=8, seed=1)], {**TRAIN, "steps": 20}
    reference = pi.train_stack(networks, 16, MOTION, short, LOG, tmp_path / "reference.pt")
    real, calls = pi.episode, []

    def counted(*args, kill_at=None):
        calls.append(1)
        if len(calls) == kill_at:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(pi, "episode", lambda *args: counted(*args, kill_at=7))
    with pytest.raises(KeyboardInterrupt):
        pi.train_stack(networks, 16, MOTION, short, LOG, tmp_path / "killed.pt")
    calls.clear()
    monkeypatch.setattr(pi, "episode", lambda *args: counted(*args))
    params, history = pi.train_stack(networks, 16, MOTION, short, LOG, tmp_path / "killed.pt")
    assert len(calls) == 14  # steps 7 to 20: it resumed from step 6
    np.testing.assert_array_equal(history, reference[1])
    for key, tensor in reference[0].items():
        assert torch.equal(params[key], tensor), key
    assert not (tmp_path / "killed.pt").exists()
