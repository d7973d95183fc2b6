"""ConvRNN after Nayebi et al. 2018: convolutional layers with reciprocal gated cells, unrolled in time.

Reciprocal gated cell (two states of the same shape, a memory ``c`` and an output ``h``, each gating
the other's input and its own memory)::

    c_t = elu((1 - sigmoid(W_cc * c_{t-1})) * c_{t-1} + (1 - tanh(W_hc * h_{t-1})) * x_t)
    h_t = elu((1 - sigmoid(W_hh * h_{t-1})) * h_{t-1} + (1 - tanh(W_ch * c_{t-1})) * x_t)

``x_t`` is the layer's feedforward input (a convolution of the layer below); every ``W *`` is a
depthwise-separable convolution (depthwise ``k x k`` then pointwise 1x1 with bias), as in the
released "median" cell: sigmoid time-constant gates, tanh input gates, ELU activations. From a zero
state the first output is ``elu(x)`` (with zero gate biases), i.e. a feedforward layer.

Two other local cells answer "is all local recurrence equal?" at matched parameter counts
(:func:`cell_parameters`): an LSTM-style gated cell (input, forget and output gates read from
``h``, a candidate ``x_t + W_g * h``, four separable convolutions like the reciprocal cell) and a
vanilla (ungated) cell ``h_t = elu(x_t + W2 relu(W1 * h_{t-1}))`` whose recurrent transform is a
separable convolution widened to a hidden width chosen so that it has as many parameters.

Layers listed in ``recurrent_layers`` (1-based) have a cell; the others are feedforward
(conv -> ReLU), like the early layers of the published ConvRNNs, and cheap at full resolution.

Unrolling: one step stands for 10 ms. Layer ``l`` at step ``t`` receives the pooled output of layer
``l - 1`` at step ``t - 1`` (the image for the first layer, grey = 0 once it is off), so signals
take one step per layer to rise through the network, and with ``feedback`` it also receives the
output of layer ``l + 1`` at step ``t - 1`` (upsampled, through a 1x1 convolution): long-range
feedback. The readout is a linear classifier of the top layer's spatial mean.

Training is matched to presentation (Nayebi et al. score every step of a presentation, so every
step is trained): the network unrolls ``train_steps`` steps with the image on for the first
``image_on_steps`` (the rule sets both from ``it.temporal``, the schedule it is scored on) and
:meth:`ConvRNN.step_logits` returns the readout at every step from the first feedforward arrival
at the top layer; the training loss averages the cross-entropy over those steps.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from insilico.it.models.cnn import pooled_convs


class SeparableConv(nn.Module):
    """Depthwise ``k x k`` then pointwise 1x1 convolution (bias, initially 0), 'same' padding."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(
            channels, channels, kernel_size, padding=kernel_size // 2, groups=channels, bias=False
        )
        self.pointwise = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.pointwise.bias)  # gates start neutral: a zero state gives elu(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class ReciprocalGatedCell(nn.Module):
    """The reciprocal gated cell; ``forward(x, state) -> (h, (c, h))``, all ``(B, C, H, W)``."""

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.channels = channels
        self.memory_gate_c = SeparableConv(channels, kernel_size)  # W_cc: time constant of c
        self.input_gate_c = SeparableConv(channels, kernel_size)  # W_hc: h gates c's input
        self.memory_gate_h = SeparableConv(channels, kernel_size)  # W_hh: time constant of h
        self.input_gate_h = SeparableConv(channels, kernel_size)  # W_ch: c gates h's input

    def initial_state(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros_like(x), torch.zeros_like(x)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        c, h = self.initial_state(x) if state is None else state
        if c.shape != x.shape or h.shape != x.shape:
            raise ValueError(
                f"cell state shapes {tuple(c.shape)}, {tuple(h.shape)} differ from input {tuple(x.shape)}"
            )
        c_new = F.elu(
            (1 - torch.sigmoid(self.memory_gate_c(c))) * c
            + (1 - torch.tanh(self.input_gate_c(h))) * x
        )
        h_new = F.elu(
            (1 - torch.sigmoid(self.memory_gate_h(h))) * h
            + (1 - torch.tanh(self.input_gate_h(c))) * x
        )
        return h_new, (c_new, h_new)


class LSTMCell(nn.Module):
    """LSTM-style gated cell; input, forget and output gates and the candidate read ``h``.

    ``c_t = f * c + i * tanh(x_t + W_g * h)``, ``h_t = o * tanh(c_t)`` with ``i, f, o =
    sigmoid(W_i,f,o * h)``; four separable convolutions, as many parameters as the reciprocal cell.
    """

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.channels = channels
        self.gates = nn.ModuleList(SeparableConv(channels, kernel_size) for _ in range(4))

    def forward(self, x, state=None):
        c, h = (torch.zeros_like(x), torch.zeros_like(x)) if state is None else state
        i, f, o, g = (conv(h) for conv in self.gates)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(x + g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        return h_new, (c_new, h_new)


def vanilla_hidden(channels: int, kernel_size: int) -> int:
    """Hidden width of the vanilla cell's transform that matches the reciprocal cell's parameters."""
    target = 4 * (channels * kernel_size**2 + channels**2 + channels)
    own = channels * kernel_size**2 + channels  # depthwise kernel and the output bias
    return max(1, round((target - own) / (2 * channels + 1)))


class VanillaCell(nn.Module):
    """Ungated recurrence ``h_t = elu(x_t + W2 relu(W1 * h_{t-1}))`` (``W1``: depthwise ``k x k``
    then pointwise to :func:`vanilla_hidden` channels; ``W2``: pointwise back, zero bias)."""

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.channels = channels
        hidden = vanilla_hidden(channels, kernel_size)
        self.depthwise = nn.Conv2d(
            channels, channels, kernel_size, padding=kernel_size // 2, groups=channels, bias=False
        )
        self.expand = nn.Conv2d(channels, hidden, 1)
        self.project = nn.Conv2d(hidden, channels, 1)
        nn.init.zeros_(self.project.bias)

    def forward(self, x, state=None):
        h = torch.zeros_like(x) if state is None else state[1]
        h_new = F.elu(x + self.project(F.relu(self.expand(self.depthwise(h)))))
        return h_new, (h_new, h_new)


CELLS = {"reciprocal_gated": ReciprocalGatedCell, "lstm": LSTMCell, "vanilla": VanillaCell}


def cell_parameters(cell: str, channels: int, kernel_size: int) -> int:
    """Trainable parameters of one ``cell`` of ``channels`` channels (the 10 % match is tested)."""
    return sum(p.numel() for p in CELLS[cell](channels, kernel_size).parameters())


class ConvRNN(nn.Module):
    """Conv -> local cell (or ReLU) -> 2x2 max-pool per layer, unrolled over 10 ms steps.

    ``step_logits(x)`` (training) runs the training schedule and returns the logits of every step
    from the top layer's first input on; ``forward(x)`` (task evaluation) their mean over steps.
    ``features(x, n_steps, image_on_steps)`` returns every
    layer's output at every step, ``{layer: (n_steps, B, C, H, W)}``, and ``avgpool`` (the top
    layer's spatial mean, read out by the classifier) as ``(n_steps, B, C)``.
    """

    temporal = True
    DEFAULT_HPARAMS: dict[str, Any] = {
        "channels": [8, 16, 32, 32],
        "kernels": [5, 3, 3, 3],
        "recurrent_kernel": 3,
        "recurrent_layers": [2, 3, 4],
        "feedback": False,
        "cell": "reciprocal_gated",
        "train_steps": 26,
        "image_on_steps": 10,
    }

    def __init__(
        self,
        *,
        size: int,
        n_classes: int,
        channels: list[int],
        kernels: list[int],
        recurrent_kernel: int,
        recurrent_layers: list[int],
        feedback: bool,
        cell: str,
        train_steps: int,
        image_on_steps: int,
    ) -> None:
        super().__init__()
        self.convs = pooled_convs(size, channels, kernels)
        if train_steps < len(channels):
            raise ValueError(
                f"train_steps={train_steps} is shorter than the {len(channels)} steps the image "
                "needs to reach the top layer"
            )
        bad = sorted(set(recurrent_layers) - set(range(1, len(channels) + 1)))
        if bad:
            raise ValueError(f"recurrent_layers {bad} do not exist (layers are 1..{len(channels)})")
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; allowed: {sorted(CELLS)}")
        if not 1 <= image_on_steps <= train_steps:
            raise ValueError(f"image_on_steps={image_on_steps} must be in 1..{train_steps}")
        self.size, self.train_steps, self.image_on_steps = size, train_steps, image_on_steps
        # A layer without a cell is feedforward (conv -> ReLU) at every step, as in ItCNN.
        self.cells = nn.ModuleList(
            CELLS[cell](c, recurrent_kernel) if i + 1 in recurrent_layers else nn.Identity()
            for i, c in enumerate(channels)
        )
        self.feedback = (
            nn.ModuleList(
                nn.Conv2d(c_above, c, 1)
                for c, c_above in zip(channels[:-1], channels[1:], strict=True)
            )
            if feedback
            else None
        )
        self.readout = nn.Linear(channels[-1], n_classes)
        self.layer_names = [f"conv{i + 1}" for i in range(len(channels))] + ["avgpool"]

    def _layer(self, layer: int, source, above, state):
        """One layer at one step: (pooled output or None, new state)."""
        drive = None if source is None else self.convs[layer](source)
        if self.feedback is not None and above is not None:
            top_down = self.feedback[layer](F.interpolate(above, scale_factor=4, mode="nearest"))
            drive = top_down if drive is None else drive + top_down
        if drive is None:  # the signal has not reached this layer yet
            return None, state
        cell = self.cells[layer]
        if not isinstance(cell, nn.Identity):
            h, state = cell(drive, state)
        else:
            h = F.relu(drive)
        return F.max_pool2d(h, 2), state

    def _unroll(self, x: torch.Tensor, n_steps: int, image_on_steps: int, keep: bool):
        """Run ``n_steps``; returns (top-layer logits per step, layer outputs per step if ``keep``)."""
        n_layers = len(self.cells)
        outputs: list[torch.Tensor | None] = [None] * n_layers  # pooled outputs at t - 1
        states: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * n_layers
        kept: dict[str, list[torch.Tensor]] = {name: [] for name in self.layer_names}
        logits = []
        blank = torch.zeros_like(x)
        # A feedforward first layer without feedback gives the same output for the same input:
        # computed once for the image and once for the grey screen, not at every step.
        static_first = isinstance(self.cells[0], nn.Identity) and (
            self.feedback is None or n_layers == 1
        )
        memo: dict[bool, torch.Tensor] = {}
        for step in range(n_steps):
            previous = list(outputs)
            image = x if step < image_on_steps else blank
            for layer in range(n_layers):
                if layer == 0 and static_first:
                    on = step < image_on_steps
                    if on not in memo:
                        memo[on], _ = self._layer(0, image, None, None)
                    outputs[0] = memo[on]
                else:
                    source = image if layer == 0 else previous[layer - 1]
                    above = previous[layer + 1] if layer < n_layers - 1 else None
                    outputs[layer], states[layer] = self._layer(layer, source, above, states[layer])
                if keep and outputs[layer] is not None:
                    kept[self.layer_names[layer]].append(outputs[layer])
            if outputs[-1] is not None:
                pooled = outputs[-1].mean(dim=(2, 3))
                logits.append(self.readout(pooled))
                if keep:
                    kept["avgpool"].append(pooled)
        return logits, kept

    def step_logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(steps, B, n_classes)``: the readout at every step of the training schedule from the
        top layer's first input on (the steps the training loss averages over)."""
        logits, _ = self._unroll(x, self.train_steps, self.image_on_steps, keep=False)
        return torch.stack(logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.step_logits(x).mean(0)

    def features(
        self, x: torch.Tensor, n_steps: int, image_on_steps: int
    ) -> dict[str, torch.Tensor]:
        """Layer outputs at every step, zeros before the signal reaches a layer."""
        _, kept = self._unroll(x, n_steps, image_on_steps, keep=True)
        out = {}
        for name, steps in kept.items():
            missing = n_steps - len(steps)
            if missing:
                steps = [torch.zeros_like(steps[0])] * missing + steps
            out[name] = torch.stack(steps)
        return out
