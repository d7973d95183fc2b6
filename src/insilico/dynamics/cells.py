"""Recurrent cells as pure step functions on stacked parameters.

A population of ``N`` networks of one architecture and size is one dict of tensors whose first
dimension indexes the network (``W_x: (N, n_inputs, G*H)``, ``W_h: (N, H, G*H)``, ...). One call
of :func:`step` advances all of them with batched matrix products (``torch.bmm``), so training,
running and differentiating a whole population costs one kernel per operation instead of one per
network, and the fixed-point search can treat "many states of many networks" as a single batch.

The state of every network is one vector of :func:`state_size` numbers (for the LSTM the hidden
and the cell state concatenated, ``[h, c]``), because the fixed points are points of that whole
state space. The readout sees the hidden part only (:func:`hidden_part`).

Gate conventions follow ``torch.nn`` (GRU: reset, update, new; LSTM: input, forget, cell,
output), so the tests can check each step against ``torch.nn.GRUCell``/``LSTMCell``/``RNNCell``.
UGRNN (Collins et al. 2017): ``g = sigmoid(a_g)``, ``c = tanh(a_c)``, ``h' = g h + (1 - g) c``
with ``[a_g, a_c] = W_x x + W_h h + b``.
"""

from __future__ import annotations

import math

import torch

ARCHITECTURES = ("vanilla", "gru", "lstm", "ugrnn")
GATES = {"vanilla": 1, "gru": 3, "lstm": 4, "ugrnn": 2}
# Parameters penalised by L2 (the weights; biases are free).
WEIGHTS = ("W_x", "W_h", "W_out")


def _check(arch: str) -> None:
    if arch not in GATES:
        raise ValueError(f"unknown architecture {arch!r}; allowed: {list(ARCHITECTURES)}")


def state_size(arch: str, hidden: int) -> int:
    """Length of the state vector: ``2 * hidden`` for the LSTM (``[h, c]``), else ``hidden``."""
    _check(arch)
    return 2 * hidden if arch == "lstm" else hidden


def hidden_part(arch: str, state: torch.Tensor) -> torch.Tensor:
    """The hidden activations ``h`` of a state (``(..., S)`` -> ``(..., H)``)."""
    return state[..., : state.shape[-1] // 2] if arch == "lstm" else state


def init_parameters(
    arch: str, n_inputs: int, hidden: int, n_outputs: int, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """Parameters of one network (no leading network dimension), drawn from ``generator``.

    Input and recurrent weights are Gaussian with variance 1/fan-in (a recurrent gain of about 1,
    at the edge of chaos for the tanh network); gate biases favour memory (LSTM forget gate and
    UGRNN update gate start at +1, as Collins et al. 2017 recommend).
    """
    _check(arch)
    width = GATES[arch] * hidden

    def gaussian(*shape: int, fan_in: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator) / math.sqrt(fan_in)

    bias = torch.zeros(width)
    if arch == "lstm":
        bias[hidden : 2 * hidden] = 1.0
    elif arch == "ugrnn":
        bias[:hidden] = 1.0
    params = {
        "W_x": gaussian(n_inputs, width, fan_in=n_inputs),
        "W_h": gaussian(hidden, width, fan_in=hidden),
        "b": bias,
        "W_out": gaussian(hidden, n_outputs, fan_in=hidden),
        "b_out": torch.zeros(n_outputs),
    }
    if arch == "gru":
        params["b_hn"] = torch.zeros(hidden)
    return params


def stack(params: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack the parameters of several networks of one architecture along a new first dimension."""
    return {name: torch.stack([p[name] for p in params]) for name in params[0]}


def unstack(params: dict[str, torch.Tensor], index: int) -> dict[str, torch.Tensor]:
    """The parameters of network ``index`` of a stack, keeping a leading dimension of size 1."""
    return {name: value[index : index + 1] for name, value in params.items()}


def project_input(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Input drive ``W_x x + b`` of all gates: ``x (N, ..., n_inputs)`` -> ``(N, ..., G*H)``.

    Separate from the recurrence so that :func:`run` computes it for all time steps at once.
    """
    flat = x.reshape(x.shape[0], -1, x.shape[-1])
    drive = torch.baddbmm(params["b"].unsqueeze(1), flat, params["W_x"])
    return drive.reshape(*x.shape[:-1], drive.shape[-1])


def step(
    arch: str, params: dict[str, torch.Tensor], state: torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    """One time step of ``N`` networks: ``state (N, B, S)``, ``x (N, B, n_inputs)`` -> ``(N, B, S)``."""
    return step_driven(arch, params, state, project_input(params, x))


def step_driven(
    arch: str, params: dict[str, torch.Tensor], state: torch.Tensor, drive: torch.Tensor
) -> torch.Tensor:
    """One time step given the input drive of :func:`project_input` (few kernels per step)."""
    if arch == "vanilla":
        return torch.tanh(torch.baddbmm(drive, state, params["W_h"]))
    if arch == "gru":
        hidden = state.shape[-1]
        from_state = torch.bmm(state, params["W_h"])
        reset, update = torch.sigmoid(
            drive[..., : 2 * hidden] + from_state[..., : 2 * hidden]
        ).chunk(2, dim=-1)
        new = torch.tanh(
            torch.addcmul(
                drive[..., 2 * hidden :],
                reset,
                from_state[..., 2 * hidden :] + params["b_hn"].unsqueeze(1),
            )
        )
        return torch.addcmul(new, update, state - new)
    if arch == "lstm":
        h, c = state.chunk(2, dim=-1)
        hidden = h.shape[-1]
        gates = torch.baddbmm(drive, h, params["W_h"])
        sig = torch.sigmoid(gates)
        c = torch.addcmul(
            sig[..., hidden : 2 * hidden] * c,
            sig[..., :hidden],
            torch.tanh(gates[..., 2 * hidden : 3 * hidden]),
        )
        return torch.cat([sig[..., 3 * hidden :] * torch.tanh(c), c], dim=-1)
    if arch == "ugrnn":
        hidden = state.shape[-1]
        gates = torch.baddbmm(drive, state, params["W_h"])
        update = torch.sigmoid(gates[..., :hidden])
        candidate = torch.tanh(gates[..., hidden:])
        return torch.addcmul(candidate, update, state - candidate)
    _check(arch)
    raise AssertionError("unreachable")


def readout(arch: str, params: dict[str, torch.Tensor], state: torch.Tensor) -> torch.Tensor:
    """Linear readout of the hidden part: ``(N, B, S)`` -> ``(N, B, n_outputs)``."""
    return torch.baddbmm(params["b_out"].unsqueeze(1), hidden_part(arch, state), params["W_out"])


def run(
    arch: str,
    params: dict[str, torch.Tensor],
    inputs: torch.Tensor,
    state: torch.Tensor | None = None,
) -> torch.Tensor:
    """States after every step: ``inputs (N, B, T, n_inputs)`` -> ``(N, B, T, S)``.

    The initial state is zero unless ``state (N, B, S)`` is given.
    """
    n, batch, n_steps, _ = inputs.shape
    if state is None:
        size = params["W_h"].shape[1]
        state = inputs.new_zeros(n, batch, state_size(arch, size))
    drive = project_input(params, inputs)
    states = []
    for t in range(n_steps):
        state = step_driven(arch, params, state, drive[:, :, t])
        states.append(state)
    return torch.stack(states, dim=2)
