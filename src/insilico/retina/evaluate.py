"""Evaluate trained retina models on the held-out repeated test movie, against the repeat ceiling.

Callers write the returned Datasets with :func:`insilico.core.io.write_netcdf`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core.io import read_netcdf
from insilico.core.stats import (
    fraction_explained_variance,
    pearson,
    split_half_ceiling,
    split_half_reliability,
)
from insilico.core.units import BIN_SECONDS

CEILING_ESTIMATOR = (
    "split-half: per random split of the repeats into two halves (one left-over repeat dropped "
    "at random when the count is odd), Pearson r between the half-means, Spearman-Brown corrected "
    "to all n repeats (r_SB = k r / (1 + (k - 1) r), k = n / half size; 2r / (1 + r) for even n), "
    "averaged over splits; ceiling = sqrt(r_SB)"
)


STANDARDISE = {
    "model": "the test movie is standardised with the mean and std of the model's own training "
    "movie",
    "recording": "the test movie is standardised with the mean and std of the training movie of "
    "its own recording (its stimulus class), as deep-retina z-scores each stimulus file",
}


def evaluate(
    model_path,
    recording_path,
    cells: Sequence[int] | None,
    *,
    standardise: str = "model",
    samples: int = 100,
    seed: int = 0,
    recording=None,
    device=None,
    test_set: str = "test",
) -> xr.Dataset:
    """Correlation and FEV per cell of a model's prediction with the trial-averaged test rate.

    The model sees ``history`` frames, so its predictions cover bins ``history - 1 .. T - 1`` of the
    test movie; the target is the repeat average over exactly those bins. ``standardise`` says
    whose stimulus statistics scale the test movie (:data:`STANDARDISE`); they differ only when a
    model is tested on another stimulus class than it was trained on. ``samples`` and ``seed``
    set the closed-loop simulation of models with a spike-history term (the GLM, see
    :func:`insilico.retina.inference.predict`); other models ignore them. ``recording`` may pass the
    already read recording of ``recording_path``; ``device`` runs the model there (default CPU);
    ``test_set`` picks the test movie (:data:`insilico.retina.recording.TEST_SETS`). Where the
    truth is known, ``truth_correlation`` is r with the noiseless rate over the same bins.
    """
    from insilico.retina.inference import load_model, predict
    from insilico.retina.recording import read_recording

    if standardise not in STANDARDISE:
        raise ValueError(f"standardise must be one of {sorted(STANDARDISE)}, got {standardise!r}")
    if recording is None:
        recording = read_recording(
            recording_path, cells=None if cells is None else list(cells), test_set=test_set
        )
    model, meta = load_model(model_path)
    if device is not None:
        model.to(device)
    model_cells = tuple(meta.get("cell_names", recording.cell_names))
    if model_cells != recording.cell_names:
        raise ValueError(
            f"{model_path}: model was trained on cells {model_cells}, "
            f"but {recording_path} with cells={cells} gives {recording.cell_names}"
        )
    history = int(meta["history"])
    if standardise == "recording":
        meta = {**meta, **_moments(recording)}
    prediction = np.asarray(
        predict(model, meta, recording.test_stimulus, samples=samples, seed=seed), dtype=float
    )
    target = recording.test_rate[:, history - 1 :]
    if prediction.shape != target.shape:
        raise ValueError(
            f"{model_path}: prediction has shape {prediction.shape}, expected {target.shape} "
            f"(n_cells, T_test - history + 1) for {recording_path}"
        )
    paths = (model_path, recording_path)
    return _evaluation(prediction, target, recording, meta, history, standardise, paths)


def _evaluation(prediction, target, recording, meta, history, standardise, paths):
    """The evaluation dataset of :func:`evaluate`: r, FEV (and r with the truth where known)."""
    time = (np.arange(target.shape[1]) + history - 1) * BIN_SECONDS
    coords = {"cell": list(recording.cell_names), "time": ("time", time, {"units": "s"})}
    truth = {}
    if recording.true_test_rate is not None:
        truth["truth_correlation"] = (
            "cell",
            pearson(prediction, recording.true_test_rate[:, history - 1 :]),
            {"long_name": "r with the noiseless rate"},
        )
    return xr.Dataset(
        {
            **truth,
            "correlation": ("cell", pearson(prediction, target)),
            "fev": ("cell", fraction_explained_variance(prediction, target)),
            "prediction": (("cell", "time"), prediction, {"units": "Hz"}),
            "target": (
                ("cell", "time"),
                target,
                {"units": "Hz", "long_name": "trial-averaged rate"},
            ),
        },
        coords=coords,
        attrs={
            "model_kind": str(meta.get("kind", "unknown")),
            "history": history,
            "model_path": os.fspath(paths[0]),
            "recording_path": os.fspath(paths[1]),
            "n_repeats": int(recording.test_repeats.shape[1]),
            "test_set": getattr(recording, "test_set", "test"),
            "standardise": STANDARDISE[standardise],
            "description": "Pearson r and fraction of explained variance per cell between the "
            "model prediction and the trial-averaged rate on the held-out repeated test movie",
        },
    )


def reliability(
    recording_path,
    cells: Sequence[int] | None,
    n_splits: int,
    seed: int,
    *,
    first_bin: int = 0,
    test_set: str = "test",
) -> xr.Dataset:
    """Split-half reliability ceiling per cell, and the exact ceiling where the truth is known.

    For simulated files ``true_ceiling`` = Pearson r between the noiseless rate (as the recording
    shows it: smoothed like the recorded rate) and the repeat average: the correlation a perfect
    model would reach, against which the estimate is checked. ``ceiling`` and ``true_ceiling``
    use all test bins; the ``*_same_bins`` ones only the bins from ``first_bin`` on, those a model
    of ``history = first_bin + 1`` frames is scored on (the ceilings every ratio uses).
    """
    from insilico.retina.recording import read_recording

    recording = read_recording(
        recording_path, cells=None if cells is None else list(cells), test_set=test_set
    )
    repeats = recording.test_repeats
    data = {
        "ceiling": ("cell", split_half_ceiling(repeats, n_splits, seed)),
        "split_half_reliability": ("cell", split_half_reliability(repeats, n_splits, seed)),
        "ceiling_same_bins": ("cell", split_half_ceiling(repeats[..., first_bin:], n_splits, seed)),
    }
    if recording.true_test_rate is not None:
        truth, rate = recording.true_test_rate, recording.test_rate
        data["true_ceiling"] = ("cell", pearson(truth, rate))
        data["true_ceiling_same_bins"] = (
            "cell",
            pearson(truth[:, first_bin:], rate[:, first_bin:]),
        )
    return xr.Dataset(
        data,
        coords={"cell": list(recording.cell_names)},
        attrs={
            "estimator": CEILING_ESTIMATOR,
            "n_splits": int(n_splits),
            "seed": int(seed),
            "n_repeats": int(repeats.shape[1]),
            "first_bin": int(first_bin),
            "test_set": getattr(recording, "test_set", "test"),
            "recording_path": os.fspath(recording_path),
        },
    )


# The ceilings of a ceiling file, the preferred first: the exact ceiling (simulated data) on the
# bins r is computed on; every "fraction of the ceiling" divides by the first one present.
CEILINGS = ("true_ceiling_same_bins", "ceiling_same_bins", "true_ceiling", "ceiling")


def reference_ceiling(dataset: xr.Dataset) -> tuple[str, xr.DataArray]:
    """The ceiling every ratio uses (see :data:`CEILINGS`) and its name."""
    for name in CEILINGS:
        if name in dataset:
            return name, dataset[name]
    raise ValueError(f"no ceiling among {CEILINGS} in the dataset")


def fraction_of_ceiling(values, ceiling) -> float:
    """THE fraction of the ceiling: the mean over cells of the per-cell ratios (cells last)."""
    return float(np.nanmean(np.asarray(values, float) / np.asarray(ceiling, float)))


def collect(eval_paths: Mapping[tuple[str, int], os.PathLike | str], ceiling_path) -> xr.Dataset:
    """Stack per-(model, seed) evaluations into correlation/fev(model, seed, cell) with the ceiling.

    Models keep the order of ``eval_paths`` (the configured order, e.g. LN, GLM, CNN). Missing (model, seed) combinations are ``nan``. Every evaluation must cover the ceiling's cells.
    """
    if not eval_paths:
        raise ValueError("collect needs at least one evaluation file")
    ceiling = read_netcdf(ceiling_path)
    cells = list(ceiling["cell"].values)
    models = list(dict.fromkeys(model for model, _ in eval_paths))  # in the order given
    seeds = sorted({int(seed) for _, seed in eval_paths})
    shape = (len(models), len(seeds), len(cells))
    names = ["correlation", "fev"]
    if "true_ceiling" in ceiling:
        names.append("truth_correlation")
    stacked = {name: np.full(shape, np.nan) for name in names}
    kinds = {}
    for (model, seed), path in eval_paths.items():
        evaluation = read_netcdf(path)
        if list(evaluation["cell"].values) != cells:
            raise ValueError(
                f"{path}: cells {list(evaluation['cell'].values)} differ from the ceiling's "
                f"cells {cells} in {ceiling_path}"
            )
        index = (models.index(model), seeds.index(int(seed)))
        for name, values in stacked.items():
            values[index] = evaluation[name].values
        kinds[model] = evaluation.attrs.get("model_kind", "unknown")
    dims = ("model", "seed", "cell")
    data = {name: (dims, values) for name, values in stacked.items()}
    for name in CEILINGS + ("split_half_reliability",):
        if name in ceiling:
            data[name] = ("cell", ceiling[name].values)
    return xr.Dataset(
        data,
        coords={"model": models, "seed": seeds, "cell": cells},
        attrs={
            **{
                key: ceiling.attrs[key]
                for key in ("estimator", "n_splits", "n_repeats", "first_bin", "test_set")
                if key in ceiling.attrs
            },
            "model_kinds": ", ".join(f"{model}={kinds[model]}" for model in models),
        },
    )


def summarize(performances: Mapping[tuple[str, str], xr.Dataset]) -> pd.DataFrame:
    """One row per (experiment, stimulus, model): mean test correlation and the ceilings.

    Correlations are averaged over seeds per cell first, then over cells; ``sem`` is the standard
    error over cells, so it measures how much cells differ, not how much seeds differ.
    ``fraction_of_ceiling`` is the mean of the per-cell ratios r / c (:func:`fraction_of_ceiling`,
    c named by ``ceiling_used``); ``fev_limit`` the mean of c^2, the FEV a perfect model reaches
    at most, and ``fev_fraction_of_limit`` the mean of the per-cell FEV / c^2.
    ``truth_correlation`` (simulated data) is r with the noiseless rate itself.
    """
    rows = []
    for (experiment, stimulus), performance in performances.items():
        per_cell = performance["correlation"].mean("seed")
        fev = performance["fev"].mean("seed")
        n_cells = performance.sizes["cell"]
        used, ceiling = reference_ceiling(performance)
        for model in performance["model"].values:
            correlation = per_cell.sel(model=model)
            rows.append(
                {
                    "experiment": experiment,
                    "stimulus": stimulus,
                    "model": str(model),
                    "n_cells": n_cells,
                    "n_seeds": performance.sizes["seed"],
                    "correlation": float(correlation.mean()),
                    "sem": float(correlation.std(ddof=1) / np.sqrt(n_cells))
                    if n_cells > 1
                    else np.nan,
                    "truth_correlation": float(
                        performance["truth_correlation"].mean("seed").sel(model=model).mean()
                    )
                    if "truth_correlation" in performance
                    else np.nan,
                    "fraction_of_ceiling": fraction_of_ceiling(correlation, ceiling),
                    "fev": float(fev.sel(model=model).mean()),
                    "fev_limit": float((ceiling**2).mean()),
                    "fev_fraction_of_limit": fraction_of_ceiling(fev.sel(model=model), ceiling**2),
                    "ceiling": float(performance["ceiling"].mean()),
                    "true_ceiling": float(performance["true_ceiling"].mean())
                    if "true_ceiling" in performance
                    else np.nan,
                    "ceiling_used": used,
                    "ceiling_used_mean": float(ceiling.mean()),
                }
            )
    return pd.DataFrame(rows)


def _moments(recording) -> dict[str, float]:
    """The mean and std of a recording's training movie, as model metadata keys."""
    from insilico.retina.windows import stimulus_moments

    mean, std = stimulus_moments(recording.train_stimulus)
    return {"stimulus_mean": mean, "stimulus_std": std}


def _training_fit(path, recording, fraction: float, *, samples: int, seed: int, device):
    """One run's Pearson r on its own training windows and on the validation block (against the
    single-trial training rate), the last training bin it saw, and its best epoch."""
    from insilico.retina.inference import load_model, predict
    from insilico.retina.windows import split_bins

    model, meta = load_model(path)
    if device is not None:
        model.to(device)
    if not np.isclose(meta.get("train_fraction", 1.0), fraction):
        raise ValueError(
            f"{path}: model was trained on fraction {meta.get('train_fraction', 1.0)}, "
            f"listed as fraction {fraction}"
        )
    history = int(meta["history"])
    span = max(history, int(meta.get("response_history", 0)) + 1)
    n_bins = recording.train_stimulus.shape[0]
    train_ends, val_ends = split_bins(n_bins, span, meta["val_fraction"], fraction)
    fit = {}
    for name, ends in (("train_correlation", train_ends), ("val_correlation", val_ends)):
        # Predict only the frames these windows cover: small runs need a small part.
        first = ends[0] - (history - 1)
        movie = recording.train_stimulus[first : ends[-1] + 1]
        prediction = predict(model, meta, movie, samples=samples, seed=seed)
        fit[name] = pearson(prediction[:, ends - ends[0]], recording.train_rate[:, ends])
    return fit, train_ends[-1], meta.get("best_epoch", np.nan)


def data_efficiency(
    runs: Mapping[tuple[str, float, int], os.PathLike | str],
    recording_path,
    cells: Sequence[int] | None,
    *,
    samples: int = 100,
    seed: int = 0,
    device=None,
    test_set: str = "test",
) -> xr.Dataset:
    """Correlations of models trained on fractions of the training data, per (model, fraction, seed).

    For every run: ``test_correlation`` with the trial-averaged test rate (as :func:`evaluate`),
    ``train_correlation`` on the training windows the run was fitted to and ``val_correlation``
    on the fixed validation block, both against the single-trial training rate, which sets a
    lower noise ceiling than the trial average; their difference is the generalisation gap that
    shows overfitting. The split is recomputed with :func:`insilico.retina.windows.split_bins` from the
    fraction and the ``val_fraction`` stored in the model. Missing combinations are ``nan``.
    """
    from insilico.retina.recording import read_recording

    if not runs:
        raise ValueError("data_efficiency needs at least one run")
    recording = read_recording(
        recording_path, cells=None if cells is None else list(cells), test_set=test_set
    )
    models = list(dict.fromkeys(model for model, _, _ in runs))
    fractions = sorted({float(fraction) for _, fraction, _ in runs})
    seeds = sorted({int(run_seed) for _, _, run_seed in runs})
    n_cells = len(recording.cell_names)
    shape = (len(models), len(fractions), len(seeds), n_cells)
    names = ("test_correlation", "train_correlation", "val_correlation")
    values = {name: np.full(shape, np.nan) for name in names}
    best_epoch = np.full(shape[:3], np.nan)
    n_train_bins = np.zeros(len(fractions))
    for (model_name, fraction, run_seed), path in runs.items():
        index = (
            models.index(model_name),
            fractions.index(float(fraction)),
            seeds.index(int(run_seed)),
        )
        evaluation = evaluate(
            path,
            recording_path,
            cells,
            samples=samples,
            seed=seed,
            recording=recording,
            device=device,
        )
        values["test_correlation"][index] = evaluation["correlation"].values
        fit, last_bin, best_epoch[index] = _training_fit(
            path, recording, float(fraction), samples=samples, seed=seed, device=device
        )
        n_train_bins[fractions.index(float(fraction))] = last_bin + 1
        for name, correlation in fit.items():
            values[name][index] = correlation
    dims = ("model", "fraction", "seed", "cell")
    return xr.Dataset(
        {
            **{name: (dims, array) for name, array in values.items()},
            "best_epoch": (dims[:3], best_epoch),
            "train_minutes": ("fraction", n_train_bins * BIN_SECONDS / 60, {"units": "min"}),
        },
        coords={
            "model": models,
            "fraction": fractions,
            "seed": seeds,
            "cell": list(recording.cell_names),
        },
        attrs={
            "recording_path": os.fspath(recording_path),
            "description": "test: Pearson r with the trial-averaged held-out test rate; train / "
            "val: Pearson r with the single-trial training rate on the run's own training windows "
            "/ on the fixed validation block (the last val_fraction of the training movie)",
        },
    )


def _same_cells(
    recordings: Mapping[str, os.PathLike | str], cells, test_set: str
) -> tuple[dict, list]:
    """Every stimulus class's recording, read once; they must hold the same cells."""
    from insilico.retina.recording import read_recording

    loaded = {
        stimulus: read_recording(
            path, cells=None if cells is None else list(cells), test_set=test_set
        )
        for stimulus, path in recordings.items()
    }
    first = next(iter(recordings))
    cell_names = list(loaded[first].cell_names)
    for stimulus, recording in loaded.items():
        if list(recording.cell_names) != cell_names:
            raise ValueError(
                f"{recordings[stimulus]}: cells {list(recording.cell_names)} differ from "
                f"{cell_names} in {recordings[first]}; generalisation needs the same cells"
            )
    return loaded, cell_names


def generalization(
    models: Mapping[tuple[str, str, int], os.PathLike | str],
    recordings: Mapping[str, os.PathLike | str],
    ceilings: Mapping[str, os.PathLike | str],
    cells: Sequence[int] | None,
    *,
    standardise: str = "recording",
    samples: int = 100,
    seed: int = 0,
    device=None,
    test_set: str = "test",
) -> xr.Dataset:
    """Every model tested on every stimulus class of the same cells.

    ``models`` maps (model, train stimulus, seed) to a model file, ``recordings`` and ``ceilings``
    a stimulus class to its recording and ceiling file. Returns ``correlation`` and ``fev``
    ``(model, train_stimulus, test_stimulus, seed, cell)`` and the ``ceiling`` of each test
    recording ``(test_stimulus, cell)``; see :func:`evaluate` for ``standardise``.
    """
    if not models:
        raise ValueError("generalization needs at least one model")
    names = list(dict.fromkeys(model for model, _, _ in models))
    train_stimuli = list(dict.fromkeys(stimulus for _, stimulus, _ in models))
    test_stimuli = list(recordings)
    seeds = sorted({int(run_seed) for _, _, run_seed in models})
    loaded, cell_names = _same_cells(recordings, cells, test_set)
    shape = (len(names), len(train_stimuli), len(test_stimuli), len(seeds), len(cell_names))
    stacked = {"correlation": np.full(shape, np.nan), "fev": np.full(shape, np.nan)}
    for (model_name, train_stimulus, run_seed), path in models.items():
        for test_stimulus, recording_path in recordings.items():
            evaluation = evaluate(
                path,
                recording_path,
                cells,
                standardise=standardise,
                samples=samples,
                seed=seed,
                recording=loaded[test_stimulus],
                device=device,
            )
            index = (
                names.index(model_name),
                train_stimuli.index(train_stimulus),
                test_stimuli.index(test_stimulus),
                seeds.index(int(run_seed)),
            )
            for name, values in stacked.items():
                values[index] = evaluation[name].values
    ceiling = np.stack(
        [read_netcdf(ceilings[stimulus])["ceiling"].values for stimulus in test_stimuli]
    )
    dims = ("model", "train_stimulus", "test_stimulus", "seed", "cell")
    correlation = xr.DataArray(
        stacked["correlation"],
        dims=dims,
        coords={"train_stimulus": train_stimuli, "test_stimulus": test_stimuli},
    )
    return xr.Dataset(
        {
            **{name: (dims, values) for name, values in stacked.items()},
            "transfer_loss": (dims, transfer_loss(correlation).values),
            "ceiling": (("test_stimulus", "cell"), ceiling),
        },
        coords={
            "model": names,
            "train_stimulus": train_stimuli,
            "test_stimulus": test_stimuli,
            "seed": seeds,
            "cell": cell_names,
        },
        attrs={
            "standardise": STANDARDISE[standardise],
            "description": "Pearson r per cell between the prediction of a model trained on "
            "train_stimulus and the trial-averaged held-out test rate of test_stimulus; "
            "transfer_loss: r of the model trained on test_stimulus minus this r",
        },
    )


def transfer_loss(correlation: xr.DataArray) -> xr.DataArray:
    """How much a model loses on a stimulus class it was not trained on: r of the same model kind
    trained on the test class minus r of the model trained on ``train_stimulus``, per seed and
    cell, both on the same test movie and cells, so the difficulty of the test class cancels (the
    comparison per test class of McIntosh et al. 2016). Zero on the diagonal; NaN where no model
    was trained on the test class. Same dimensions as ``correlation``.
    """
    within = xr.concat(
        [
            correlation.sel(test_stimulus=stimulus)
            .reindex(train_stimulus=[stimulus])
            .squeeze("train_stimulus", drop=True)
            for stimulus in correlation["test_stimulus"].values
        ],
        dim="test_stimulus",
    )
    return (within - correlation).transpose(*correlation.dims)


def _model_responses(models, recording, moments: dict, device) -> tuple[dict, int]:
    """Each model's predicted rate ``(T, n_cells)`` on the probe (zero before its first window),
    and the one history all models share (STAs of different histories do not compare)."""
    from insilico.retina.inference import load_model, predict

    stimulus, histories, responses = recording.train_stimulus, set(), {}
    for key, path in models.items():
        model, meta = load_model(path)
        if device is not None:
            model.to(device)
        if tuple(meta["cell_names"]) != recording.cell_names:
            raise ValueError(
                f"{path}: model was trained on cells {meta['cell_names']}, "
                f"but {recording.path} gives {recording.cell_names}"
            )
        history = int(meta["history"])
        histories.add(history)
        rate = predict(model, {**meta, **moments}, stimulus)
        response = np.zeros((stimulus.shape[0], rate.shape[0]), dtype=np.float32)
        response[history - 1 :] = rate.T
        responses[key] = response
    if len(histories) != 1:
        raise ValueError(f"models see different histories {sorted(histories)}; STAs need one")
    return responses, histories.pop()


def receptive_fields(
    recording_path,
    models: Mapping[tuple[str, str], os.PathLike | str],
    cells: Sequence[int] | None,
    *,
    device=None,
) -> xr.Dataset:
    """Spike-triggered averages of the recorded cells and of models, on the same white noise.

    ``recording_path`` is a white-noise recording; its training movie, standardised with its own
    mean and std, is the probe for everyone: ``data_sta`` weighs its windows with the recorded
    rate, ``model_sta`` (per (model, train stimulus) in ``models``) with the model's predicted
    rate (:func:`insilico.core.sta.spike_triggered_average`). ``similarity`` is the Pearson r
    between a model's and the data's STA over all lags and pixels.
    """
    import torch

    from insilico.core.sta import spike_triggered_average
    from insilico.retina.recording import read_recording
    from insilico.retina.windows import WindowSampler, standardised_on_device

    if not models:
        raise ValueError("receptive_fields needs at least one model")
    recording = read_recording(recording_path, cells=None if cells is None else list(cells))
    moments = _moments(recording)
    stimulus = recording.train_stimulus
    model_stas, history = _model_responses(models, recording, moments, device)
    device = torch.device("cpu") if device is None else torch.device(device)
    movie = standardised_on_device(
        stimulus, moments["stimulus_mean"], moments["stimulus_std"], device
    )
    windows = WindowSampler(movie, history)
    ends = torch.arange(history - 1, stimulus.shape[0], device=device)

    def sta(response: np.ndarray) -> np.ndarray:
        response = torch.from_numpy(response).to(device)
        return spike_triggered_average(windows, response, ends).cpu().numpy()

    data_sta = sta(np.ascontiguousarray(recording.train_rate.T, dtype=np.float32))
    names = list(dict.fromkeys(model for model, _ in models))
    train_stimuli = list(dict.fromkeys(stimulus_class for _, stimulus_class in models))
    shape = (len(names), len(train_stimuli), *data_sta.shape)
    model_sta = np.full(shape, np.nan, dtype=np.float32)
    for (model_name, train_stimulus), response in model_stas.items():
        model_sta[names.index(model_name), train_stimuli.index(train_stimulus)] = sta(response)
    similarity = pearson(
        model_sta.reshape(*shape[:3], -1), data_sta.reshape(data_sta.shape[0], -1)[None, None]
    )
    lag = (history - 1 - np.arange(history)) * BIN_SECONDS
    spatial = ("cell", "lag", "row", "col")
    return xr.Dataset(
        {
            "data_sta": (spatial, data_sta),
            "model_sta": (("model", "train_stimulus", *spatial), model_sta),
            "similarity": (("model", "train_stimulus", "cell"), similarity),
        },
        coords={
            "model": names,
            "train_stimulus": train_stimuli,
            "cell": list(recording.cell_names),
            "lag": ("lag", lag, {"units": "s", "long_name": "time before the response bin"}),
        },
        attrs={
            "recording_path": os.fspath(recording_path),
            "probe": "the white-noise training movie of the recording, standardised with its own "
            "mean and std",
            "estimator": "sum_t (r_t - mean r) x_t / sum_t r_t over all windows of the probe",
        },
    )
