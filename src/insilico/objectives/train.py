"""Training the IT branch's CNN (:class:`insilico.it.models.cnn.ItCNN`) by each objective.

Every network of a job (objectives x seeds, or wave pre-training x seeds) trains in turn through
:func:`insilico.core.training.train_loop`, one Adam step per unit, with its own checkpoint.
Sources of views:

- ``images``: the IT branch's rendered task images (``results/it/task_images.nc``), each batch of
  B images expanded into V augmented views (:mod:`insilico.objectives.augment`);
- ``waves``: frames of the simulated retinal-wave movies (:mod:`insilico.objectives.waves`), the
  views of a frame being the frames ``gap``, ``2 gap`` ... steps after it (the wave has moved on:
  nearby translations of one pattern);
- ``shuffled``: the same frames in a random temporal order, so that "adjacent" frames are
  unrelated (the control that must lose what waves teach).

The supervised network reads its category logits from the model's readout; the self-supervised
ones use the readout as a projection to ``embed_dim`` dimensions. ``steps = 0`` is the random
initialisation control (the same seed's initial weights).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from insilico.core.checkpoint import RunState, fingerprint, seeded
from insilico.core.classification import standardise
from insilico.core.device import choose_device
from insilico.core.training import train_loop
from insilico.it.train import build_it_model
from insilico.objectives.augment import make_views
from insilico.objectives.losses import objective_loss

LIT = 25  # a lit pixel of a wave movie (uint8)
Batches = Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]]


def image_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, n_views: int, aug: dict):
    """Batches of ``n_views`` augmented views of ``batch_size`` random training images."""

    def draw(generator: torch.Generator):
        index = torch.randint(len(x), (batch_size,), generator=generator)
        views = make_views(
            x[index],
            n_views,
            generator,
            shift=aug["shift"],
            flip=aug["flip"],
            contrast=tuple(aug["contrast"]),
        )
        return views, y[index]

    return draw


def wave_batches(frames: torch.Tensor, anchors: np.ndarray, gap: int, batch_size: int, n_views):
    """Batches of frames (from ``anchors``) with the frames ``gap``, ``2 gap`` ... later as views."""
    anchors_t = torch.as_tensor(anchors)
    offsets = torch.arange(n_views) * gap

    def draw(generator: torch.Generator):
        index = anchors_t[torch.randint(len(anchors_t), (batch_size,), generator=generator)]
        views = frames[index[:, None] + offsets[None, :]]  # (B, V, 1, H, W)
        return views, torch.zeros(batch_size, dtype=torch.long)

    return draw


def wave_anchors(movie: np.ndarray, gap: int, n_views: int, min_active: float) -> np.ndarray:
    """Frames with at least ``min_active`` of their pixels lit (above a tenth of the movie's
    range), and room for the later views."""
    lit = (movie > LIT).mean(axis=(1, 2)) >= min_active
    last = len(movie) - (n_views - 1) * gap
    return np.flatnonzero(lit[:last])


def train_network(
    *,
    objective: str,
    batches: Batches,
    out_dim: int,
    size: int,
    model_params: dict,
    settings: dict,
    seed: int,
    checkpoint: Path,
    log: logging.Logger,
) -> tuple[dict, list[float]]:
    """Train one network; returns its CPU state dict and its loss every ``log_every`` steps."""
    device = choose_device(log)
    steps = settings["steps"]
    with seeded(device, seed) as generator:
        model = build_it_model("cnn", size=size, n_classes=out_dim, **model_params).to(device)
        if steps == 0:
            return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, []
        optimizer = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
        run = RunState(
            checkpoint,
            fingerprint(objective=objective, model=model_params, train=settings, seed=seed),
            device,
            log,
            components={"model": model, "optimizer": optimizer},
            generators={"batches": generator},
            curves=("loss",),
        )
        every = settings["log_every"]

        def one_step(unit: int):
            views, labels = (part.to(device) for part in batches(generator))
            outputs = model(views.flatten(0, 1)).reshape(*views.shape[:2], -1)
            loss = objective_loss(objective, outputs, labels, settings["temperature"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            return {"loss": loss.item()} if unit % every == 0 or unit == steps else None

        model.train()
        train_loop(
            run,
            steps,
            one_step,
            describe=lambda values: f"{objective} loss {values['loss']:.4f}",
            save_every=settings["checkpoint_every"],
            label=f"{objective} seed {seed} ",
        )
        run.finish()
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, run.curves["loss"]


def standardised_images(images: np.ndarray) -> tuple[torch.Tensor, float, float]:
    """uint8 images as the standardised tensor the IT trainer uses, with their mean and std."""
    mean, std = float(images.mean() / 255.0), float(images.std() / 255.0)
    return standardise(images, mean, std, torch.device("cpu")), mean, std


def train_image_networks(task, settings: dict, log: logging.Logger, checkpoints: Path) -> dict:
    """The random-initialisation control and one network per objective and seed, on the task
    images. Returns ``{"runs": {name: {seed: state}}, "out_dim": ..., "curves": ...}``."""
    x, mean, std = standardised_images(task["train_images"].values)
    y = torch.as_tensor(task["train_labels"].values, dtype=torch.long)
    n_classes = int(task.attrs["n_categories"])
    train = settings["train"]
    batches = image_batches(x, y, train["batch_size"], settings["views"], settings["augment"])
    plan = {"untrained": ("mmcr", 0)} | {name: (name, train["steps"]) for name in settings["fit"]}
    return _train_plan(plan, batches, n_classes, x.shape[-1], settings, train, log, checkpoints) | {
        "image_mean": mean,
        "image_std": std,
    }


def train_wave_networks(movies: np.ndarray, settings: dict, log, checkpoints: Path) -> dict:
    """Pre-training on each seed's wave movie (``movies``: ``(seeds, steps, H, W)`` uint8) with
    adjacent frames as views, and on the same frames temporally shuffled."""
    waves = settings["waves"]
    train = {**settings["train"], **waves["train"]}
    out = {"runs": {}, "out_dim": {}, "curves": {}}
    for index, seed in enumerate(settings["seeds"]):
        movie = movies[index]
        order = np.random.default_rng(seed).permutation(len(movie))
        for name, frames in (("waves", movie), ("shuffled_waves", movie[order])):
            x, _, _ = standardised_images(frames)
            anchors = wave_anchors(frames, waves["gap"], waves["views"], waves["min_active"])
            log.info("%s seed %d: %d anchor frames of %d", name, seed, len(anchors), len(frames))
            batches = wave_batches(x, anchors, waves["gap"], train["batch_size"], waves["views"])
            plan = {name: (waves["objective"], train["steps"])}
            part = _train_plan(
                plan, batches, 0, x.shape[-1], settings, train, log, checkpoints, seeds=[seed]
            )
            out["out_dim"][name] = part["out_dim"][name]
            out["runs"].setdefault(name, {}).update(part["runs"][name])
            out["curves"].setdefault(name, {}).update(part["curves"][name])
    return out


def _train_plan(plan, batches, n_classes, size, settings, train, log, checkpoints, seeds=None):
    runs, curves, out_dim = {}, {}, {}
    for name, (objective, steps) in plan.items():
        out_dim[name] = n_classes if objective == "supervised" else settings["embed_dim"]
        runs[name], curves[name] = {}, {}
        for seed in seeds if seeds is not None else settings["seeds"]:
            runs[name][seed], curves[name][seed] = train_network(
                objective=objective,
                batches=batches,
                out_dim=out_dim[name],
                size=size,
                model_params=dict(settings["model"]),
                settings={**train, "steps": steps},
                seed=seed,
                checkpoint=checkpoints / f"{name}_seed{seed}.pt",
                log=log,
            )
    return {"runs": runs, "out_dim": out_dim, "curves": curves}
