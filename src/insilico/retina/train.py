"""The trainer of the retina models: checkpoints and resume, early stopping, on the device.

The movie and its windows are :mod:`insilico.retina.windows`' (one standardised tensor on the
device, windows gathered per batch). Early stopping and the learning-rate schedule follow the mean
validation Pearson correlation. ``train_fraction`` (optional, default 1) keeps only the first part
of the training block, for data-efficiency curves: the validation block stays the same whatever
the fraction, so the runs are comparable. An epoch is one pass over the run's own training windows
(callers that want the same optimisation budget for every fraction scale ``epochs`` by
``1 / train_fraction``).

A model with a ``response_history`` (the GLM's spike-history term) also gets each cell's recorded
response over the preceding bins. It is fitted to the unsmoothed spike counts
(``recording.train_counts`` / bin width) instead of the smoothed rate, because a smoothed rate
in the past already contains the spikes of the bin being predicted.

A checkpoint written after every epoch makes a killed job resumable: the run's state (model,
optimiser, scheduler, early-stopping record, curves, RNG states) is one
:class:`insilico.core.checkpoint.RunState`, and the epochs run through
:func:`insilico.core.training.train_loop`, the loop every trainer shares, so a resumed run ends
with exactly the model of an uninterrupted one.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.nn import functional as F

from insilico.core.checkpoint import RunState, fingerprint, seeded
from insilico.core.device import autocast, choose_device
from insilico.core.io import save_torch, write_netcdf
from insilico.core.stats import pearson_torch
from insilico.core.training import train_loop
from insilico.core.units import BIN_SECONDS
from insilico.retina.inference import predict_windows
from insilico.retina.models import build_model, model_response_history
from insilico.retina.windows import (
    ModelInputs,
    WindowSampler,
    movie_device,
    split_bins,
    standardised_on_device,
    stimulus_moments,
)

TRAIN_PARAM_KEYS = frozenset(
    {
        "epochs",
        "batch_size",
        "learning_rate",
        "weight_decay",
        "patience",
        "val_fraction",
        "seed",
        "lr_plateau_factor",
    }
)
# Keys that may be left out, with the value they then take.
OPTIONAL_TRAIN_PARAMS = {"train_fraction": 1.0, "output_lr_factor": 1.0, "loss": "poisson"}


def _poisson_loss(rates: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.poisson_nll_loss(rates, targets, log_input=False)


# Losses between predicted and recorded rates. Poisson (the spiking likelihood, as in McIntosh et
# al. 2016) is the default; mean squared error (in Hz^2) weighs the high-rate bins far more and is
# there to measure what the likelihood is worth (the retina ablation).
LOSSES = {"poisson": _poisson_loss, "mse": F.mse_loss}


def _checked_train_params(train_params: dict) -> dict:
    missing = sorted(TRAIN_PARAM_KEYS - set(train_params))
    unknown = sorted(set(train_params) - TRAIN_PARAM_KEYS - set(OPTIONAL_TRAIN_PARAMS))
    if missing or unknown:
        raise ValueError(
            f"train_params: missing {missing}, unknown {unknown}; expected {sorted(TRAIN_PARAM_KEYS)}"
            f" and optionally {sorted(OPTIONAL_TRAIN_PARAMS)}"
        )
    train_params = {**OPTIONAL_TRAIN_PARAMS, **train_params}
    for key in ("epochs", "batch_size", "patience", "seed"):
        value = train_params[key]
        minimum = 0 if key == "seed" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(
                f"train_params[{key!r}] must be an integer >= {minimum}, got {value!r}"
            )
    for key in ("learning_rate", "weight_decay", "val_fraction", "lr_plateau_factor"):
        value = train_params[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"train_params[{key!r}] must be a non-negative number, got {value!r}")
    factor = train_params["output_lr_factor"]
    if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
        raise ValueError(f"train_params['output_lr_factor'] must be a number > 0, got {factor!r}")
    if train_params["loss"] not in LOSSES:
        raise ValueError(f"train_params['loss'] must be one of {sorted(LOSSES)}: {train_params}")
    fraction = train_params["train_fraction"]
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
        raise ValueError(f"train_params['train_fraction'] must be in (0, 1], got {fraction!r}")
    if not 0 < train_params["val_fraction"] < 1:
        raise ValueError(f"train_params['val_fraction'] must be in (0, 1): {train_params}")
    if not 0 <= train_params["lr_plateau_factor"] < 1:
        raise ValueError(
            f"train_params['lr_plateau_factor'] must be in [0, 1) (0 = no schedule): {train_params}"
        )
    return train_params


def _train_one_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    inputs: ModelInputs,
    targets: torch.Tensor,
    ends: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    loss_fn=_poisson_loss,
) -> float:
    """One pass over shuffled training windows; returns the mean loss (``loss_fn`` + penalty).

    The incomplete last batch is dropped (different samples each epoch, so none is lost for good):
    a batch of one sample would break batch norm. Fewer windows than a batch make one batch.
    """
    model.train()
    order = torch.randperm(len(ends), generator=generator).to(ends.device)
    usable = len(ends) - len(ends) % batch_size if len(ends) >= batch_size else len(ends)
    total = torch.zeros((), device=ends.device)
    n_samples = 0
    for batch in order[:usable].split(batch_size):
        batch_ends = ends[batch]
        with autocast(ends.device):
            rates = model(*inputs(batch_ends)).float()
        loss = loss_fn(rates, targets[batch_ends]) + model.regularization(rates)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(batch)
        n_samples += len(batch)
    return total.item() / n_samples


def _mean_pearson(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over cells of the Pearson r over time, the score early stopping follows.

    A constant prediction has no correlation (nan, :mod:`insilico.core.stats`); here it counts
    as 0, so that a cell the model stopped predicting lowers the score instead of leaving it.
    """
    r = pearson_torch(pred.double(), target.double(), dim=0)
    return torch.nan_to_num(r, nan=0.0).mean().item()


def _parameter_groups(
    model: torch.nn.Module, kind: str, learning_rate: float, output_lr_factor: float
) -> list[dict]:
    """Adam parameter groups: the model's per-cell output gain and offset (``output_affine()``)
    learn ``output_lr_factor`` times faster than the rest.

    They are in Hz, while the layers below work in normalised units: with Adam's steps of about
    the learning rate, a gain that must grow from 1 to the cells' modulation (tens of Hz) would
    need thousands of updates, and training would stop, on the validation correlation, with
    predictions of the right shape but a fraction of the right size.
    """
    if output_lr_factor == 1:
        return [{"params": list(model.parameters())}]
    if not hasattr(model, "output_affine"):
        raise ValueError(
            f"train_params['output_lr_factor'] = {output_lr_factor}: model {kind!r} has no "
            "separate output gain to speed up; leave it at 1"
        )
    output = list(model.output_affine())
    chosen = {id(parameter) for parameter in output}
    rest = [parameter for parameter in model.parameters() if id(parameter) not in chosen]
    return [{"params": rest}, {"params": output, "lr": learning_rate * output_lr_factor}]


CURVES = ("train_loss", "val_loss", "val_corr", "learning_rate", "seconds")


class _Data(NamedTuple):
    """What a model trains on: the uint8 movie, its moments, target rates ``(n_cells, T)``, the
    model's response history (bins of past responses it reads) and the window end bins."""

    stimulus: np.ndarray
    mean: float
    std: float
    rate: np.ndarray
    response_history: int
    ends: tuple[np.ndarray, np.ndarray]


def _training_data(recording: Any, kind: str, hparams: dict) -> tuple[np.ndarray, np.ndarray, int]:
    """The movie, the target rates ``(n_cells, T)`` and the model's response history.

    A model with a spike-history term is fitted to the spike counts per bin (as rates): a smoothed
    rate in the past already contains the spikes of the bin being predicted.
    """
    stimulus = recording.train_stimulus
    response_history = model_response_history(kind, **hparams)
    if response_history:
        if getattr(recording, "train_counts", None) is None:
            raise ValueError(
                f"{recording.path}: model {kind!r} has a spike-history term and needs the spike "
                "counts per training bin (train/response/binned), which this recording lacks"
            )
        rate = recording.train_counts / BIN_SECONDS
    else:
        rate = recording.train_rate
    if stimulus.ndim != 3 or stimulus.shape[1] != stimulus.shape[2]:
        raise ValueError(f"train stimulus must be (T, size, size), got {stimulus.shape}")
    if rate.ndim != 2 or rate.shape[1] != stimulus.shape[0]:
        raise ValueError(f"train rate {rate.shape} does not match stimulus {stimulus.shape}")
    return stimulus, rate, response_history


class _Fit:
    """A model set up to train on one recording: its inputs, targets, windows and optimiser.

    Built inside the run's seeded context, in a fixed order (the model's initialisation draws
    from the global RNG first), so that every run of the same settings starts identically.
    """

    def __init__(self, kind, hparams, history, data: _Data, params, device, generator, log):
        self.params, self.device, self.generator = params, device, generator
        stimulus, size, n_cells = data.stimulus, data.stimulus.shape[1], data.rate.shape[0]
        model = self.model = build_model(
            kind, history=history, size=size, n_cells=n_cells, **hparams
        )
        model.to(device)
        movie_on = movie_device(4 * stimulus.size, device, log)  # float32 bytes
        movie = standardised_on_device(stimulus, data.mean, data.std, movie_on)
        sampler = WindowSampler(movie, history, device)
        rate = np.ascontiguousarray(data.rate.T, dtype=np.float32)
        self.targets = torch.from_numpy(rate).to(device)
        past = data.response_history
        self.inputs = ModelInputs(sampler, WindowSampler(self.targets, past) if past else None)
        self.train_ends, self.val_ends = (torch.from_numpy(e).to(device) for e in data.ends)
        model.init_output_bias(self.targets[self.train_ends].mean(0))
        if hasattr(model, "init_from_data"):
            model.init_from_data(sampler, self.targets, self.train_ends)
        rate_, factor = params["learning_rate"], params["output_lr_factor"]
        self.optimizer = torch.optim.Adam(
            _parameter_groups(model, kind, rate_, factor),
            lr=rate_,
            weight_decay=params["weight_decay"],
        )
        self.scheduler = None
        if params["lr_plateau_factor"] > 0:
            # Half the early-stopping patience, so the rate drops before training gives up.
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer,
                mode="max",
                factor=params["lr_plateau_factor"],
                patience=max(1, params["patience"] // 2),
            )

    def epoch(self, unit: int) -> dict:
        """Train one epoch, then score the validation block: the epoch's curve values."""
        params, loss_fn = self.params, LOSSES[self.params["loss"]]
        learning_rate = self.optimizer.param_groups[0]["lr"]
        start = time.perf_counter()
        train_loss = _train_one_epoch(
            self.model,
            self.optimizer,
            self.inputs,
            self.targets,
            self.train_ends,
            params["batch_size"],
            self.generator,
            loss_fn,
        )
        samples_per_second = len(self.train_ends) / (time.perf_counter() - start)
        val_pred = predict_windows(self.model, self.inputs, self.val_ends, params["batch_size"])
        val_targets = self.targets[self.val_ends]
        return {
            "train_loss": train_loss,
            "val_loss": loss_fn(val_pred, val_targets).item(),
            "val_corr": _mean_pearson(val_pred, val_targets),
            "learning_rate": learning_rate,
            "seconds": time.perf_counter() - start,
            "samples_per_second": samples_per_second,
        }

    def schedule(self, values: dict) -> None:
        if self.scheduler is not None:
            self.scheduler.step(values["val_corr"])


def _describe_epoch(values: dict) -> str:
    return (
        f"train_loss {values['train_loss']:.5g} val_loss {values['val_loss']:.5g} "
        f"val_corr {values['val_corr']:.4f} lr {values['learning_rate']:.3g} "
        f"{values['seconds']:.1f} s {values['samples_per_second']:.0f} samples/s"
    )


def _run_fingerprint(kind, model_params, params, data: _Data, cell_names) -> str:
    """A checkpoint resumes only the run of the same model, settings and data."""
    digest = {
        "stimulus_shape": list(data.stimulus.shape),
        "stimulus_mean": data.mean,
        "stimulus_std": data.std,
        "rate_shape": list(data.rate.shape),
        "rate_sum": float(data.rate.sum()),
        "cells": cell_names,
    }
    return fingerprint(kind=kind, model=model_params, train=params, data=digest)


def _model_meta(kind, model_params, history, data: _Data, cell_names, params) -> dict:
    """Everything besides the weights that rebuilding the model and standardising new movies needs."""
    return {
        "kind": kind,
        "model_params": dict(model_params),
        "history": history,
        "size": data.stimulus.shape[1],
        "n_cells": data.rate.shape[0],
        "cell_names": cell_names,
        "stimulus_mean": data.mean,
        "stimulus_std": data.std,
        "train_fraction": float(params["train_fraction"]),
        "val_fraction": float(params["val_fraction"]),
        "n_train_windows": len(data.ends[0]),
        "response_history": data.response_history,
    }


def train_model(
    recording: Any,
    *,
    kind: str,
    model_params: dict,
    train_params: dict,
    model_out: str | os.PathLike,
    history_out: str | os.PathLike,
    checkpoint_path: str | os.PathLike,
    log: logging.Logger,
) -> None:
    """Train a ``kind`` model on ``recording.train_stimulus`` / ``train_rate`` and write it.

    ``model_params`` holds ``history`` (frames per window) and the model's hyperparameters.
    ``model_out`` gets the best-validation-epoch model with everything needed to rebuild it and
    standardise new stimuli; ``history_out`` the per-epoch curves. The checkpoint is removed
    once both are written.
    """
    params = _checked_train_params(train_params)
    hparams = dict(model_params)
    if "history" not in hparams:
        raise ValueError(f"model_params must give 'history' (frames per window): {model_params}")
    history = hparams.pop("history")
    stimulus, rate, response_history = _training_data(recording, kind, hparams)
    cell_names = [str(name) for name in recording.cell_names]
    # A sample spans its stimulus window and the response bins before its end bin.
    span = max(history, response_history + 1)
    ends = split_bins(stimulus.shape[0], span, params["val_fraction"], params["train_fraction"])
    data = _Data(stimulus, *stimulus_moments(stimulus), rate, response_history, ends)
    run_fingerprint = _run_fingerprint(kind, model_params, params, data, cell_names)
    device = choose_device(log)
    with seeded(device, params["seed"]) as generator:
        fit = _Fit(kind, hparams, history, data, params, device, generator, log)
        # Early stopping keeps the weights of the best validation epoch (the first ones until an
        # epoch improves on them).
        run = RunState(
            Path(checkpoint_path),
            run_fingerprint,
            fit.device,
            log,
            components={"model": fit.model, "optimizer": fit.optimizer, "scheduler": fit.scheduler},
            generators={"shuffle": generator},
            curves=CURVES,
            best_of=fit.model,
            unit="epoch",
        )
        log.info(
            "training %s: %d cells, %dx%d px, history %d, %d train (fraction %g) / %d val windows, "
            "%d parameters",
            kind, rate.shape[0], stimulus.shape[1], stimulus.shape[2], history, len(ends[0]),
            params["train_fraction"], len(ends[1]), sum(p.numel() for p in fit.model.parameters()),
        )  # fmt: skip
        train_loop(
            run,
            params["epochs"],
            fit.epoch,
            describe=_describe_epoch,
            patience=params["patience"],
            score="val_corr",
            after=fit.schedule,
        )
    meta = _model_meta(kind, model_params, history, data, cell_names, params)
    _write_outputs(run, meta, model_out, history_out)
    run.finish()
    log.info(
        "done after %d epochs; best epoch %d (val_corr %.4f) -> %s",
        run.progress,
        run.best_progress,
        run.best_score,
        model_out,
    )


def _write_outputs(
    run: RunState, meta: dict, model_out: str | os.PathLike, history_out: str | os.PathLike
) -> None:
    import xarray as xr

    save_torch(
        {
            **meta,
            "state_dict": run.best_state,
            "best_epoch": run.best_progress,
            "best_val_corr": run.best_score,
        },
        model_out,
    )
    dataset = xr.Dataset(
        {
            key: ("epoch", np.asarray(values, dtype=np.float64))
            for key, values in run.curves.items()
        },
        coords={"epoch": np.arange(1, run.progress + 1)},
        attrs={"kind": meta["kind"], "best_epoch": run.best_progress, "device": run.device.type},
    )
    write_netcdf(dataset, history_out)
