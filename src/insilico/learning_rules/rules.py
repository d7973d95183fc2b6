"""The learning rules: which kernel each layer's backward pass uses, and how it is learned.

Notation per layer: forward weight ``W``, feedback kernel ``B`` (``W``'s shape; the backward pass
sends ``B^T`` times the error), input ``x``, forward projection ``r = W x`` and backward projection
``b = B x`` (convolutions for a convolutional layer). Following Kunin et al. (2020), a rule that
learns ``B`` descends a layer-local regulariser ``R(B)``, a weighted sum of primitives (per
position: batch and spatial means, channel sums):

- ``decay = 1/2 |B|^2``
- ``amp = -<r, b>`` (``B`` grows along ``W`` in proportion to the input covariance)
- ``sparse = 1/2 |b|^2``
- ``null = 1/2 |B^T r|^2`` (the forward projection reconstructed through ``B``)
- ``self = -<W, B>`` (reads ``W`` itself: non-local, "weight estimation")

Rules (``B <- B - rate * (grad R + noise * xi)``, ``xi`` standard normal, after every step):

- ``backprop``: ``B = W`` (weight transport);
- ``feedback_alignment``: ``B`` fixed and random (Lillicrap et al. 2016);
- ``sign_symmetry``: ``B = sign(W) * mean|B_0|`` (Liao et al. 2016; transports signs only);
- ``weight_mirror``: ``alpha decay + beta amp`` on white noise inputs of std ``input_std``
  (Akrout et al. 2019): ``B -> beta input_std^2 / alpha W``;
- ``information_alignment``: ``alpha amp + beta null + gamma decay`` on noise inputs;
- ``kolen_pollack``: ``B`` gets ``W``'s own update (the optimiser's step) and both decay by
  ``rate * alpha`` per step, so ``B - W`` shrinks geometrically (Kolen & Pollack 1994);
- ``symmetric_alignment``: ``alpha decay + beta self``: ``B -> beta / alpha W``;
- ``activation_alignment``: ``alpha sparse + beta amp`` on the layer's task inputs:
  ``B Sigma -> beta / alpha W Sigma``.

These forms follow the published regularisers' structure (primitives as listed); scale
conventions (means per position, 1/2 factors) are this implementation's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from insilico.learning_rules.layers import UntiedLayer, angle_degrees, untied_layers

# rule -> (primitive weights by metaparameter name, inputs: None / "noise" / "task")
REGULARISERS: dict[str, tuple[dict[str, str], str | None]] = {
    "weight_mirror": ({"decay": "alpha", "amp": "beta"}, "noise"),
    "information_alignment": ({"amp": "alpha", "null": "beta", "decay": "gamma"}, "noise"),
    "symmetric_alignment": ({"decay": "alpha", "self": "beta"}, None),
    "activation_alignment": ({"sparse": "alpha", "amp": "beta"}, "task"),
    "kolen_pollack": ({}, None),
    "feedback_alignment": ({}, None),
    "sign_symmetry": ({}, None),
    "backprop": ({}, None),
}
RULES = tuple(REGULARISERS)
# The metaparameters each rule reads from its config entry.
METAPARAMETERS = {
    "backprop": (),
    "feedback_alignment": (),
    "sign_symmetry": (),
    "weight_mirror": ("rate", "alpha", "beta", "input_std", "noise"),
    "information_alignment": ("rate", "alpha", "beta", "gamma", "input_std", "noise"),
    "kolen_pollack": ("rate", "alpha", "noise"),
    "symmetric_alignment": ("rate", "alpha", "beta", "noise"),
    "activation_alignment": ("rate", "alpha", "beta", "noise"),
}


def primitive(name: str, layer: UntiedLayer, B: torch.Tensor, x: torch.Tensor | None):
    """One primitive of ``R(B)`` (see the module docstring); ``x`` the inputs where it needs them."""
    if name == "decay":
        return 0.5 * (B**2).sum()
    if name == "self":
        return -(layer.weight.detach() * B).sum()
    r = layer.project(x, layer.weight.detach())
    positions = r.numel() / r.shape[1]
    if name == "amp":
        return -(r * layer.project(x, B)).sum() / positions
    if name == "sparse":
        return 0.5 * (layer.project(x, B) ** 2).sum() / positions
    if name == "null":
        return 0.5 * (layer.reconstruct(r, B, x) ** 2).sum() / positions
    raise ValueError(f"unknown primitive {name!r}")


@dataclass
class Rule:
    """A learning rule with its metaparameters, attached to every untied layer of a model."""

    name: str
    settings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in REGULARISERS:
            raise ValueError(f"unknown learning rule {self.name!r}; known: {list(RULES)}")
        missing = sorted(set(METAPARAMETERS[self.name]) - set(self.settings))
        if missing:
            raise ValueError(f"rule {self.name!r} needs the metaparameters {missing}")
        self.settings = {key: float(self.settings[key]) for key in METAPARAMETERS[self.name]}
        self.weights_before: list[torch.Tensor] = []

    @property
    def needs_inputs(self) -> bool:
        return REGULARISERS[self.name][1] is not None

    def kernel(self, layer: UntiedLayer) -> torch.Tensor:
        """The kernel the layer's backward pass uses under this rule."""
        if self.name == "backprop":
            return layer.weight
        if self.name == "sign_symmetry":
            return torch.sign(layer.weight) * layer.feedback.abs().mean()
        return layer.feedback

    def attach(self, model: torch.nn.Module, generator: torch.Generator) -> None:
        """Give every untied layer this rule and a random ``B`` drawn from ``generator``."""
        for layer in untied_layers(model):
            layer.rule = self
            layer.init_feedback(generator)

    def before_step(self, model: torch.nn.Module) -> None:
        """Kolen-Pollack transports ``W``'s update: keep ``W`` before the optimiser's step."""
        if self.name == "kolen_pollack":
            self.weights_before = [layer.weight.detach().clone() for layer in untied_layers(model)]

    @torch.no_grad()
    def after_step(self, model: torch.nn.Module, generator: torch.Generator) -> None:
        """The rule's own update of every layer's ``B`` (after the optimiser moved ``W``)."""
        if not self.settings:
            return
        rate, noise = self.settings["rate"], self.settings["noise"]
        for i, layer in enumerate(untied_layers(model)):
            if self.name == "kolen_pollack":
                shrink = 1.0 - rate * self.settings["alpha"]
                layer.feedback.add_(layer.weight - self.weights_before[i]).mul_(shrink)
                layer.weight.mul_(shrink)
            else:
                layer.feedback.sub_(rate * self.gradient(layer, generator))
            if noise > 0:
                xi = torch.randn(layer.feedback.shape, generator=generator)
                layer.feedback.sub_(rate * noise * xi.to(layer.feedback))

    def gradient(self, layer: UntiedLayer, generator: torch.Generator) -> torch.Tensor:
        """``grad R(B)`` of the layer (autograd on the layer's own primitives only)."""
        weights, inputs = REGULARISERS[self.name]
        x = None
        if inputs == "task":
            x = layer.last_input
        elif inputs == "noise":
            shape = layer.last_input.shape
            x = self.settings["input_std"] * torch.randn(shape, generator=generator)
            x = x.to(layer.last_input)
        with torch.enable_grad():
            B = layer.feedback.detach().clone().requires_grad_(True)
            total = sum(
                self.settings[coefficient] * primitive(name, layer, B, x)
                for name, coefficient in weights.items()
            )
            (grad,) = torch.autograd.grad(total, B)
        return grad


def alignment_angles(model: torch.nn.Module) -> list[float]:
    """Angle (degrees) between each layer's backward kernel and its forward weight."""
    return [angle_degrees(layer.backward_kernel(), layer.weight) for layer in untied_layers(model)]
