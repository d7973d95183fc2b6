"""The trainer of the retina models: windows on the device, checkpoints and resume, early stopping.

Data stay on the device for the whole run: the training movie is standardised once into a single
float32 ``(T, H, W)`` tensor and every batch gathers its history windows from it by index
arithmetic. Materialising all windows would copy the movie ``history`` times (40x, tens of GB for
one recording); the per-batch gather costs one small copy per batch instead.

The last ``val_fraction`` of the training bins is a contiguous validation block; windows that would
straddle the boundary are dropped, so no training window shares a frame with a validation window.
Early stopping and the learning-rate schedule follow the mean validation Pearson correlation.
``train_fraction`` (optional, default 1) keeps only the first part of the training block, for
data-efficiency curves: the validation block stays the same whatever the fraction, so the runs
are comparable. An epoch is one pass over the run's own training windows (callers that want the
same optimisation budget for every fraction scale ``epochs`` by ``1 / train_fraction``).

A model with a ``response_history`` (the GLM's spike-history term) also gets each cell's recorded
response over the preceding bins. It is fitted to the unsmoothed spike counts
(``recording.train_counts`` / bin width) instead of the smoothed rate, because a smoothed rate
in the past already contains the spikes of the bin being predicted.

A checkpoint written after every epoch makes a killed job resumable: the run's state (model,
optimiser, scheduler, early-stopping record, curves, RNG states) is one
:class:`insilico.core.checkpoint.RunState`, the scaffold every trainer shares, so a resumed run
ends with exactly the model of an uninterrupted one.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from insilico.core.checkpoint import RunState, fingerprint, seeded
from insilico.core.device import autocast, choose_device
from insilico.core.io import load_torch, save_torch, write_netcdf
from insilico.core.stats import pearson_torch
from insilico.core.units import BIN_SECONDS
from insilico.retina.models import build_model, model_response_history

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
_FRAMES_PER_CHUNK = 4096  # movie frames moved to the device at a time (bounds host memory)


class WindowSampler:
    """History windows ending at given bins, gathered per batch from one ``(T, H, W)`` tensor.

    ``sampler(ends)`` returns ``(len(ends), history, H, W)`` with window ``i`` holding frames
    ``ends[i] - history + 1 .. ends[i]``; only that batch is copied. The windows are gathered where
    the stimulus lives and handed out on ``device`` (default: the same), so a movie too large for
    the GPU can stay in host memory while the model trains on the GPU.
    """

    def __init__(
        self, stimulus: torch.Tensor, history: int, device: torch.device | None = None
    ) -> None:
        self.stimulus = stimulus
        self.device = stimulus.device if device is None else torch.device(device)
        self.offsets = torch.arange(1 - history, 1, device=stimulus.device)

    def __call__(self, ends: torch.Tensor) -> torch.Tensor:
        windows = self.stimulus[ends.to(self.stimulus.device)[:, None] + self.offsets]
        return windows.to(self.device, non_blocking=True)


def movie_device(n_bytes: int, device: torch.device, log: logging.Logger) -> torch.device:
    """Where the standardised training movie is kept: on the training device when it fits.

    On a GPU "fits" means at most half of the free memory (the rest is for the model, its
    activations and other jobs); a larger movie stays in host memory and each batch of windows
    is gathered there and copied over, slower but without running out of GPU memory.
    """
    if device.type != "cuda":
        return device
    free, _ = torch.cuda.mem_get_info(device)
    if n_bytes <= free / 2:
        return device
    log.warning(
        "training movie (%.1f GB) exceeds half the free GPU memory (%.1f GB): keeping it in host "
        "memory and copying each batch",
        n_bytes / 1e9,
        free / 1e9,
    )
    return torch.device("cpu")


class ModelInputs:
    """Everything a model reads for the bins ``ends``, as the positional arguments of ``forward``.

    The stimulus windows always; for a model with a ``response_history`` also the recorded
    responses ``(B, response_history, n_cells)`` of the bins just before each end bin.
    """

    def __init__(self, windows: WindowSampler, past: WindowSampler | None = None) -> None:
        self.windows, self.past = windows, past

    def __call__(self, ends: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.past is None:
            return (self.windows(ends),)
        return self.windows(ends), self.past(ends - 1)


def stimulus_moments(stimulus: np.ndarray) -> tuple[float, float]:
    """Exact mean and std of a uint8 movie from its 256-bin histogram, in chunks of frames.

    ``stimulus.std()`` would build a float64 copy of the whole movie (8x its size).
    """
    if stimulus.dtype != np.uint8:
        raise ValueError(f"stimulus must be uint8, got {stimulus.dtype}")
    counts = np.zeros(256, dtype=np.int64)
    for start in range(0, len(stimulus), _FRAMES_PER_CHUNK):
        counts += np.bincount(stimulus[start : start + _FRAMES_PER_CHUNK].ravel(), minlength=256)
    values = np.arange(256, dtype=np.float64)
    mean = float(counts @ values / counts.sum())
    std = float(np.sqrt(counts @ (values - mean) ** 2 / counts.sum()))
    if std == 0:
        raise ValueError("stimulus is constant (std 0): cannot standardise it")
    return mean, std


def standardised_on_device(
    stimulus: np.ndarray, mean: float, std: float, device: torch.device
) -> torch.Tensor:
    """The movie as one float32 tensor on ``device``, ``(x - mean) / std``, filled chunk by chunk."""
    out = torch.empty(stimulus.shape, dtype=torch.float32, device=device)
    for start in range(0, len(stimulus), _FRAMES_PER_CHUNK):
        chunk = torch.from_numpy(np.ascontiguousarray(stimulus[start : start + _FRAMES_PER_CHUNK]))
        out[start : start + len(chunk)] = (chunk.to(device).float() - mean) / std
    return out


def split_bins(
    n_bins: int, history: int, val_fraction: float, train_fraction: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Window end bins for training and validation.

    Validation is the last ``val_fraction`` of the bins; training uses the first
    ``train_fraction`` of the bins before it (the same validation block for every fraction).
    Only windows of ``history`` bins lying wholly inside one block are kept, which drops
    ``history - 1`` windows at the start of each block.
    """
    n_val = round(n_bins * val_fraction)
    n_train = round((n_bins - n_val) * train_fraction)
    val_ends = np.arange(n_bins - n_val + history - 1, n_bins)
    train_ends = np.arange(history - 1, n_train)
    if len(val_ends) < 2 or len(train_ends) < 2:
        raise ValueError(
            f"{n_bins} bins with history {history}, val_fraction {val_fraction} and "
            f"train_fraction {train_fraction} leave {len(train_ends)} training and "
            f"{len(val_ends)} validation windows; need at least 2 each"
        )
    return train_ends, val_ends


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


@torch.no_grad()
def _predict_windows(
    model: torch.nn.Module, inputs: ModelInputs, ends: torch.Tensor, batch_size: int
) -> torch.Tensor:
    """Eval-mode rates ``(len(ends), n_cells)`` on the device, full precision."""
    model.eval()
    return torch.cat([model(*inputs(chunk)).float() for chunk in ends.split(batch_size)])


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
    checkpoint_path = Path(checkpoint_path)
    hparams = dict(model_params)
    if "history" not in hparams:
        raise ValueError(f"model_params must give 'history' (frames per window): {model_params}")
    history = hparams.pop("history")
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
    n_bins, size = stimulus.shape[0], stimulus.shape[1]
    n_cells = rate.shape[0]
    cell_names = [str(name) for name in recording.cell_names]
    mean, std = stimulus_moments(stimulus)
    run_fingerprint = fingerprint(
        kind=kind,
        model=model_params,
        train=params,
        data={
            "stimulus_shape": list(stimulus.shape),
            "stimulus_mean": mean,
            "stimulus_std": std,
            "rate_shape": list(rate.shape),
            "rate_sum": float(rate.sum()),
            "cells": cell_names,
        },
    )
    # A sample spans its stimulus window and the response bins before its end bin.
    span = max(history, response_history + 1)
    train_ends_np, val_ends_np = split_bins(
        n_bins, span, params["val_fraction"], params["train_fraction"]
    )
    device = choose_device(log)

    with seeded(device, params["seed"]) as generator:
        model = build_model(kind, history=history, size=size, n_cells=n_cells, **hparams)
        model.to(device)
        movie_on = movie_device(4 * stimulus.size, device, log)  # float32 bytes
        sampler = WindowSampler(
            standardised_on_device(stimulus, mean, std, movie_on), history, device
        )
        targets = torch.from_numpy(np.ascontiguousarray(rate.T, dtype=np.float32)).to(device)
        inputs = ModelInputs(
            sampler, WindowSampler(targets, response_history) if response_history else None
        )
        train_ends = torch.from_numpy(train_ends_np).to(device)
        val_ends = torch.from_numpy(val_ends_np).to(device)
        model.init_output_bias(targets[train_ends].mean(0))
        if hasattr(model, "init_from_data"):
            model.init_from_data(sampler, targets, train_ends)
        optimizer = torch.optim.Adam(
            _parameter_groups(model, kind, params["learning_rate"], params["output_lr_factor"]),
            lr=params["learning_rate"],
            weight_decay=params["weight_decay"],
        )
        scheduler = None
        if params["lr_plateau_factor"] > 0:
            # Half the early-stopping patience, so the rate drops before training gives up.
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer,
                mode="max",
                factor=params["lr_plateau_factor"],
                patience=max(1, params["patience"] // 2),
            )
        # Early stopping keeps the weights of the best validation epoch (the first ones until an
        # epoch improves on them); restoring the RNG states makes a resumed run end exactly as an
        # uninterrupted one.
        run = RunState(
            checkpoint_path,
            run_fingerprint,
            device,
            log,
            components={"model": model, "optimizer": optimizer, "scheduler": scheduler},
            generators={"shuffle": generator},
            curves=CURVES,
            best_of=model,
            unit="epoch",
        )
        run.resume()

        log.info(
            "training %s: %d cells, %dx%d px, history %d, %d train (fraction %g) / %d val windows, "
            "%d parameters",
            kind,
            n_cells,
            size,
            size,
            history,
            len(train_ends),
            params["train_fraction"],
            len(val_ends),
            sum(p.numel() for p in model.parameters()),
        )
        val_targets = targets[val_ends]
        while run.progress < params["epochs"] and run.patience_left(params["patience"]):
            learning_rate = optimizer.param_groups[0]["lr"]
            start = time.perf_counter()
            train_loss = _train_one_epoch(
                model,
                optimizer,
                inputs,
                targets,
                train_ends,
                params["batch_size"],
                generator,
                LOSSES[params["loss"]],
            )
            samples_per_second = len(train_ends) / (time.perf_counter() - start)
            val_pred = _predict_windows(model, inputs, val_ends, params["batch_size"])
            val_loss = LOSSES[params["loss"]](val_pred, val_targets).item()
            val_corr = _mean_pearson(val_pred, val_targets)
            seconds = time.perf_counter() - start
            run.progress += 1
            run.record(
                train_loss=train_loss,
                val_loss=val_loss,
                val_corr=val_corr,
                learning_rate=learning_rate,
                seconds=seconds,
            )
            run.keep_if_best(val_corr)
            if scheduler is not None:
                scheduler.step(val_corr)
            run.save()
            log.info(
                "epoch %d/%d train_loss %.5g val_loss %.5g val_corr %.4f lr %.3g %.1f s %.0f samples/s",
                run.progress,
                params["epochs"],
                train_loss,
                val_loss,
                val_corr,
                learning_rate,
                seconds,
                samples_per_second,
            )

    _write_outputs(
        run,
        {
            "kind": kind,
            "model_params": dict(model_params),
            "history": history,
            "size": size,
            "n_cells": n_cells,
            "cell_names": cell_names,
            "stimulus_mean": mean,
            "stimulus_std": std,
            "train_fraction": float(params["train_fraction"]),
            "val_fraction": float(params["val_fraction"]),
            "n_train_windows": len(train_ends_np),
            "response_history": response_history,
        },
        model_out,
        history_out,
    )
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


def load_model(model_path: str | os.PathLike) -> tuple[torch.nn.Module, dict]:
    """Rebuild a model written by :func:`train_model`: (model on CPU in eval mode, metadata)."""
    payload = load_torch(model_path)
    meta = {key: value for key, value in payload.items() if key != "state_dict"}
    hparams = {key: value for key, value in meta["model_params"].items() if key != "history"}
    model = build_model(
        meta["kind"], history=meta["history"], size=meta["size"], n_cells=meta["n_cells"], **hparams
    )
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, meta


def predict(
    model: torch.nn.Module,
    meta: dict,
    stimulus_uint8: np.ndarray,
    batch_size: int = 1024,
    *,
    samples: int = 100,
    seed: int = 0,
) -> np.ndarray:
    """Rates ``(n_cells, T - history + 1)`` for bins ``history - 1 .. T - 1`` of a uint8 movie.

    Runs on the model's device (move the model first to use a GPU), in eval mode. A model with a
    spike-history term (the GLM) cannot see recorded spikes of a new movie: its prediction is
    the mean rate of ``samples`` closed-loop simulated trials (its own Poisson spikes feed its
    history), drawn from a generator seeded with ``seed``.
    """
    history, size = meta["history"], meta["size"]
    if stimulus_uint8.ndim != 3 or stimulus_uint8.shape[1:] != (size, size):
        raise ValueError(f"stimulus must be (T, {size}, {size}), got {stimulus_uint8.shape}")
    if len(stimulus_uint8) < history:
        raise ValueError(f"stimulus has {len(stimulus_uint8)} frames, fewer than history {history}")
    device = next(model.parameters()).device
    stimulus = standardised_on_device(
        stimulus_uint8, meta["stimulus_mean"], meta["stimulus_std"], device
    )
    ends = torch.arange(history - 1, len(stimulus_uint8), device=device)
    was_training = model.training
    sampler = WindowSampler(stimulus, history)
    if getattr(model, "response_history", 0):
        model.eval()
        with torch.no_grad():
            drive = torch.cat(
                [model.stimulus_drive(sampler(chunk)) for chunk in ends.split(batch_size)]
            )
            generator = torch.Generator(device=device).manual_seed(seed)
            rates = model.closed_loop_rate(drive.float(), samples, generator)
    else:
        rates = _predict_windows(model, ModelInputs(sampler), ends, batch_size)
    model.train(was_training)
    return rates.T.double().cpu().numpy()
