"""Object-categorisation training of the IT-branch models (feedforward CNN, ConvRNN).

The models are trained on rendered images that are disjoint from the neural stimulus set (their
own poses and backgrounds, see :func:`insilico.it.simulator.task_images`) and tested on another
disjoint set; the test accuracy is the "task performance" plotted against neural predictivity.
``steps = 0`` gives the untrained control: the same network at its random initialisation (same
seed), evaluated the same way.

Images stay on the device as one standardised float32 tensor; batches are drawn by index.
A checkpoint every ``checkpoint_every`` steps (the run's :class:`insilico.core.checkpoint.RunState`:
model, optimiser, RNG states, curves, and a fingerprint of the run) makes a killed job resume
exactly where it stopped.
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch.nn import functional as F

from insilico.core.checkpoint import RunState, digest, fingerprint, seeded
from insilico.core.classification import accuracy, standardise
from insilico.core.device import autocast, choose_device
from insilico.core.io import load_torch, save_torch, write_netcdf
from insilico.core.training import train_loop
from insilico.it.models import MODELS, model_kind, model_module

TRAIN_KEYS = frozenset(
    {
        "steps",
        "batch_size",
        "learning_rate",
        "weight_decay",
        "eval_every",
        "checkpoint_every",
        "seed",
    }
)


def build_it_model(kind: str, *, size: int, n_classes: int, **hparams: Any) -> torch.nn.Module:
    """Build an IT-branch model (``kind``: a configured model name such as ``convrnn_lstm``);
    unknown kinds or hyperparameters are errors, not ignored."""
    model_class = getattr(importlib.import_module(model_module(kind)), MODELS[model_kind(kind)][1])
    allowed = model_class.DEFAULT_HPARAMS
    unknown = sorted(set(hparams) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {unknown} for model {kind!r}; allowed: {sorted(allowed)}"
        )
    return model_class(size=size, n_classes=n_classes, **{**allowed, **hparams})


@torch.no_grad()
def multiply_adds(model: torch.nn.Module, size: int) -> int:
    """Multiply-adds of one image through the trained schedule (every unrolled step of a ConvRNN),
    counted on the convolutions and linear layers: the compute a deeper CNN is matched against."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, torch.nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * kernel * module.in_channels // module.groups
        else:
            total += output.numel() * module.in_features

    hooks = [
        module.register_forward_hook(count)
        for module in model.modules()
        if isinstance(module, torch.nn.Conv2d | torch.nn.Linear)
    ]
    model.step_logits(torch.zeros(1, 1, size, size, device=next(model.parameters()).device))
    for hook in hooks:
        hook.remove()
    return total


def _check(train_params: dict) -> dict:
    missing, unknown = (
        sorted(TRAIN_KEYS - set(train_params)),
        sorted(set(train_params) - TRAIN_KEYS),
    )
    if missing or unknown:
        raise ValueError(
            f"train_params: missing {missing}, unknown {unknown}; expected {sorted(TRAIN_KEYS)}"
        )
    for key in ("steps", "seed"):
        if not isinstance(train_params[key], int) or train_params[key] < 0:
            raise ValueError(
                f"train_params[{key!r}] must be an integer >= 0, got {train_params[key]!r}"
            )
    for key in ("batch_size", "eval_every", "checkpoint_every"):
        if not isinstance(train_params[key], int) or train_params[key] < 1:
            raise ValueError(
                f"train_params[{key!r}] must be an integer >= 1, got {train_params[key]!r}"
            )
    return train_params


def train_classifier(
    *,
    kind: str,
    model_params: dict,
    train_params: dict,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    n_classes: int,
    model_out: str | os.PathLike,
    history_out: str | os.PathLike,
    checkpoint_path: str | os.PathLike,
    log: logging.Logger,
) -> dict:
    """Train with Adam on cross-entropy for ``steps`` minibatches; write the model and curves.

    ``model_out`` holds everything to rebuild the model and preprocess new images (kind,
    hyperparameters, image size, standardisation) plus its test accuracy; ``history_out`` the
    training loss and test accuracy every ``eval_every`` steps. Returns the final metrics.
    """
    params = _check(dict(train_params))
    size = train_images.shape[-1]
    mean = float(train_images.mean() / 255.0)
    std = float(train_images.std() / 255.0)
    device = choose_device(log)
    run_fingerprint = fingerprint(
        kind=kind,
        model=model_params,
        train=params,
        images=digest(train_images),
        labels=digest(np.asarray(train_labels)),
    )
    with seeded(device, params["seed"]) as generator:
        model = build_it_model(kind, size=size, n_classes=n_classes, **model_params).to(device)
        optimizer = _optimizer(model, params)
        x_train, x_test = (standardise(x, mean, std, device) for x in (train_images, test_images))
        y_train, y_test = (
            torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
            for y in (train_labels, test_labels)
        )
        data = (x_train, y_train, x_test, y_test)
        run = RunState(
            checkpoint_path,
            run_fingerprint,
            device,
            log,
            components={"model": model, "optimizer": optimizer},
            generators={"batches": generator},
            curves=("step", "train_loss", "test_accuracy", "seconds"),
        )
        n_parameters = sum(p.numel() for p in model.parameters())
        log.info(
            "%s: %d parameters, %d training / %d test images of %dx%d px, %d steps",
            kind, n_parameters, len(data[0]), len(data[2]), size, size, params["steps"],
        )  # fmt: skip
        if optimizer is not None:  # an untrained control has nothing to train or resume
            _fit(run, model, optimizer, data, params, generator)
        final_accuracy = accuracy(model, data[2], data[3])
    log.info(
        "test accuracy %.3f after %d steps (chance %.3f)",
        final_accuracy,
        run.progress,
        1 / n_classes,
    )
    meta = {
        "kind": kind,
        "model_params": dict(model_params),
        "size": size,
        "n_classes": n_classes,
        "image_mean": mean,
        "image_std": std,
        "steps": run.progress,
        "seed": params["seed"],
        "test_accuracy": final_accuracy,
        "n_parameters": n_parameters,
        "multiply_adds": multiply_adds(model, size),
    }
    _write_outputs(run, model, meta, device, model_out, history_out)
    return {"test_accuracy": final_accuracy, "steps": run.progress}


def _optimizer(model: torch.nn.Module, params: dict) -> torch.optim.Optimizer | None:
    """Adam, built only when there are steps to take: creating it imports torch's compiler stack
    (about 2 s), wasted on an untrained control."""
    if params["steps"] == 0:
        return None
    return torch.optim.Adam(
        model.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"]
    )


def _fit(run, model, optimizer, data, params: dict, generator: torch.Generator) -> None:
    """The optimisation through the shared loop, one minibatch step per unit; the test accuracy
    and the training loss averaged since the last evaluation every ``eval_every`` steps."""
    x_train, y_train, x_test, y_test = data
    device = x_train.device
    clock = {"start": time.perf_counter()}
    model.train()

    def one_step(step: int) -> dict | None:
        batch = torch.randint(len(x_train), (params["batch_size"],), generator=generator)
        batch = batch.to(device)
        with autocast(device):
            logits = model.step_logits(x_train[batch]).float()  # (steps, B, classes)
        # every trained step counts alike (a ConvRNN's readout over its whole presentation)
        targets = y_train[batch].expand(len(logits), -1)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        # the loss since the last evaluation lives in the run state, so a resumed run records
        # the same curve
        running, count = run.parts.get("loss_since_evaluation", (0.0, 0))
        running, count = running + loss.item(), count + 1
        run.parts["loss_since_evaluation"] = (running, count)
        if step % params["eval_every"] and step != params["steps"]:
            return None
        seconds = time.perf_counter() - clock["start"]
        run.parts["loss_since_evaluation"] = (0.0, 0)
        clock["start"] = time.perf_counter()
        return {
            "step": step,
            "train_loss": running / count,
            "test_accuracy": accuracy(model, x_test, y_test),
            "seconds": seconds,
            "images_per_s": count * params["batch_size"] / max(seconds, 1e-9),
        }

    train_loop(
        run,
        params["steps"],
        one_step,
        describe=lambda v: (
            f"loss {v['train_loss']:.4f} test accuracy {v['test_accuracy']:.3f} "
            f"({v['seconds']:.1f} s, {v['images_per_s']:.0f} images/s)"
        ),
        save_every=params["checkpoint_every"],
    )


def _write_outputs(run, model, meta: dict, device, model_out, history_out) -> None:
    """The model with what rebuilds and preprocesses it, and the curves; then the checkpoint goes."""
    save_torch(
        {**meta, "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}},
        model_out,
    )
    curves = run.curves
    history = xr.Dataset(
        {
            key: ("eval", np.asarray(values, dtype=np.float64))
            for key, values in curves.items()
            if key != "step"
        },
        coords={"step": ("eval", np.asarray(curves["step"], dtype=np.int64))},
        attrs={
            "kind": meta["kind"],
            "test_accuracy": meta["test_accuracy"],
            "steps": meta["steps"],
            "chance": 1 / meta["n_classes"],
            "device": device.type,
        },
    )
    write_netcdf(history, history_out)
    run.finish()


def load_it_model(path: str | os.PathLike) -> tuple[torch.nn.Module, dict]:
    """Rebuild a model written by :func:`train_classifier` (CPU, eval mode) and its metadata."""
    payload = load_torch(path)
    meta = {key: value for key, value in payload.items() if key != "state_dict"}
    model = build_it_model(
        meta["kind"], size=meta["size"], n_classes=meta["n_classes"], **meta["model_params"]
    )
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, meta
