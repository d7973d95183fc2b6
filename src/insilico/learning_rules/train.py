"""Train networks with each learning rule on the IT branch's categorisation images.

Every network of a group (variant x seed) is trained in this one process, one after the other, on
the same standardised image tensors: Adam on the cross-entropy for ``steps`` minibatches (the
gradient Adam sees is the one the rule's backward pass gives), then the rule's own update of the
feedback kernels. Recorded every ``eval_every`` steps: training loss, held-out test accuracy, and
the angle between every layer's backward kernel and its forward weight.

A trained network is saved in the IT branch's model format (kind ``cnn``, its hyperparameters,
the image standardisation, test accuracy): :func:`insilico.it.train.load_it_model` rebuilds it as
the IT branch's own CNN, whose forward pass is the same.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch.nn import functional as F

from insilico.core.checkpoint import RunState, digest, fingerprint, seeded
from insilico.core.classification import accuracy, standardise
from insilico.core.io import save_torch
from insilico.core.training import train_loop
from insilico.learning_rules.network import UntiedCNN, it_state_dict
from insilico.learning_rules.rules import Rule, alignment_angles

TRAIN_KEYS = ("steps", "batch_size", "learning_rate", "eval_every")
CURVES = ("step", "train_loss", "test_accuracy", "angle")


class TaskData:
    """The task images on the device, standardised with the training set's statistics."""

    def __init__(self, images: xr.Dataset, device: torch.device) -> None:
        train = images["train_images"].values
        self.mean, self.std = float(train.mean() / 255.0), float(train.std() / 255.0)
        self.size = int(train.shape[-1])
        self.n_classes = int(images.attrs["n_categories"])
        self.digest = digest(train)
        self.x_train = standardise(train, self.mean, self.std, device)
        self.y_train = torch.as_tensor(
            images["train_labels"].values, dtype=torch.long, device=device
        )
        self.x_test = standardise(images["test_images"].values, self.mean, self.std, device)
        self.y_test = torch.as_tensor(images["test_labels"].values, dtype=torch.long, device=device)


def build(variant: dict, data: TaskData, seed: int, device: torch.device):
    """The variant's network at its seed's initialisation, with its rule attached."""
    model = UntiedCNN(size=data.size, n_classes=data.n_classes, **variant["model"]).to(device)
    rule = Rule(variant["rule"], variant["settings"])
    rule.attach(model, torch.Generator().manual_seed(10_000 + seed))
    return model, rule


def train_network(
    variant: dict, seed: int, data: TaskData, train: dict, device, log, checkpoint: Path
) -> dict:
    """Train one network through the shared loop; returns its model, curves and test accuracy.

    One unit is one Adam step; the curves are recorded and the checkpoint written every
    ``eval_every`` steps and at the last, so a resumed run starts with an empty running loss.
    """
    steps, every = train["steps"], train["eval_every"]
    with seeded(device, seed) as generator:
        model, rule = build(variant, data, seed, device)
        optimizer = torch.optim.Adam(model.parameters(), lr=train["learning_rate"])
        run = RunState(
            checkpoint,
            fingerprint(variant=variant, train=train, seed=seed, images=data.digest),
            device,
            log,
            components={"model": model, "optimizer": optimizer},
            generators={"batches": generator},
            curves=CURVES,
        )
        running: list[float] = []

        def one_step(unit: int):
            batch = torch.randint(len(data.x_train), (train["batch_size"],), generator=generator)
            batch = batch.to(device)
            loss = F.cross_entropy(model(data.x_train[batch]), data.y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            rule.before_step(model)
            optimizer.step()
            rule.after_step(model, generator)
            running.append(loss.item())
            if unit % every and unit != steps:
                return None
            values = {
                "step": unit,
                "train_loss": float(np.mean(running)),
                "test_accuracy": accuracy(model, data.x_test, data.y_test),
                "angle": alignment_angles(model),
            }
            running.clear()
            return values

        train_loop(
            run,
            steps,
            one_step,
            describe=lambda v: f"loss {v['train_loss']:.4f} accuracy {v['test_accuracy']:.3f}",
            save_every=every,
            label=f"{variant['name']} seed {seed} ",
        )
        run.finish()
    curves = run.curves
    if not np.all(np.isfinite(curves["train_loss"])):
        log.warning("%s seed %d: the loss diverged", variant["name"], seed)
    log.info(
        "%s seed %d: test accuracy %.3f, angles %s",
        variant["name"],
        seed,
        curves["test_accuracy"][-1],
        np.round(curves["angle"][-1], 1).tolist(),
    )
    return {"model": model, "curves": curves}


def model_payload(model: UntiedCNN, variant: dict, data: TaskData, seed: int, steps: int, acc):
    """What :func:`insilico.it.train.load_it_model` reads: an IT-branch ``cnn`` checkpoint."""
    return {
        "kind": "cnn",
        "model_params": dict(variant["model"]),
        "size": data.size,
        "n_classes": data.n_classes,
        "image_mean": data.mean,
        "image_std": data.std,
        "steps": steps,
        "seed": seed,
        "test_accuracy": acc,
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "learning_rule": variant["rule"],
        "variant": variant["name"],
        "state_dict": it_state_dict(model),
    }


def train_group(
    *,
    variants: list[dict],
    seeds: list[int],
    images: xr.Dataset,
    train: dict,
    model_paths: dict[tuple[str, int], str | os.PathLike] | None,
    device: torch.device,
    log: logging.Logger,
    checkpoints: Path,
) -> xr.Dataset:
    """Train every variant x seed; save the models named in ``model_paths``; return the curves.

    Each network checkpoints to ``checkpoints/<variant>_seed<seed>.pt`` while it trains.
    """
    missing = sorted(set(TRAIN_KEYS) - set(train))
    if missing:
        raise ValueError(f"learning_rules.train lacks {missing}")
    data = TaskData(images, device)
    results = {}
    for variant in variants:
        for seed in seeds:
            checkpoint = checkpoints / f"{variant['name']}_seed{seed}.pt"
            out = train_network(variant, seed, data, train, device, log, checkpoint)
            results[variant["name"], seed] = out["curves"]
            if model_paths is not None:
                acc = out["curves"]["test_accuracy"][-1]
                payload = model_payload(out["model"], variant, data, seed, train["steps"], acc)
                save_torch(payload, model_paths[variant["name"], seed])
    return curves_dataset(variants, seeds, results, data.n_classes)


def curves_dataset(variants, seeds, results, n_classes: int) -> xr.Dataset:
    names = [v["name"] for v in variants]
    first = results[names[0], seeds[0]]
    steps = np.asarray(first["step"])

    def stack(key):
        return np.asarray([[results[n, s][key] for s in seeds] for n in names], dtype=float)

    n_layers = max(len(results[n, s]["angle"][0]) for n in names for s in seeds)
    angles = np.full((len(names), len(seeds), len(steps), n_layers), np.nan)
    for i, name in enumerate(names):
        for j, seed in enumerate(seeds):
            a = np.asarray(results[name, seed]["angle"])
            angles[i, j, :, : a.shape[1]] = a
    return xr.Dataset(
        {
            "train_loss": (("variant", "seed", "step"), stack("train_loss")),
            "test_accuracy": (("variant", "seed", "step"), stack("test_accuracy")),
            "angle": (("variant", "seed", "step", "untied_layer"), angles),
        },
        coords={
            "variant": names,
            "seed": list(seeds),
            "step": steps,
            "rule": ("variant", [v["rule"] for v in variants]),
            "group": ("variant", [v["group"] for v in variants]),
            "block_convs": ("variant", [int(v["model"]["block_convs"]) for v in variants]),
        },
        attrs={"chance": 1.0 / n_classes, "n_classes": n_classes},
    )
