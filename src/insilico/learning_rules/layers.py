"""Linear and convolutional layers with an untied backward pass.

The forward pass is the usual ``y = W x + b`` (or ``conv2d(x, W) + b``); the backward pass sends the
error to the layer's input through a feedback kernel ``B`` of ``W``'s shape instead of ``W``:
``dL/dx = B^T dL/dy`` (the transposed convolution with ``B`` for a convolution). The weight and
bias gradients are the usual ones (local: the error at the output times the input). With
``B = W`` this is backpropagation exactly. Which ``B`` a layer uses, and how it is learned, is
the learning rule's business (:mod:`insilico.learning_rules.rules`); the layer holds it as the
buffer ``feedback``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class UntiedLinearFunction(torch.autograd.Function):
    """``y = x W^T + b`` forward; ``dx = dy B`` backward (``B`` of ``W``'s shape)."""

    @staticmethod
    def forward(ctx, x, weight, bias, feedback):
        ctx.save_for_backward(x, feedback)
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad_out):
        x, feedback = ctx.saved_tensors
        grad_x = grad_out @ feedback if ctx.needs_input_grad[0] else None
        grad_w = grad_out.flatten(0, -2).T @ x.flatten(0, -2) if ctx.needs_input_grad[1] else None
        grad_b = grad_out.flatten(0, -2).sum(0) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b, None


class UntiedConv2dFunction(torch.autograd.Function):
    """``conv2d(x, W) + b`` forward; the transposed convolution with ``B`` backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, feedback, padding):
        ctx.save_for_backward(x, feedback)
        ctx.weight_shape, ctx.padding = weight.shape, padding
        return F.conv2d(x, weight, bias, padding=padding)

    @staticmethod
    def backward(ctx, grad_out):
        x, feedback = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.nn.grad.conv2d_input(x.shape, feedback, grad_out, padding=ctx.padding)
        if ctx.needs_input_grad[1]:
            grad_w = torch.nn.grad.conv2d_weight(x, ctx.weight_shape, grad_out, padding=ctx.padding)
        if ctx.needs_input_grad[2]:
            grad_b = grad_out.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


class UntiedLayer(nn.Module):
    """What both untied layers share: ``weight``, ``bias``, the ``feedback`` buffer, and the
    kernel the backward pass uses (``backward_kernel``; the rule sets it, default ``feedback``)."""

    weight: nn.Parameter
    bias: nn.Parameter

    def init_feedback(self, generator: torch.Generator | None = None) -> None:
        """Draw ``B`` like ``W`` is drawn (Kaiming uniform, independent of ``W``)."""
        fan_in = self.weight[0].numel()
        bound = 1.0 / math.sqrt(fan_in)
        draw = torch.rand(self.weight.shape, generator=generator, dtype=self.weight.dtype)
        self.feedback.copy_((2 * draw - 1) * bound)

    def keep_input(self, x: torch.Tensor) -> None:
        """Keep the training input when the rule learns ``B`` from the layer's task inputs."""
        if self.rule is not None and self.rule.needs_inputs and torch.is_grad_enabled():
            self.last_input = x.detach()

    def backward_kernel(self) -> torch.Tensor:
        kernel = self.rule.kernel(self) if self.rule is not None else self.weight
        return kernel.detach()

    def project(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """The layer's linear map with ``kernel`` in place of ``W`` and no bias (autograd)."""
        raise NotImplementedError

    def reconstruct(self, y: torch.Tensor, kernel: torch.Tensor, like: torch.Tensor):
        """The adjoint map of ``project`` (``kernel^T y``), shaped like the input ``like``."""
        raise NotImplementedError


class UntiedLinear(UntiedLayer):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        reference = nn.Linear(in_features, out_features)
        self.weight, self.bias = reference.weight, reference.bias
        self.register_buffer("feedback", torch.zeros_like(reference.weight.detach()))
        self.rule = None
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.keep_input(x)
        return UntiedLinearFunction.apply(x, self.weight, self.bias, self.backward_kernel())

    def project(self, x, kernel):
        return F.linear(x, kernel)

    def reconstruct(self, y, kernel, like):
        return y @ kernel


class UntiedConv2d(UntiedLayer):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int) -> None:
        super().__init__()
        reference = nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding)
        self.weight, self.bias = reference.weight, reference.bias
        self.register_buffer("feedback", torch.zeros_like(reference.weight.detach()))
        self.rule = None
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.keep_input(x)
        return UntiedConv2dFunction.apply(
            x, self.weight, self.bias, self.backward_kernel(), self.padding
        )

    def project(self, x, kernel):
        return F.conv2d(x, kernel, padding=self.padding)

    def reconstruct(self, y, kernel, like):
        return torch.nn.grad.conv2d_input(like.shape, kernel, y, padding=self.padding)


def untied_layers(model: nn.Module) -> list[UntiedLayer]:
    """The model's untied layers, in registration order (bottom to top)."""
    return [module for module in model.modules() if isinstance(module, UntiedLayer)]


def angle_degrees(a: torch.Tensor, b: torch.Tensor) -> float:
    """Angle between two tensors as flat vectors (degrees): B against W measures alignment."""
    a, b = a.detach().flatten().double(), b.detach().flatten().double()
    cosine = (a @ b) / (a.norm() * b.norm()).clamp_min(1e-300)
    return float(torch.rad2deg(torch.arccos(cosine.clamp(-1.0, 1.0))))
