"""Lockstep training of the networks of one job (see :mod:`insilico.dynamics.population`).

Inside a job the networks of one architecture and hidden size form a *stack*: their parameters are stacked along a
leading dimension and trained together with batched matrix products and a per-network Adam (each
network keeps its own learning rate, L2 penalty, gradient clipping, initial weights and trials).
Because every network's loss depends only on its own parameters, the summed loss gives each
network exactly the gradient it would get alone: a network's result does not depend on which
other networks share its job (up to floating-point summation order).

Seeds: a network's initial weights come from ``(architecture, hidden, seed)`` and its training
trials from ``(task, seed)``, so networks that differ only in learning rate or L2 start from the
same weights and see the same trials, and the comparison isolates the hyperparameter.
"""

from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import xarray as xr

from insilico.core.checkpoint import RunState, fingerprint
from insilico.core.device import deterministic
from insilico.core.io import load_torch, save_torch, write_netcdf
from insilico.core.training import train_loop
from insilico.dynamics import cells
from insilico.dynamics.population import NetworkSpec, stacks_of
from insilico.dynamics.tasks import Task, generator, make_task

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def _stable_seed(*parts: Any) -> int:
    return zlib.crc32(":".join(map(str, parts)).encode())


def init_seed(spec: NetworkSpec) -> int:
    return _stable_seed("init", spec.arch, spec.hidden, spec.seed)


def data_seed(spec: NetworkSpec) -> int:
    return _stable_seed("data", spec.task, spec.seed)


def validation_seed(task: str) -> int:
    return _stable_seed("validation", task)


@dataclass
class Stack:
    """Networks of one task, architecture and hidden size with stacked parameters."""

    task: str
    arch: str
    hidden: int
    networks: list[NetworkSpec]
    params: dict[str, torch.Tensor]

    @property
    def state_size(self) -> int:
        return cells.state_size(self.arch, self.hidden)

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> Stack:
        params = {k: v.to(device=device, dtype=dtype) for k, v in self.params.items()}
        return Stack(self.task, self.arch, self.hidden, self.networks, params)

    def step(self, state: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return cells.step(self.arch, self.params, state, x)

    def run(self, inputs: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
        """``inputs (B, T, I)`` shared by all networks, or ``(N, B, T, I)`` -> ``(N, B, T, S)``."""
        if inputs.ndim == 3:
            inputs = inputs.expand(len(self.networks), *inputs.shape)
        return cells.run(self.arch, self.params, inputs, state)

    def outputs(self, states: torch.Tensor) -> torch.Tensor:
        """Readout of states ``(N, ..., S)`` -> ``(N, ..., n_outputs)``."""
        flat = states.reshape(states.shape[0], -1, states.shape[-1])
        return cells.readout(self.arch, self.params, flat).reshape(*states.shape[:-1], -1)


def _task_mse(stack: Stack, inputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor):
    """Per-network mean squared error over the scored steps and outputs: ``(N,)``."""
    outputs = stack.outputs(stack.run(inputs))
    squared = (outputs - targets).square() * mask.unsqueeze(-1)
    return squared.sum(dim=(1, 2, 3)) / (mask.sum(dim=(-2, -1)) * targets.shape[-1])


def _penalty(params: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per-network sum of squared weights: ``(N,)``."""
    return sum(params[name].square().flatten(1).sum(1) for name in cells.WEIGHTS)


def train_stack(
    task: Task,
    arch: str,
    hidden: int,
    networks: list[NetworkSpec],
    train_params: dict,
    device: torch.device,
    log: logging.Logger,
) -> tuple[Stack, np.ndarray]:
    """Train ``networks`` (one architecture and size) in lockstep.

    Returns the trained stack (on the CPU) and the training loss per network and step ``(N, steps)``.
    """
    n = len(networks)
    params = cells.stack(
        [
            cells.init_parameters(
                arch, task.n_inputs, hidden, task.n_outputs, generator(init_seed(spec))
            )
            for spec in networks
        ]
    )
    params = {k: v.to(device).requires_grad_() for k, v in params.items()}
    stack = Stack(task.name, arch, hidden, networks, params)
    lr = torch.tensor([spec.learning_rate for spec in networks], device=device)
    l2 = torch.tensor([spec.l2 for spec in networks], device=device)
    moments = {k: (torch.zeros_like(v), torch.zeros_like(v)) for k, v in params.items()}
    # One generator per distinct data seed: networks sharing a seed see the same trials.
    seeds = sorted({data_seed(spec) for spec in networks})
    generators = {seed: generator(seed) for seed in seeds}
    row = torch.tensor([seeds.index(data_seed(spec)) for spec in networks], device=device)
    steps, batch_size = train_params["steps"], train_params["batch_size"]
    clip = train_params["grad_clip"]
    history = np.zeros((n, steps))
    beta1, beta2 = ADAM_BETAS
    started = time.perf_counter()
    for iteration in range(1, steps + 1):
        batches = [task.sample(batch_size, generators[seed]) for seed in seeds]
        inputs, targets, mask = (
            torch.stack([getattr(b, field) for b in batches]).to(device)[row]
            for field in ("inputs", "targets", "mask")
        )
        mse = _task_mse(stack, inputs, targets, mask)
        loss = (mse + l2 * _penalty(params)).sum()
        grads = torch.autograd.grad(loss, list(params.values()))
        with torch.no_grad():
            norm = torch.sqrt(sum(g.square().flatten(1).sum(1) for g in grads))
            scale = (clip / (norm + 1e-12)).clamp(max=1.0) if clip > 0 else torch.ones_like(norm)
            correction1, correction2 = 1 - beta1**iteration, 1 - beta2**iteration
            for (name, value), grad in zip(params.items(), grads, strict=True):
                shape = (n,) + (1,) * (value.ndim - 1)
                grad = grad * scale.view(shape)
                m, v = moments[name]
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                update = (m / correction1) / ((v / correction2).sqrt() + ADAM_EPS)
                value.sub_(lr.view(shape) * update)
        history[:, iteration - 1] = mse.detach().cpu().numpy()
        if iteration % max(1, steps // 10) == 0 or iteration == steps:
            log.info(
                "%s %s h%d: step %d/%d, loss per network %s (%.1f s)",
                task.name,
                arch,
                hidden,
                iteration,
                steps,
                np.array2string(history[:, iteration - 1], precision=4),
                time.perf_counter() - started,
            )
    trained = {k: v.detach().cpu() for k, v in params.items()}
    return Stack(task.name, arch, hidden, networks, trained), history


def validation_loss(stack: Stack, task: Task, trials: int, device: torch.device) -> np.ndarray:
    """Mean squared error ``(N,)`` on a fixed batch of ``trials`` trials shared by the whole task."""
    batch = task.sample(trials, generator(validation_seed(task.name))).to(device)
    with torch.no_grad():
        return _task_mse(stack.to(device), batch.inputs, batch.targets, batch.mask).cpu().numpy()


def target_variance(task: Task, trials: int) -> float:
    """Variance of the validation targets, the loss of the best constant output (NMSE = loss / it)."""
    batch = task.sample(trials, generator(validation_seed(task.name)))
    scored = batch.targets[batch.mask.bool()]
    return float(scored.var(dim=0, unbiased=False).mean())


def train_chunk(
    networks: list[NetworkSpec],
    task_params: dict,
    train_params: dict,
    model_out,
    history_out,
    device: torch.device,
    log: logging.Logger,
    *,
    checkpoint_path,
) -> None:
    """Train one job's networks (all of one task), stack by stack; write the networks and history.

    The run's state is a :class:`insilico.core.checkpoint.RunState` whose progress counts the
    finished stacks, checkpointed after each: a killed job resumes at its first unfinished stack,
    and, every stack drawing only from its own seeded generators, ends with exactly the networks
    of an uninterrupted job.
    """
    task_name = networks[0].task
    if any(spec.task != task_name for spec in networks):
        raise ValueError("a training job holds networks of one task only")
    task = make_task(task_name, task_params)
    n, steps, trials = len(networks), train_params["steps"], train_params["validation_trials"]
    variance = target_variance(task, trials)
    run = RunState(
        checkpoint_path,
        fingerprint(
            networks=[spec.as_dict() for spec in networks],
            task=dict(task_params),
            train=dict(train_params),
        ),
        device,
        log,
        components={},
        unit="stack",
    )
    stacks = stacks_of(networks)

    def train_next_stack(unit: int) -> None:
        """Train stack ``unit`` (1-based); its results join the run's finished parts."""
        arch, hidden, indices = stacks[unit - 1]
        stack, history = train_stack(
            task, arch, hidden, [networks[i] for i in indices], train_params, device, log
        )
        run.parts.setdefault("stacks", []).append(
            {
                "arch": arch,
                "hidden": hidden,
                "members": indices,
                "params": stack.params,
                "history": torch.from_numpy(history),
                "val_loss": validation_loss(stack, task, trials, device).tolist(),
            }
        )

    with deterministic(device):
        train_loop(run, len(stacks), train_next_stack)
    finished = run.parts["stacks"]
    history, val_loss = np.zeros((n, steps)), np.zeros(n)
    for entry in finished:
        history[entry["members"]] = entry["history"].numpy()
        val_loss[entry["members"]] = entry["val_loss"]
    log.info("validation NMSE per network: %s", np.array2string(val_loss / variance, precision=4))
    save_torch(
        {
            "task": task_name,
            "task_params": dict(task_params),
            "networks": [spec.as_dict() for spec in networks],
            "stacks": [
                {key: entry[key] for key in ("arch", "hidden", "members", "params")}
                for entry in finished
            ],
            "val_loss": val_loss.tolist(),
            "target_variance": variance,
        },
        model_out,
    )
    write_netcdf(training_history(networks, history, val_loss, variance), history_out)
    run.finish()


def training_history(
    networks: list[NetworkSpec], history: np.ndarray, val_loss: np.ndarray, variance: float
) -> xr.Dataset:
    """Loss per network and step, the validation loss (raw and normalised), hyperparameters."""
    return xr.Dataset(
        {
            "train_loss": (("network", "step"), history),
            "val_loss": ("network", val_loss),
            "val_nmse": ("network", val_loss / variance),
        },
        coords={**network_coords(networks), "step": np.arange(1, history.shape[1] + 1)},
        attrs={"task": networks[0].task, "target_variance": variance},
    )


def network_coords(networks: list[NetworkSpec], dim: str = "network") -> dict[str, Any]:
    """Coordinates naming the networks and their hyperparameters along ``dim``."""
    return {
        dim: [spec.name for spec in networks],
        "task": (dim, [spec.task for spec in networks]),
        "arch": (dim, [spec.arch for spec in networks]),
        "hidden": (dim, [spec.hidden for spec in networks]),
        "learning_rate": (dim, [spec.learning_rate for spec in networks]),
        "l2": (dim, [spec.l2 for spec in networks]),
        "seed": (dim, [spec.seed for spec in networks]),
    }


def load_chunk(path) -> tuple[list[Stack], dict]:
    """The stacks of a training job's checkpoint (on the CPU) and the checkpoint's metadata."""
    content = load_torch(path)
    networks = [NetworkSpec(**spec) for spec in content["networks"]]
    stacks = [
        Stack(
            content["task"],
            entry["arch"],
            int(entry["hidden"]),
            [networks[i] for i in entry["members"]],
            entry["params"],
        )
        for entry in content["stacks"]
    ]
    meta = {key: content[key] for key in ("task", "task_params", "val_loss", "target_variance")}
    meta["networks"] = networks
    return stacks, meta
