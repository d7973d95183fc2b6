"""One trainer for the retina models: device choice, AMP, checkpoints and resume, early stopping.

Data stay on the device for the whole run: the training movie is standardised once into a single
float32 ``(T, H, W)`` tensor and every batch gathers its history windows from it by index
arithmetic. Materialising all windows would copy the movie ``history`` times (40x, tens of GB for
one recording); the per-batch gather costs one small copy per batch instead.

The last ``val_fraction`` of the training bins is a contiguous validation block; windows that would
straddle the boundary are dropped, so no training window shares a frame with a validation window.
Early stopping and the learning-rate schedule follow the mean validation Pearson correlation.

A checkpoint written after every epoch makes a killed job resumable: it holds the model, optimiser,
scheduler, early-stopping state, history and RNG states, and a fingerprint of everything that
defines the run; a checkpoint of a different run is ignored. Because the RNG states are restored,
a resumed run ends with exactly the model of an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from insilico.io import load_torch, save_torch, write_netcdf
from insilico.models import build_model

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
_FRAMES_PER_CHUNK = 4096  # movie frames moved to the device at a time (bounds host memory)


def choose_device(log: logging.Logger) -> torch.device:
    """CUDA when available (respecting ``CUDA_VISIBLE_DEVICES``), else CPU; log the choice."""
    if torch.cuda.is_available():
        device = torch.device("cuda")
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "all")
        log.info(
            "device: cuda (%s; CUDA_VISIBLE_DEVICES=%s)", torch.cuda.get_device_name(0), visible
        )
    else:
        device = torch.device("cpu")
        log.info("device: cpu (%d threads)", torch.get_num_threads())
    return device


class WindowSampler:
    """History windows ending at given bins, gathered per batch from one ``(T, H, W)`` tensor.

    ``sampler(ends)`` returns ``(len(ends), history, H, W)`` with window ``i`` holding frames
    ``ends[i] - history + 1 .. ends[i]``; only that batch is copied.
    """

    def __init__(self, stimulus: torch.Tensor, history: int) -> None:
        self.stimulus = stimulus
        self.offsets = torch.arange(1 - history, 1, device=stimulus.device)

    def __call__(self, ends: torch.Tensor) -> torch.Tensor:
        return self.stimulus[ends[:, None] + self.offsets]


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


def split_bins(n_bins: int, history: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Window end bins for training and validation.

    Validation is the last ``val_fraction`` of the bins; only windows lying wholly inside one
    block are kept, which drops ``history - 1`` windows at the boundary.
    """
    n_val = round(n_bins * val_fraction)
    val_ends = np.arange(n_bins - n_val + history - 1, n_bins)
    train_ends = np.arange(history - 1, n_bins - n_val)
    if len(val_ends) < 2 or len(train_ends) < 2:
        raise ValueError(
            f"{n_bins} bins with history {history} and val_fraction {val_fraction} leave "
            f"{len(train_ends)} training and {len(val_ends)} validation windows; need at least 2 each"
        )
    return train_ends, val_ends


def _checked_train_params(train_params: dict) -> dict:
    missing = sorted(TRAIN_PARAM_KEYS - set(train_params))
    unknown = sorted(set(train_params) - TRAIN_PARAM_KEYS)
    if missing or unknown:
        raise ValueError(
            f"train_params: missing {missing}, unknown {unknown}; expected {sorted(TRAIN_PARAM_KEYS)}"
        )
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
    if not 0 < train_params["val_fraction"] < 1:
        raise ValueError(f"train_params['val_fraction'] must be in (0, 1): {train_params}")
    if not 0 <= train_params["lr_plateau_factor"] < 1:
        raise ValueError(
            f"train_params['lr_plateau_factor'] must be in [0, 1) (0 = no schedule): {train_params}"
        )
    return train_params


def _fingerprint(kind: str, model_params: dict, train_params: dict, data: dict) -> str:
    """Hash of everything that defines the run; a checkpoint is only resumed if it matches."""
    text = json.dumps(
        {"kind": kind, "model": model_params, "train": train_params, "data": data},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


@contextlib.contextmanager
def _deterministic(device: torch.device) -> Iterator[None]:
    """Deterministic CUDA kernels during training, restoring the global flags after.

    The ops used here are deterministic on CPU already, and switching the flag on costs a 2 s
    import of torch's compiler there, so this only acts on CUDA.
    """
    if device.type != "cuda":
        yield
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = previous[2:]


def _autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA GPUs that support it; full precision otherwise (CPU stays exact)."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _train_one_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    sampler: WindowSampler,
    targets: torch.Tensor,
    ends: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One pass over shuffled training windows; returns the mean loss (Poisson NLL + penalty).

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
        with _autocast(ends.device):
            rates = model(sampler(batch_ends)).float()
        loss = F.poisson_nll_loss(rates, targets[batch_ends], log_input=False)
        loss = loss + model.regularization(rates)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(batch)
        n_samples += len(batch)
    return total.item() / n_samples


@torch.no_grad()
def _predict_windows(
    model: torch.nn.Module, sampler: WindowSampler, ends: torch.Tensor, batch_size: int
) -> torch.Tensor:
    """Eval-mode rates ``(len(ends), n_cells)`` on the device, full precision."""
    model.eval()
    return torch.cat([model(sampler(chunk)).float() for chunk in ends.split(batch_size)])


def _mean_pearson(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over cells of the Pearson correlation over time; a constant prediction scores 0."""
    pred = pred.double() - pred.double().mean(0)
    target = target.double() - target.double().mean(0)
    denominator = (pred.square().sum(0) * target.square().sum(0)).sqrt()
    numerator = (pred * target).sum(0)
    safe = torch.where(denominator > 0, denominator, torch.ones_like(denominator))
    return torch.where(denominator > 0, numerator / safe, 0.0).mean().item()


def _read_checkpoint(path: Path, fingerprint: str, log: logging.Logger) -> dict | None:
    if not path.exists():
        return None
    try:
        checkpoint = load_torch(path)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
        log.warning("checkpoint %s unreadable (%s); starting fresh", path, error)
        return None
    if checkpoint.get("fingerprint") != fingerprint:
        log.info(
            "checkpoint %s is from a different run (fingerprint mismatch); starting fresh", path
        )
        return None
    return checkpoint


def _cpu_copy(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in state.items()}


class _Run:
    """The mutable state of a training run: what a checkpoint saves and a resume restores.

    Restoring the RNG states (global torch, which draws the noise, and the shuffling generator)
    is what makes a resumed run finish with exactly the model of an uninterrupted one.
    """

    CURVES = ("train_loss", "val_loss", "val_corr", "learning_rate", "seconds")

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau | None,
        generator: torch.Generator,
        device: torch.device,
    ) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.generator, self.device = generator, device
        self.epoch = 0
        self.best_epoch = 0
        self.best_score = -math.inf
        self.best_state = _cpu_copy(model.state_dict())
        self.curves: dict[str, list[float]] = {key: [] for key in self.CURVES}

    def end_epoch(self, **values: float) -> None:
        """Record an epoch, keep the weights if validation improved, step the schedule."""
        self.epoch += 1
        for key in self.CURVES:
            self.curves[key].append(values[key])
        if values["val_corr"] > self.best_score:
            self.best_epoch, self.best_score = self.epoch, values["val_corr"]
            self.best_state = _cpu_copy(self.model.state_dict())
        if self.scheduler is not None:
            self.scheduler.step(values["val_corr"])

    def checkpoint(self, fingerprint: str) -> dict:
        return {
            "fingerprint": fingerprint,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else {},
            "epoch": self.epoch,
            "best_epoch": self.best_epoch,
            "best_score": self.best_score,
            "best_state": self.best_state,
            "curves": self.curves,
            "rng": {
                "torch": torch.get_rng_state(),
                "shuffle": self.generator.get_state(),
                "cuda": torch.cuda.get_rng_state() if self.device.type == "cuda" else None,
            },
        }

    def restore(self, checkpoint: dict) -> None:
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.epoch, self.best_epoch = checkpoint["epoch"], checkpoint["best_epoch"]
        self.best_score, self.best_state = checkpoint["best_score"], checkpoint["best_state"]
        self.curves = checkpoint["curves"]
        torch.set_rng_state(checkpoint["rng"]["torch"])
        self.generator.set_state(checkpoint["rng"]["shuffle"])
        if self.device.type == "cuda" and checkpoint["rng"]["cuda"] is not None:
            torch.cuda.set_rng_state(checkpoint["rng"]["cuda"])


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
    stimulus, rate = recording.train_stimulus, recording.train_rate
    if stimulus.ndim != 3 or stimulus.shape[1] != stimulus.shape[2]:
        raise ValueError(f"train stimulus must be (T, size, size), got {stimulus.shape}")
    if rate.ndim != 2 or rate.shape[1] != stimulus.shape[0]:
        raise ValueError(f"train rate {rate.shape} does not match stimulus {stimulus.shape}")
    n_bins, size = stimulus.shape[0], stimulus.shape[1]
    n_cells = rate.shape[0]
    cell_names = [str(name) for name in recording.cell_names]
    mean, std = stimulus_moments(stimulus)
    fingerprint = _fingerprint(
        kind,
        model_params,
        params,
        {
            "stimulus_shape": list(stimulus.shape),
            "stimulus_mean": mean,
            "stimulus_std": std,
            "rate_shape": list(rate.shape),
            "rate_sum": float(rate.sum()),
            "cells": cell_names,
        },
    )
    train_ends_np, val_ends_np = split_bins(n_bins, history, params["val_fraction"])
    device = choose_device(log)

    with _deterministic(device):
        torch.manual_seed(params["seed"])
        generator = torch.Generator().manual_seed(params["seed"])
        model = build_model(kind, history=history, size=size, n_cells=n_cells, **hparams)
        model.to(device)
        sampler = WindowSampler(standardised_on_device(stimulus, mean, std, device), history)
        targets = torch.from_numpy(np.ascontiguousarray(rate.T, dtype=np.float32)).to(device)
        train_ends = torch.from_numpy(train_ends_np).to(device)
        val_ends = torch.from_numpy(val_ends_np).to(device)
        model.init_output_bias(targets[train_ends].mean(0))
        optimizer = torch.optim.Adam(
            model.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"]
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
        run = _Run(model, optimizer, scheduler, generator, device)
        checkpoint = _read_checkpoint(checkpoint_path, fingerprint, log)
        if checkpoint is not None:
            run.restore(checkpoint)
            log.info("resuming from epoch %d (checkpoint %s)", run.epoch, checkpoint_path)

        log.info(
            "training %s: %d cells, %dx%d px, history %d, %d train / %d val windows, %d parameters",
            kind,
            n_cells,
            size,
            size,
            history,
            len(train_ends),
            len(val_ends),
            sum(p.numel() for p in model.parameters()),
        )
        val_targets = targets[val_ends]
        while run.epoch < params["epochs"] and run.epoch - run.best_epoch < params["patience"]:
            learning_rate = optimizer.param_groups[0]["lr"]
            start = time.perf_counter()
            train_loss = _train_one_epoch(
                model, optimizer, sampler, targets, train_ends, params["batch_size"], generator
            )
            samples_per_second = len(train_ends) / (time.perf_counter() - start)
            val_pred = _predict_windows(model, sampler, val_ends, params["batch_size"])
            val_loss = F.poisson_nll_loss(val_pred, val_targets, log_input=False).item()
            val_corr = _mean_pearson(val_pred, val_targets)
            seconds = time.perf_counter() - start
            run.end_epoch(
                train_loss=train_loss,
                val_loss=val_loss,
                val_corr=val_corr,
                learning_rate=learning_rate,
                seconds=seconds,
            )
            save_torch(run.checkpoint(fingerprint), checkpoint_path)
            log.info(
                "epoch %d/%d train_loss %.5g val_loss %.5g val_corr %.4f lr %.3g %.1f s %.0f samples/s",
                run.epoch,
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
        },
        model_out,
        history_out,
    )
    checkpoint_path.unlink(missing_ok=True)
    log.info(
        "done after %d epochs; best epoch %d (val_corr %.4f) -> %s",
        run.epoch,
        run.best_epoch,
        run.best_score,
        model_out,
    )


def _write_outputs(
    run: _Run, meta: dict, model_out: str | os.PathLike, history_out: str | os.PathLike
) -> None:
    import xarray as xr

    save_torch(
        {
            **meta,
            "state_dict": run.best_state,
            "best_epoch": run.best_epoch,
            "best_val_corr": run.best_score,
        },
        model_out,
    )
    dataset = xr.Dataset(
        {
            key: ("epoch", np.asarray(values, dtype=np.float64))
            for key, values in run.curves.items()
        },
        coords={"epoch": np.arange(1, run.epoch + 1)},
        attrs={"kind": meta["kind"], "best_epoch": run.best_epoch, "device": run.device.type},
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
    model: torch.nn.Module, meta: dict, stimulus_uint8: np.ndarray, batch_size: int = 1024
) -> np.ndarray:
    """Rates ``(n_cells, T - history + 1)`` for bins ``history - 1 .. T - 1`` of a uint8 movie.

    Runs on the model's device (move the model first to use a GPU), in eval mode.
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
    rates = _predict_windows(model, WindowSampler(stimulus, history), ends, batch_size)
    model.train(was_training)
    return rates.T.double().cpu().numpy()
