"""Retina models and the one factory the pipeline uses to build them.

Every model follows the same small protocol so that the trainer has no model-specific branches:

- ``forward(x)``: ``x`` is a batch of standardised history windows ``(B, history, H, W)`` float32;
  returns non-negative rates ``(B, n_cells)`` in Hz (softplus output).
- ``regularization(rates)``: scalar penalty added to the loss. It takes the batch's output rates
  because an activity penalty (L1 on the rates) is a function of them; weight penalties read the
  model's own parameters. Passing the rates in keeps the models stateless (no cached output).
- ``init_output_bias(mean_rate)``: start the output at each cell's mean training rate, so the
  first epochs are not spent climbing from softplus(0) = 0.69 Hz to tens of Hz.

Two optional hooks, used by the GLM:

- ``response_history`` (int attribute, and ``response_history_of(hparams)`` on the class, so the
  trainer knows it before building the model): the model also reads each cell's own past
  response over that many bins; ``forward(x, past)`` then gets ``past``
  ``(B, response_history, n_cells)`` in Hz, and the trainer fits it to spike counts (see
  :mod:`insilico.retina.train`).
- ``init_from_data(windows, response, ends)``: set data-dependent structure (the GLM's
  receptive-field patches) from the training windows before the optimiser starts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

# kind -> (module, class): imported on demand, so a job runs (and its rule tracks) only the code of
# its own models; rules/retina_common.smk declares model_module(kind) as code of the rules using it.
MODELS = {
    "ln": ("insilico.retina.models.ln", "LNModel"),
    "glm": ("insilico.retina.models.glm", "GLM"),
    "cnn": ("insilico.retina.models.cnn", "RetinaCNN"),
}

__all__ = ["MODELS", "build_model", "model_module", "model_response_history"]


def model_module(kind: str) -> str:
    """The module that defines the ``kind`` model (``"cnn"`` -> ``insilico.retina.models.cnn``)."""
    _check_kind(kind)
    return MODELS[kind][0]


def build_model(
    kind: str, *, history: int, size: int, n_cells: int, **hparams: Any
) -> torch.nn.Module:
    """Build a model of ``kind`` for ``history`` frames of ``size`` x ``size`` pixels.

    Hyperparameters not given take the model's ``DEFAULT_HPARAMS``; a misspelt one is an error
    rather than silently ignored, so a config typo cannot train the wrong model.
    """
    model_class = _model_class(kind)
    allowed = model_class.DEFAULT_HPARAMS
    unknown = sorted(set(hparams) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {unknown} for model {kind!r}; allowed: {sorted(allowed)}"
        )
    for name, value in (("history", history), ("size", size), ("n_cells", n_cells)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return model_class(history=history, size=size, n_cells=n_cells, **{**allowed, **hparams})


def model_response_history(kind: str, **hparams: Any) -> int:
    """Bins of each cell's own past response that a ``kind`` model reads (0: stimulus only)."""
    model_class = _model_class(kind)
    if not hasattr(model_class, "response_history_of"):
        return 0
    return model_class.response_history_of({**model_class.DEFAULT_HPARAMS, **hparams})


def _check_kind(kind: str) -> None:
    if kind not in MODELS:
        raise ValueError(f"unknown model kind {kind!r}; allowed kinds: {sorted(MODELS)}")


def _model_class(kind: str) -> type[torch.nn.Module]:
    _check_kind(kind)
    module, name = MODELS[kind]
    return getattr(importlib.import_module(module), name)
