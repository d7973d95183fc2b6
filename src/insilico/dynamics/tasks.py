"""The three tasks of Maheswaranathan et al. (2019) as seeded trial generators.

A task draws trials from a ``torch.Generator`` only, so the same seed gives the same trials on
every machine (trials are made on the CPU and moved to the device afterwards). Besides trials, a
task names the constant inputs under which its dynamics are analysed (``conditions``: the input
during the hold / cue / context periods) and the brief input pulses that move the state between
attractors (``pulses``); both are what the fixed-point and topology analyses use.

- ``flipflop``: ``bits`` input channels carry rare +-1 pulses; each output holds the sign of the
  last pulse on its channel. Every channel gets a pulse at t = 0, so every target is +-1 and a
  trained network needs 2**bits stable states.
- ``sine``: a static input ``cue_j = j / n + 0.25`` (j = 0..n-1) selects a frequency
  ``omega_j`` (radians per step, evenly spaced in ``[omega_min, omega_max]``); the output is
  ``sin(omega_j t)``. Trained networks oscillate around an unstable spiral fixed point per cue.
- ``context``: two noisy evidence streams ``c_k + noise`` (coherences ``c_k`` uniform in
  ``+-coherence_max``) and a one-hot context input; the output is the running integral of the
  stream the context selects, times ``integral_scale`` (the decision variable of Mante et al.
  2013). Holding integrated evidence needs an approximate line attractor per context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

TASKS = ("flipflop", "sine", "context")


@dataclass(frozen=True)
class TaskBatch:
    """Trials ``(B, T, n_inputs)``, targets ``(B, T, n_outputs)`` and the mask of scored steps."""

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor  # (B, T) float, 1 where the output is scored

    def to(self, device: torch.device | str) -> TaskBatch:
        return TaskBatch(self.inputs.to(device), self.targets.to(device), self.mask.to(device))


class Task:
    """Interface shared by the tasks; subclasses set the sizes and implement :meth:`sample`."""

    name: str
    n_inputs: int
    n_outputs: int
    n_steps: int
    pulse_steps: int = 1

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        raise NotImplementedError

    def conditions(self) -> torch.Tensor:
        """Constant inputs ``(C, n_inputs)`` under which fixed points are sought."""
        raise NotImplementedError

    def pulses(self) -> torch.Tensor:
        """Transient inputs ``(P, n_inputs)`` added for ``pulse_steps`` steps (may be empty)."""
        raise NotImplementedError


class FlipFlop(Task):
    name = "flipflop"

    def __init__(self, bits: int = 3, steps: int = 50, pulse_probability: float = 0.1) -> None:
        self.bits, self.n_steps, self.pulse_probability = bits, steps, pulse_probability
        self.n_inputs = self.n_outputs = bits

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        shape = (batch_size, self.n_steps, self.bits)
        pulse = torch.rand(shape, generator=generator) < self.pulse_probability
        pulse[:, 0] = True
        sign = torch.where(torch.rand(shape, generator=generator) < 0.5, -1.0, 1.0)
        inputs = torch.where(pulse, sign, torch.zeros(()))
        # The target holds the last pulse: index of the latest pulse up to each step, then gather.
        steps = torch.arange(self.n_steps).view(1, -1, 1).expand(shape)
        last = torch.where(pulse, steps, torch.zeros((), dtype=torch.long)).cummax(dim=1).values
        targets = inputs.gather(1, last)
        return TaskBatch(inputs, targets, torch.ones(batch_size, self.n_steps))

    def conditions(self) -> torch.Tensor:
        return torch.zeros(1, self.bits)

    def pulses(self) -> torch.Tensor:
        eye = torch.eye(self.bits)
        return torch.cat([eye, -eye])


class SineWave(Task):
    name = "sine"

    def __init__(
        self,
        frequencies: int = 8,
        omega_min: float = 0.1,
        omega_max: float = 0.6,
        steps: int = 60,
        conditions: int = 3,
    ) -> None:
        self.n_frequencies, self.n_steps, self.n_conditions = frequencies, steps, conditions
        self.omegas = torch.linspace(omega_min, omega_max, frequencies)
        self.cues = torch.arange(frequencies) / frequencies + 0.25
        self.n_inputs = self.n_outputs = 1

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        which = torch.randint(self.n_frequencies, (batch_size,), generator=generator)
        time = torch.arange(self.n_steps, dtype=torch.float32)
        inputs = self.cues[which].view(-1, 1, 1).expand(-1, self.n_steps, 1).clone()
        targets = torch.sin(self.omegas[which].view(-1, 1) * time).unsqueeze(-1)
        return TaskBatch(inputs, targets, torch.ones(batch_size, self.n_steps))

    def condition_frequencies(self) -> torch.Tensor:
        """Indices of the cues analysed: ``conditions`` of them, evenly spread over the range."""
        count = min(self.n_conditions, self.n_frequencies)
        return torch.linspace(0, self.n_frequencies - 1, count).round().long()

    def conditions(self) -> torch.Tensor:
        return self.cues[self.condition_frequencies()].view(-1, 1)

    def pulses(self) -> torch.Tensor:
        return torch.zeros(0, 1)


class ContextIntegration(Task):
    name = "context"

    def __init__(
        self,
        steps: int = 50,
        coherence_max: float = 0.1,
        noise_std: float = 0.3,
        integral_scale: float = 0.1,
        pulse: float = 1.0,
    ) -> None:
        self.n_steps, self.coherence_max, self.noise_std = steps, coherence_max, noise_std
        self.integral_scale, self.pulse = integral_scale, pulse
        self.n_inputs, self.n_outputs = 4, 1

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        coherence = (torch.rand(batch_size, 1, 2, generator=generator) * 2 - 1) * self.coherence_max
        noise = torch.randn(batch_size, self.n_steps, 2, generator=generator) * self.noise_std
        evidence = coherence + noise
        context = torch.randint(2, (batch_size,), generator=generator)
        cue = torch.nn.functional.one_hot(context, 2).float()
        inputs = torch.cat([evidence, cue.unsqueeze(1).expand(-1, self.n_steps, 2)], dim=-1)
        relevant = evidence.gather(2, context.view(-1, 1, 1).expand(-1, self.n_steps, 1))
        targets = self.integral_scale * relevant.cumsum(dim=1)
        return TaskBatch(inputs, targets, torch.ones(batch_size, self.n_steps))

    def conditions(self) -> torch.Tensor:
        return torch.tensor([[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])

    def pulses(self) -> torch.Tensor:
        evidence = torch.zeros(4, 4)
        evidence[0, 0], evidence[1, 0], evidence[2, 1], evidence[3, 1] = 1, -1, 1, -1
        return self.pulse * evidence


_TASK_CLASSES: dict[str, type[Task]] = {
    "flipflop": FlipFlop,
    "sine": SineWave,
    "context": ContextIntegration,
}


def make_task(name: str, params: dict[str, Any] | None = None) -> Task:
    """The task ``name`` with ``params`` (the config's ``dynamics.task_params.<name>``)."""
    if name not in _TASK_CLASSES:
        raise ValueError(f"unknown task {name!r}; allowed tasks: {sorted(_TASK_CLASSES)}")
    return _TASK_CLASSES[name](**(params or {}))


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (task trials are drawn on the CPU)."""
    return torch.Generator().manual_seed(int(seed) % (2**63))
