from __future__ import annotations

import pytest
import torch

from insilico.dynamics.tasks import TASKS, generator, make_task

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("name", TASKS)
def test_shapes_and_determinism(name):
    task = make_task(name)
    batch = task.sample(5, generator(3))
    assert batch.inputs.shape == (5, task.n_steps, task.n_inputs)
    assert batch.targets.shape == (5, task.n_steps, task.n_outputs)
    assert batch.mask.shape == (5, task.n_steps)
    again = task.sample(5, generator(3))
    assert torch.equal(batch.inputs, again.inputs) and torch.equal(batch.targets, again.targets)
    other = task.sample(5, generator(4))
    assert not torch.equal(batch.inputs, other.inputs)
    assert task.conditions().shape[1] == task.pulses().shape[1] == task.n_inputs


def test_flipflop_holds_the_last_pulse_of_each_channel():
    task = make_task("flipflop", {"bits": 3, "steps": 30, "pulse_probability": 0.2})
    batch = task.sample(16, generator(0))
    assert (batch.inputs[:, 0] != 0).all()  # every channel starts with a pulse
    assert set(batch.inputs.unique().tolist()) <= {-1.0, 0.0, 1.0}
    expected = torch.zeros_like(batch.targets)
    for b in range(16):
        for k in range(3):
            state = 0.0
            for t in range(30):
                if batch.inputs[b, t, k] != 0:
                    state = float(batch.inputs[b, t, k])
                expected[b, t, k] = state
    assert torch.equal(batch.targets, expected)
    assert task.pulses().shape == (6, 3)


def test_sine_target_is_the_cued_frequency():
    task = make_task("sine", {"frequencies": 4, "omega_min": 0.1, "omega_max": 0.4, "steps": 20})
    batch = task.sample(8, generator(1))
    time = torch.arange(20, dtype=torch.float32)
    for b in range(8):
        cue = batch.inputs[b, 0, 0]
        assert (batch.inputs[b, :, 0] == cue).all()  # static cue
        j = int(torch.argmin((task.cues - cue).abs()))
        assert torch.allclose(batch.targets[b, :, 0], torch.sin(task.omegas[j] * time), atol=1e-6)
    assert torch.allclose(task.omegas, torch.tensor([0.1, 0.2, 0.3, 0.4]))
    assert task.conditions().shape == (3, 1)
    assert task.pulses().shape == (0, 1)


def test_context_target_integrates_the_relevant_stream():
    task = make_task("context", {"steps": 15, "integral_scale": 0.5})
    batch = task.sample(10, generator(2))
    context = batch.inputs[:, 0, 2:]
    assert torch.equal(context.sum(-1), torch.ones(10))  # one-hot context
    relevant = torch.where(context[:, None, :1] == 1, batch.inputs[..., :1], batch.inputs[..., 1:2])
    assert torch.allclose(batch.targets, 0.5 * relevant.cumsum(1), atol=1e-6)
    assert task.conditions().tolist() == [[0, 0, 1, 0], [0, 0, 0, 1]]


def test_unknown_task_is_an_error():
    with pytest.raises(ValueError, match="unknown task 'juggling'"):
        make_task("juggling")
