"""The model family of Lindsey et al. (2019) and its training on object categorisation.

    image (1 x size x size, standardised)
      retina:     conv k x k to ``retina_channels[i]`` channels, ReLU (paper: one layer of 32)
      bottleneck: conv k x k to ``n_bn`` channels, ReLU: the optic nerve (paper: 1 to 32)
      ventral:    ``d_vvs`` conv k x k layers of ``vvs_channels``, ReLU (paper: 0 to 4 of 32)
      classifier: flatten, dense ``dense_units``, ReLU, dense to the categories

Every convolution keeps the spatial size (stride 1, "same" padding), so a unit at the centre
pixel of a channel sees the image centre; in the paper the retina is two conv layers, the
second being the bottleneck, with 9 x 9 kernels, and the dense layer has 1024 units. Training:
Adam (with an L2 penalty) on cross-entropy for ``epochs`` passes over the training images in shuffled minibatches,
with the shared run state (:mod:`insilico.core.checkpoint`) so a killed job resumes exactly.
"""

from __future__ import annotations

import logging
import os
import time

import torch
from torch import nn
from torch.nn import functional as F

from insilico.core.checkpoint import RunState, digest, fingerprint, seeded
from insilico.core.classification import accuracy, standardise
from insilico.core.device import autocast
from insilico.core.io import load_torch, save_torch
from insilico.core.training import train_loop

STAGES = ("bottleneck", "v1")  # the stages whose receptive fields are measured


class BottleneckNet(nn.Module):
    """Retina, bottleneck, ventral stream and classifier; see the module docstring.

    :meth:`stage` returns the pre-activation of the bottleneck or of the first ventral layer:
    their receptive fields are measured; the rectified ones are what the next stage sees.
    """

    def __init__(
        self,
        *,
        n_bn: int,
        d_vvs: int,
        size: int,
        n_classes: int,
        retina_channels: list[int],
        vvs_channels: int,
        kernel: int,
        dense_units: int,
    ) -> None:
        super().__init__()
        self.n_bn, self.d_vvs = int(n_bn), int(d_vvs)
        widths = [1, *retina_channels]
        self.retina = nn.ModuleList(
            nn.Conv2d(a, b, kernel, padding="same")
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.bottleneck = nn.Conv2d(widths[-1], n_bn, kernel, padding="same")
        ventral = [n_bn] + [vvs_channels] * d_vvs
        self.ventral = nn.ModuleList(
            nn.Conv2d(a, b, kernel, padding="same")
            for a, b in zip(ventral[:-1], ventral[1:], strict=True)
        )
        self.dense = nn.Linear(ventral[-1] * size * size, dense_units)
        self.readout = nn.Linear(dense_units, n_classes)
        for layer in (*self.retina, self.bottleneck, *self.ventral, self.dense):
            # He initialisation: the signal keeps its scale through the ReLU stack; torch's
            # default shrinks it layer by layer, and the deep, narrow networks then never leave
            # chance on these images.
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)

    def stage(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """Pre-activation (B, C, H, W) of stage ``name`` ("bottleneck" or "v1", see STAGES)."""
        if name == "v1" and not self.d_vvs:
            raise ValueError("a network without a ventral stream has no v1 stage")
        for conv in self.retina:
            x = F.relu(conv(x))
        x = self.bottleneck(x)
        return self.ventral[0](F.relu(x)) if name == "v1" else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.retina:
            x = F.relu(conv(x))
        x = F.relu(self.bottleneck(x))
        for conv in self.ventral:
            x = F.relu(conv(x))
        return self.readout(F.relu(self.dense(x.flatten(1))))


def build_model(architecture: dict, *, n_bn: int, d_vvs: int, size: int, n_classes: int):
    """A network of the family: ``architecture`` is config ``bottleneck.model``."""
    return BottleneckNet(n_bn=n_bn, d_vvs=d_vvs, size=size, n_classes=n_classes, **architecture)


def _train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One pass over the shuffled training images; the mean cross-entropy."""
    device, total = x_train.device, 0.0
    order = torch.randperm(len(x_train), generator=generator).to(device)
    for batch in order.split(batch_size):
        with autocast(device):
            logits = model(x_train[batch]).float()
        loss = F.cross_entropy(logits, y_train[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    return total / len(x_train)


def _describe_epoch(values: dict) -> str:
    return (
        f"loss {values['train_loss']:.4f} test accuracy {values['test_accuracy']:.3f} "
        f"({values['seconds']:.1f} s)"
    )


def train_model(
    *,
    architecture: dict,
    train: dict,
    n_bn: int,
    d_vvs: int,
    seed: int,
    images,
    device: torch.device,
    model_out: str | os.PathLike,
    checkpoint_path: str | os.PathLike,
    log: logging.Logger,
) -> dict:
    """Train one network on ``images`` (the image set Dataset); write it with its metadata.

    ``train`` is config ``bottleneck.train`` (epochs, batch_size, learning_rate, weight_decay:
    an L2 penalty inside Adam, which shrinks every weight the task does not support at about the
    learning rate per step, so the random part of the initial kernels fades). Returns the
    curves (epoch, train loss, test accuracy) and the final test accuracy.
    """
    train_images = images["train_images"].values
    size, n_classes = train_images.shape[-1], int(images.attrs["n_categories"])
    mean, std = float(train_images.mean() / 255.0), float(train_images.std() / 255.0)
    run_fingerprint = fingerprint(
        architecture=architecture, train=train, n_bn=n_bn, d_vvs=d_vvs, seed=seed,
        images=digest(train_images),
    )  # fmt: skip
    with seeded(device, seed) as generator:
        model = build_model(architecture, n_bn=n_bn, d_vvs=d_vvs, size=size, n_classes=n_classes)
        model.to(device)
        optimizer = torch.optim.Adam(
            model.parameters(), lr=train["learning_rate"], weight_decay=train["weight_decay"]
        )
        x_train = standardise(train_images, mean, std, device)
        y_train = torch.as_tensor(images["train_labels"].values, device=device)
        x_test = standardise(images["test_images"].values, mean, std, device)
        y_test = torch.as_tensor(images["test_labels"].values, device=device)
        run = RunState(
            checkpoint_path,
            run_fingerprint,
            device,
            log,
            components={"model": model, "optimizer": optimizer},
            generators={"batches": generator},
            curves=("epoch", "train_loss", "test_accuracy"),
            unit="epoch",
        )

        def epoch(unit: int) -> dict:
            start = time.perf_counter()
            loss = _train_epoch(model, optimizer, x_train, y_train, train["batch_size"], generator)
            return {
                "epoch": unit,
                "train_loss": loss,
                "test_accuracy": accuracy(model, x_test, y_test),
                "seconds": time.perf_counter() - start,
            }

        train_loop(
            run,
            train["epochs"],
            epoch,
            describe=_describe_epoch,
            label=f"n_bn {n_bn} d_vvs {d_vvs} seed {seed}: ",
        )
    accuracies = run.curves["test_accuracy"]
    meta = {
        "architecture": dict(architecture),
        **{"n_bn": n_bn, "d_vvs": d_vvs, "seed": seed, "size": size, "n_classes": n_classes},
        **{"image_mean": mean, "image_std": std, "curves": run.curves},
        "test_accuracy": accuracies[-1] if accuracies else None,
    }
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_torch({**meta, "state_dict": state}, model_out)
    run.finish()
    return meta


def load_model(path: str | os.PathLike) -> tuple[BottleneckNet, dict]:
    """Rebuild a network written by :func:`train_model` (CPU, eval mode) and its metadata."""
    payload = load_torch(path)
    meta = {key: value for key, value in payload.items() if key != "state_dict"}
    model = build_model(
        meta["architecture"],
        n_bn=meta["n_bn"],
        d_vvs=meta["d_vvs"],
        size=meta["size"],
        n_classes=meta["n_classes"],
    )
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, meta
