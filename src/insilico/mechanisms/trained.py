"""The trained control: the fitted CNN's architecture trained to carry the simulated interneurons.

The circuit control (:mod:`~insilico.mechanisms.control`) is written down, so every cell reads its
true channels and little else; a fitted CNN is trained, and every channel reaches every cell. This
control sits between the two: the fitted CNN's architecture and training (the recording's
training movie and rates, Poisson loss, Adam, early stopping on the validation block, through
:func:`insilico.core.training.train_loop`) from a seeded random initialisation, with its hidden
layers told what the simulated retina's interneurons do. A fixed channel assignment supervises them:
layer-1 channel ``i`` is trained to follow bipolar type ``i`` (``retina.bipolar_types``) and
layer-2 channel ``j`` signal ``j`` of :func:`insilico.mechanisms.signals.signal_names`
(the bipolar types, then the amacrine types), each read from the simulator's exported internals at
the unit's pixel; the remaining channels are free. The hidden loss is ``1 - r`` (Pearson over the
batch and the units, per supervised channel, averaged) times ``hidden_weight``, added to the
Poisson loss on the ganglion rates. The readout stays dense and trained: every channel may reach
every cell, as in a fitted CNN.

The control can fail: if the mechanism stages recover its circuit, a fitted CNN's low count
means the fitted CNN learned something else; if they do not, the method cannot read a trained
dense CNN even when its channels are the true interneurons.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from insilico.core.checkpoint import RunState, fingerprint, seeded
from insilico.core.stats import pearson_torch
from insilico.core.training import train_loop
from insilico.mechanisms.attribution import probe
from insilico.mechanisms.signals import interpolation_matrix, signal_names
from insilico.retina.models import build_model
from insilico.retina.windows import (
    WindowSampler,
    split_bins,
    standardised_on_device,
    stimulus_moments,
)

CURVES = ("train_loss", "val_corr", "val_hidden_r", "score", "seconds")
HELDOUT_FRAMES = 2000  # white-noise frames of the held-out check of the hidden layers
HELDOUT_STREAM = 0x7E57  # the held-out movie's seed stream (recordings use 0 to 4)


def supervised_signals(retina, channels) -> dict[int, list[str]]:
    """The signals each hidden layer's first channels are trained on, in channel order: layer 1
    the bipolar types, layer 2 the bipolar then the amacrine types, as many as the layer has
    channels (``channels``: the CNN's per-layer counts; a layer with fewer channels than
    signals leaves the last signals out)."""
    names = signal_names(retina)
    wanted = {1: names[: len(retina.bipolar_types)], 2: names}
    return {layer: wanted[layer][: channels[layer - 1]] for layer in wanted}


def _layer_grid(size: int, kernels, layer: int) -> np.ndarray:
    """Pixel coordinate of each row (= column) of a layer's units (unpadded, stride 1)."""
    shrink = sum(k - 1 for k in kernels[:layer])
    return shrink / 2 + np.arange(size - shrink)


def hidden_targets(retina, movie: np.ndarray, kernels, channels) -> dict[int, np.ndarray]:
    """Per hidden layer the supervised signals ``(frame, signal, unit)`` at the units' pixels,
    each signal standardised over the movie (a constant signal stays 0)."""
    internals = retina.respond(movie)
    signals = np.concatenate([internals["bipolar"], internals["amacrine"]])
    flat = signals.reshape(len(signals), len(movie), -1).astype(np.float64)
    out = {}
    for layer, names in supervised_signals(retina, channels).items():
        grid = _layer_grid(retina.size, kernels, layer)
        matrix = interpolation_matrix(retina, grid, grid)  # (units, subunits)
        sampled = flat[: len(names)].transpose(1, 0, 2) @ matrix.T  # (frame, signal, unit)
        mean = sampled.mean(axis=(0, 2), keepdims=True)
        std = sampled.std(axis=(0, 2), keepdims=True)
        out[layer] = np.divide(
            sampled - mean, std, out=np.zeros_like(sampled), where=std > 0
        ).astype(np.float32)
    return out


def hidden_correlation(activity: dict[int, torch.Tensor], targets: dict[int, torch.Tensor]):
    """Pearson r ``{layer: (signal,)}`` of each supervised channel with its signal, over the
    windows and the units (a constant channel: 0)."""
    out = {}
    for layer, target in targets.items():
        act = activity[layer][:, : target.shape[1]].flatten(2)  # (batch, signal, unit)
        pred = act.transpose(0, 1).flatten(1)
        true = target.transpose(0, 1).flatten(1)
        out[layer] = torch.nan_to_num(pearson_torch(pred, true, dim=1), nan=0.0)
    return out


class _Control:
    """The model, data and optimiser of one trained control; ``epoch`` trains one unit."""

    def __init__(self, recording, retina, model_params, params, generator):
        history = int(model_params["history"])
        hparams = {k: v for k, v in model_params.items() if k != "history"}
        stimulus = recording.train_stimulus
        self.params, self.generator = params, generator
        self.mean, self.std = stimulus_moments(stimulus)
        self.ends = [
            torch.from_numpy(e) for e in split_bins(len(stimulus), history, params["val_fraction"])
        ]
        self.model = build_model(
            "cnn",
            history=history,
            size=stimulus.shape[1],
            n_cells=recording.train_rate.shape[0],
            **hparams,
        )
        movie = standardised_on_device(stimulus, self.mean, self.std, torch.device("cpu"))
        self.windows = WindowSampler(movie, history)
        self.rates = torch.from_numpy(np.ascontiguousarray(recording.train_rate.T, np.float32))
        hidden = hidden_targets(retina, stimulus, hparams["kernels"], hparams["channels"])
        self.hidden = {layer: torch.from_numpy(t) for layer, t in hidden.items()}
        self.model.init_output_bias(self.rates[self.ends[0]].mean(0))
        output = {id(p) for p in self.model.output_affine()}
        rest = [p for p in self.model.parameters() if id(p) not in output]
        lr = params["learning_rate"]
        self.optimizer = torch.optim.Adam(
            [
                {"params": rest},
                {"params": self.model.output_affine(), "lr": lr * params["output_lr_factor"]},
            ],
            lr=lr,
        )

    def _losses(self, ends: torch.Tensor):
        with probe(self.model) as activity:
            rates = self.model(self.windows(ends))
        targets = {layer: t[ends] for layer, t in self.hidden.items()}
        r = hidden_correlation(activity, targets)
        hidden = torch.cat(list(r.values())).mean()
        return rates, hidden

    def epoch(self, unit: int) -> dict:
        """One pass over shuffled training windows, then the validation block's scores."""
        start = time.perf_counter()
        model, params, train_ends = self.model, self.params, self.ends[0]
        model.train()
        batch_size = min(params["batch_size"], len(train_ends))
        order = torch.randperm(len(train_ends), generator=self.generator)
        total = 0.0
        for batch in order[: len(order) - len(order) % batch_size].split(batch_size):
            ends = train_ends[batch]
            rates, hidden_r = self._losses(ends)
            loss = F.poisson_nll_loss(rates, self.rates[ends], log_input=False)
            loss = loss + model.regularization(rates) + params["hidden_weight"] * (1 - hidden_r)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            rates, hidden_r = self._losses(self.ends[1])
        r = pearson_torch(rates.double(), self.rates[self.ends[1]].double(), dim=0)
        val_corr = torch.nan_to_num(r, nan=0.0).mean().item()
        return {
            "train_loss": total / max(len(order) - len(order) % batch_size, 1),
            "val_corr": val_corr,
            "val_hidden_r": hidden_r.item(),
            "score": (val_corr + hidden_r.item()) / 2,
            "seconds": time.perf_counter() - start,
        }


def _describe(values: dict) -> str:
    return (
        f"train_loss {values['train_loss']:.4g} val_corr {values['val_corr']:.3f} "
        f"val_hidden_r {values['val_hidden_r']:.3f} {values['seconds']:.1f} s"
    )


def train_control(
    recording,
    retina,
    model_params: dict,
    params: dict,
    *,
    checkpoint_path: str | Path,
    log: logging.Logger,
) -> tuple[torch.nn.Module, dict]:
    """Train the control on ``recording`` (the simulated one of ``retina``) on the CPU.

    ``model_params``: the fitted CNN's (``history`` and its hyperparameters); ``params``: its
    training settings (``batch_size``, ``learning_rate``, ``output_lr_factor``, ``val_fraction``,
    ``patience``) with the control's ``epochs``, ``hidden_weight`` and ``seed``. Early stopping
    keeps the epoch with the best mean of the validation correlation (rates) and the validation
    hidden r. Returns ``(model, meta)`` as :func:`insilico.retina.inference.load_model`.
    """
    device = torch.device("cpu")
    digest = {
        "shape": list(recording.train_stimulus.shape),
        "rate_sum": float(recording.train_rate.sum()),
        "retina": [retina.params, retina.seed],
    }
    key = fingerprint(model=model_params, train=params, data=digest)
    with seeded(device, params["seed"]) as generator:
        fit = _Control(recording, retina, model_params, params, generator)
        run = RunState(
            Path(checkpoint_path),
            key,
            device,
            log,
            components={"model": fit.model, "optimizer": fit.optimizer},
            generators={"shuffle": generator},
            curves=CURVES,
            best_of=fit.model,
            unit="epoch",
        )
        train_loop(
            run,
            params["epochs"],
            fit.epoch,
            describe=_describe,
            patience=params["patience"],
            score="score",
        )
    fit.model.load_state_dict(run.best_state)
    fit.model.eval()
    run.finish()
    meta = {
        "history": int(model_params["history"]),
        "size": int(recording.train_stimulus.shape[1]),
        "n_cells": int(recording.train_rate.shape[0]),
        "cell_names": [str(name) for name in recording.cell_names],
        "stimulus_mean": fit.mean,
        "stimulus_std": fit.std,
        "kind": "cnn",
        "model_params": dict(model_params),
        "control": "trained",
        "hidden_weight": float(params["hidden_weight"]),
        "best_epoch": run.best_progress,
        "curves": {name: list(values) for name, values in run.curves.items()},
    }
    return fit.model, meta


@torch.no_grad()
def heldout_hidden_correlation(
    model, meta: dict, retina, stimulus_class: str, frames: int = HELDOUT_FRAMES
) -> dict[int, np.ndarray]:
    """Each supervised channel's Pearson r with its signal on a movie of ``stimulus_class`` that
    the control never saw (seeded from a stream no recording draws from), ``{layer: (signal,)}``
    in the order of :func:`supervised_signals`."""
    rng = np.random.default_rng([retina.seed, HELDOUT_STREAM])
    movie = retina.stimulus(stimulus_class, frames, rng)
    kernels = meta["model_params"]["kernels"]
    channels = meta["model_params"]["channels"]
    hidden = hidden_targets(retina, movie, kernels, channels)
    targets = {k: torch.from_numpy(v) for k, v in hidden.items()}
    stimulus = standardised_on_device(
        movie, meta["stimulus_mean"], meta["stimulus_std"], torch.device("cpu")
    )
    ends = torch.arange(meta["history"] - 1, len(movie))
    model.eval()
    with probe(model) as activity:
        model(WindowSampler(stimulus, meta["history"])(ends))
    targets = {layer: t[ends] for layer, t in targets.items()}
    return {layer: r.numpy() for layer, r in hidden_correlation(activity, targets).items()}
