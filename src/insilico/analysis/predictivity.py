"""Neural predictivity with the Brain-Score protocol, vectorised over splits, time bins and layers.

Protocol (Brain-Score's ``CrossRegressedCorrelation`` with ``pls_regression`` and
``pearsonr_correlation``; ``InternalConsistency`` ceiling):

- targets: responses averaged over repetitions, per stimulus and neuroid (and time bin);
- cross-validation: ``n_splits`` (10) stratified shuffle splits of the *stimuli* on
  ``object_name``, ``train_fraction`` (0.9) to fit, the rest held out; one fixed seed;
- regression: partial least squares with 25 components, no scaling (scikit-learn's
  ``PLSRegression(n_components=25, scale=False)``, NIPALS), fitted on the training stimuli;
- score per split: Pearson r per neuroid between prediction and data on the held-out stimuli,
  median over the neuroids of a region; score = mean over splits, error = standard error over splits;
- ceiling: split-half consistency over repetitions, Spearman-Brown corrected, median over neuroids,
  mean over splits (:func:`insilico.data.assembly.split_half_consistency`);
- ceiled score: one of :data:`CEILING_FORMULAS` (Brain-Score changed it over the years), always
  reported next to the raw r and the ceiling.

:func:`batched_pls` fits many PLS problems at once (splits x time bins, on CPU or GPU) and gives
the coefficients of scikit-learn's NIPALS to numerical precision: it runs the same power iteration
from the same starting column with the same stopping rule (squared change of the X weights below
``tol``), but in closed form on the cross-covariance ``C = X_k' Y_k``: the iteration is
``w <- normalise(C C' w)`` started at ``normalise(C e_j)``; it is carried out on the small
``q x q`` matrix ``C' C`` and deflation updates ``C`` by a rank-one term instead of touching the
data, ``C_{k+1} = C_k - (t't) p q'``. Scores ``t``, loadings ``p``, ``q`` come from the undeflated
data and the earlier components, which is algebraically the same as deflating ``X`` and ``Y``.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

if TYPE_CHECKING:
    import torch

N_COMPONENTS = 25
CEILING_FORMULAS = {
    "r2_over_c": "r^2 / c (Brain-Score since 2026)",
    "r_over_c_squared": "(r / c)^2 (Brain-Score 2019-2026)",
    "r_over_c": "r / c (Brain-Score until 2019)",
}


# --- cross-validation splits ----------------------------------------------------------------------


def stratified_shuffle_splits(
    labels: np.ndarray, n_splits: int, train_fraction: float, seed: int
) -> np.ndarray:
    """Boolean training masks ``(n_splits, n)``, stratified on ``labels``.

    Like scikit-learn's ``StratifiedShuffleSplit``: ``n_test = ceil((1 - train_fraction) n)``
    stimuli are held out per split, allocated to classes in proportion to their size (floor, then
    the remaining ones to the classes with the largest remainders, ties broken at random), the
    members of each class drawn at random. Every split holds out the same number of stimuli.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    n_test = math.ceil(round((1 - train_fraction) * n, 9))
    if n_test < 2 or n - n_test < 2:
        raise ValueError(f"{n} stimuli with train_fraction {train_fraction} leave too few to split")
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse)
    # scikit-learn's StratifiedShuffleSplit (Brain-Score's) refuses these designs; so do we, so
    # that a score computed here is one Brain-Score could compute.
    if counts.min() < 2:
        raise ValueError("the least populated object has only 1 stimulus; stratification needs 2")
    if n_test < len(classes) or n - n_test < len(classes):
        raise ValueError(
            f"{n} stimuli with train_fraction {train_fraction} hold out {n_test} for "
            f"{len(classes)} objects; a stratified split needs at least one per object on each side"
        )
    members = [np.flatnonzero(inverse == k) for k in range(len(classes))]
    rng = np.random.default_rng(seed)
    masks = np.ones((n_splits, n), dtype=bool)
    for split in range(n_splits):
        exact = counts * n_test / n
        allocation = np.floor(exact).astype(int)
        remainder = exact - allocation
        order = np.lexsort((rng.random(len(classes)), -remainder))
        allocation[order[: n_test - allocation.sum()]] += 1
        for k, taken in enumerate(allocation):
            masks[split, rng.permutation(members[k])[:taken]] = False
    return masks


# --- batched PLS --------------------------------------------------------------------------------


def batched_pls(
    X: torch.Tensor,
    Y: torch.Tensor,
    train_masks: torch.Tensor,
    n_components: int = N_COMPONENTS,
    max_iter: int = 500,
    tol: float = 1e-6,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fit PLS regressions (NIPALS, no scaling) for every batch entry and every split.

    ``X`` ``(Bx, N, p)`` and ``Y`` ``(By, N, q)`` hold all ``N`` stimuli; ``Bx`` and ``By`` are
    equal or 1 (broadcast: e.g. one feedforward layer against every time bin). ``train_masks``
    ``(S, N)`` selects each split's training stimuli; every split must have the same count.
    Returns ``coef (B, S, p, q)``, ``x_mean (B, S, p)``, ``y_mean (B, S, q)``: predictions are
    ``(X - x_mean) @ coef + y_mean``, as ``PLSRegression(scale=False).predict``.
    """
    import torch  # lazily: the data and summary jobs need no torch

    if X.ndim != 3 or Y.ndim != 3 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X (B, N, p) and Y (B, N, q) must share N; got {tuple(X.shape)}, {tuple(Y.shape)}"
        )
    batch = torch.broadcast_shapes(X.shape[:1], Y.shape[:1])[0]
    n_per_split = train_masks.sum(1)
    if not bool((n_per_split == n_per_split[0]).all()):
        raise ValueError("every split must train on the same number of stimuli")
    n_train, p, q = int(n_per_split[0]), X.shape[2], Y.shape[2]
    if not 1 <= n_components <= min(n_train - 1, p):
        raise ValueError(
            f"n_components={n_components} must be between 1 and min(n_train - 1, n_features) = "
            f"{min(n_train - 1, p)}"
        )
    dtype = X.dtype
    m = train_masks.to(dtype)  # (S, N)
    n_splits = m.shape[0]
    x_mean = torch.einsum("sn,bnp->bsp", m, X) / n_train  # (Bx, S, p)
    y_mean = torch.einsum("sn,bnq->bsq", m, Y) / n_train  # (By, S, q)
    # C_0 = Xc' Yc over the training rows, one split at a time (bounds memory)
    C = (
        torch.stack(
            [
                (X.transpose(1, 2) * m[s]) @ Y
                - n_train * x_mean[:, s, :, None] * y_mean[:, s, None, :]
                for s in range(n_splits)
            ],
            dim=1,
        )
        .expand(batch, n_splits, p, q)
        .clone()
    )
    x_mean = x_mean.expand(batch, n_splits, p)
    y_mean = y_mean.expand(batch, n_splits, q)

    def times(A, v):  # A (B?, N, d) @ v (B, S, d) -> (B, S, N)
        return v @ A[0].T if A.shape[0] == 1 else torch.einsum("bsd,bnd->bsn", v, A)

    def times_t(A, t):  # A' t -> (B, S, d)
        return t @ A[0] if A.shape[0] == 1 else torch.einsum("bsn,bnd->bsd", t, A)

    eps = torch.finfo(dtype).eps

    # sklearn starts the power iteration at the first Y column that is not constant.
    y_var = torch.einsum("sn,bnq->bsq", m, (Y - Y.mean(1, keepdim=True)) ** 2)
    y_var = y_var - n_train * (y_mean - Y.mean(1)[:, None, :]) ** 2
    start_column = (y_var > eps * (1 + y_var.amax(-1, keepdim=True))).to(torch.int8).argmax(-1)
    start = torch.nn.functional.one_hot(start_column, q).to(dtype)  # (B, S, q)

    scores = torch.zeros(batch, n_splits, X.shape[1], 0, dtype=dtype, device=X.device)
    W = torch.zeros(batch, n_splits, p, 0, dtype=dtype, device=X.device)
    P, Q = W.clone(), torch.zeros(batch, n_splits, q, 0, dtype=dtype, device=X.device)
    for _ in range(n_components):
        w = _first_x_weights(C, start, max_iter, tol)  # (B, S, p)
        # scores on the deflated X: t = Xc w - T (P' w), zero outside the training rows
        t = times(X, w) - (x_mean * w).sum(-1, keepdim=True)
        t = t * m - (scores @ (P.transpose(-1, -2) @ w[..., None]))[..., 0]
        tt = (t * t).sum(-1, keepdim=True).clamp_min(torch.finfo(dtype).tiny)
        t_prev = (scores.transpose(-1, -2) @ t[..., None])[..., 0]  # T' t
        x_load = times_t(X, t) - x_mean * t.sum(-1, keepdim=True)
        x_load = (x_load - (P @ t_prev[..., None])[..., 0]) / tt
        y_load = times_t(Y, t) - y_mean * t.sum(-1, keepdim=True)
        y_load = (y_load - (Q @ t_prev[..., None])[..., 0]) / tt
        C = C - tt[..., None] * x_load[..., :, None] * y_load[..., None, :]
        scores = torch.cat([scores, t[..., None]], -1)
        W = torch.cat([W, w[..., None]], -1)
        P = torch.cat([P, x_load[..., None]], -1)
        Q = torch.cat([Q, y_load[..., None]], -1)
    rotations = W @ torch.linalg.pinv(P.transpose(-1, -2) @ W)
    coef = rotations @ Q.transpose(-1, -2)
    return coef, x_mean, y_mean


def _first_x_weights(C: torch.Tensor, start: torch.Tensor, max_iter: int, tol: float):
    """sklearn's power method for the first left singular vector of ``C``, batched, in closed form.

    sklearn iterates ``w_i = normalise(C v_i)`` with ``v_{i+1} = C' C v_i`` from ``v_0 = e_j`` and
    stops at the first ``i >= 1`` with ``|w_i - w_{i-1}|^2 < tol`` (at once when ``q = 1``; at
    ``max_iter - 1`` at the latest). With ``M = C' C = U diag(l) U'`` and ``a = U' e_j`` every
    iterate is ``v_i = U l^i a`` and, with ``s(m) = sum_k l_k^m a_k^2``,
    ``w_i . w_{i-1} = s(2i) / sqrt(s(2i - 1) s(2i + 1))``: one eigendecomposition gives the
    stopping step of every batch entry at once, and ``w`` is ``C U l^i a`` normalised.
    """
    import torch  # lazily: the data and summary jobs need no torch

    eps = torch.finfo(C.dtype).eps
    q = C.shape[-1]
    if q == 1:
        w = (C @ start[..., None])[..., 0]
        return w / (w.norm(dim=-1, keepdim=True) + eps)
    eigenvalues, U = torch.linalg.eigh(C.transpose(-1, -2) @ C)
    top = eigenvalues[..., -1:].clamp_min(torch.finfo(C.dtype).tiny)
    ratio = (eigenvalues / top).clamp(0, 1)  # powers of l / l_max: no overflow
    a = (U.transpose(-1, -2) @ start[..., None])[..., 0]
    step = _stopping_step(ratio.reshape(-1, q), (a * a).reshape(-1, q), max_iter, tol)
    step = step.reshape(ratio.shape[:-1])
    coefficients = ratio ** step[..., None].to(C.dtype) * a
    w = (C @ (U @ coefficients[..., None]))[..., 0]
    return w / (w.norm(dim=-1, keepdim=True) + eps)


def _stopping_step(ratio: torch.Tensor, a2: torch.Tensor, max_iter: int, tol: float):
    """First ``i >= 1`` with ``2 - 2 s(2i) / sqrt(s(2i-1) s(2i+1)) < tol`` per row (else max_iter - 1).

    Evaluated in growing chunks of ``i`` and only for the rows still running: most rows stop
    within a few dozen steps, a few run long.
    """
    import torch  # lazily: the data and summary jobs need no torch

    tiny = torch.finfo(ratio.dtype).tiny
    log_ratio = torch.log(ratio.clamp_min(tiny))  # ratio 0 -> a huge negative log: power 0
    step = torch.full(ratio.shape[:1], max_iter - 1, dtype=torch.long, device=ratio.device)
    pending = torch.arange(len(ratio), device=ratio.device)
    low, width = 1, 16
    while low < max_iter and len(pending):
        high = min(low + width, max_iter)
        m = torch.arange(2 * low - 1, 2 * high, device=ratio.device, dtype=ratio.dtype)
        s = (torch.exp(m[:, None] * log_ratio[pending, None, :]) * a2[pending, None, :]).sum(-1)
        i = torch.arange(high - low, device=ratio.device)
        cosine = s[:, 2 * i + 1] / (s[:, 2 * i] * s[:, 2 * i + 2]).sqrt().clamp_min(tiny)
        converged = 2 - 2 * cosine < tol
        found = converged.any(-1)
        step[pending[found]] = low + converged[found].to(torch.int8).argmax(-1)
        pending = pending[~found]
        low, width = high, 4 * width
    return step


# --- scoring -----------------------------------------------------------------------------------------


def pearson_columns(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Pearson r over axis -2 (stimuli) for every column; nan where either side is constant."""
    import torch  # lazily: the data and summary jobs need no torch

    pred = pred - pred.mean(-2, keepdim=True)
    target = target - target.mean(-2, keepdim=True)
    denominator = (pred.square().sum(-2) * target.square().sum(-2)).sqrt()
    numerator = (pred * target).sum(-2)
    tiny = torch.finfo(pred.dtype).eps * (
        pred.abs().amax(-2) * target.abs().amax(-2) * pred.shape[-2] + 1e-300
    )
    return torch.where(denominator > tiny, numerator / denominator.clamp_min(1e-300), torch.nan)


def cross_validated_r(
    X: np.ndarray | torch.Tensor,
    Y: np.ndarray | torch.Tensor,
    train_masks: np.ndarray,
    n_components: int = N_COMPONENTS,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = "float64",
) -> np.ndarray:
    """Held-out Pearson r per neuroid for every batch entry and split: ``(B, S, q)``.

    ``X`` ``(Bx, N, p)``, ``Y`` ``(By, N, q)`` as in :func:`batched_pls`. ``n_components`` is
    lowered to ``min(n_train - 1, p)`` for layers with fewer features (recorded by the caller).
    """
    pred, y_test, _ = _held_out_predictions(X, Y, train_masks, n_components, device, dtype)
    return pearson_columns(pred, y_test).cpu().numpy()


def _held_out_predictions(X, Y, train_masks, n_components, device, dtype):
    """PLS predictions and targets on every split's held-out stimuli, ``(B, S, n_test, q)`` each,
    and the held-out stimulus indices ``(S, n_test)``."""
    import torch  # lazily: the data and summary jobs need no torch

    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    X = torch.as_tensor(np.asarray(X) if not torch.is_tensor(X) else X, device=device).to(dtype)
    Y = torch.as_tensor(np.asarray(Y) if not torch.is_tensor(Y) else Y, device=device).to(dtype)
    masks = torch.as_tensor(np.asarray(train_masks), device=device)
    n_train = int(masks[0].sum())
    k = min(n_components, n_train - 1, X.shape[-1])
    coef, x_mean, y_mean = batched_pls(X, Y, masks, k)
    test = torch.stack([torch.nonzero(~row)[:, 0] for row in masks])  # (S, n_test)
    pred = (X[:, test] - x_mean[..., None, :]) @ coef + y_mean[..., None, :]
    return pred, Y[:, test], test


def cross_validated_r_by_group(
    X, Y, train_masks, groups: np.ndarray, group_names, n_components=N_COMPONENTS, device="cpu"
) -> np.ndarray:
    """Held-out Pearson r per neuroid within each group of stimuli: ``(G, B, S, q)``.

    The PLS fit is the usual one (all training stimuli); r is computed over the held-out stimuli
    of one group only (e.g. early- or late-solved images), nan where a split holds out fewer
    than 3 of them.
    """
    import torch  # lazily: the data and summary jobs need no torch

    pred, y_test, test = _held_out_predictions(X, Y, train_masks, n_components, device, "float64")
    held_groups = np.asarray(groups)[test.cpu().numpy()]  # (S, n_test)
    out = np.full((len(group_names), pred.shape[0], pred.shape[1], pred.shape[-1]), np.nan)
    for g, name in enumerate(group_names):
        for split in range(pred.shape[1]):
            rows = torch.as_tensor(np.flatnonzero(held_groups[split] == name), device=pred.device)
            if len(rows) >= 3:
                out[g, :, split] = (
                    pearson_columns(pred[:, split, rows], y_test[:, split, rows]).cpu().numpy()
                )
    return out


def effective_components(n_components: int, n_train: int, n_features: int) -> int:
    return min(n_components, n_train - 1, n_features)


def region_medians(r: np.ndarray, regions: np.ndarray, region_names) -> np.ndarray:
    """Median over each region's neuroids (last axis) -> ``(..., n_regions)``; nan-safe."""
    with warnings.catch_warnings():  # bins not fitted for a layer are all nan and stay nan
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.stack(
            [np.nanmedian(r[..., regions == name], axis=-1) for name in region_names], -1
        )


def mean_sem(per_split: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean over splits and its standard error (ddof 1)."""
    n = per_split.shape[axis]
    with warnings.catch_warnings():  # all-nan entries (a layer a model lacks) stay nan, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(per_split, axis=axis)
        std = np.nanstd(per_split, axis=axis, ddof=1) if n > 1 else np.full_like(mean, np.nan)
    return mean, std / math.sqrt(n)


def ceiled_score(r, ceiling, formula: str):
    """The ceiled score by one of :data:`CEILING_FORMULAS` (``r`` raw score, ``ceiling`` c)."""
    r, ceiling = np.asarray(r, float), np.asarray(ceiling, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if formula == "r2_over_c":
            return np.sign(r) * r**2 / ceiling
        if formula == "r_over_c_squared":
            return np.sign(r) * (r / ceiling) ** 2
        if formula == "r_over_c":
            return r / ceiling
    raise ValueError(f"unknown ceiling formula {formula!r}; use one of {sorted(CEILING_FORMULAS)}")


def select_layer_held_out(per_split: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best layer chosen on held-out splits: for every split s, the layer with the highest mean
    score over the *other* splits; returns (chosen layer index per split, its score on split s).

    ``per_split`` is ``(n_layers, n_splits)``. The reported best-layer score is the mean of the
    returned scores, so no split's own score picks the layer it is scored with.
    """
    n_layers, n_splits = per_split.shape
    if n_splits < 2:
        raise ValueError("held-out layer selection needs at least 2 splits")
    totals = np.nansum(per_split, axis=1, keepdims=True)
    others = (totals - np.nan_to_num(per_split)) / (n_splits - 1)
    others = np.where(np.isnan(per_split).all(axis=1, keepdims=True), -np.inf, others)
    chosen = others.argmax(axis=0)
    return chosen, per_split[chosen, np.arange(n_splits)]


# --- neural targets ------------------------------------------------------------------------------

REGION_ORDER = ("V1", "V2", "V4", "IT")


def _regions(values) -> list[str]:
    present = list(dict.fromkeys(str(v) for v in values))
    return sorted(
        present,
        key=lambda r: (REGION_ORDER.index(r) if r in REGION_ORDER else len(REGION_ORDER), r),
    )


def neural_targets(
    *,
    assembly_path,
    temporal_path,
    csv_path,
    n_splits: int,
    seed: int,
    groundtruth_path=None,
) -> xr.Dataset:
    """Trial-averaged responses and split-half consistencies of both assemblies, aligned.

    Stimuli are those of the StimulusSet recorded in both assemblies (in csv order); neuroids
    those of the time-averaged assembly found in the temporal one (by ``neuroid_id``).
    ``rates_window`` and ``consistency_window`` come from the time-averaged assembly (mean over its
    time bins, e.g. 70-170 ms), ``rates`` and ``consistency`` from the temporal one, per bin.
    """
    from insilico.data.assembly import (
        AssemblyFormatError,
        open_assembly,
        read_stimulus_metadata,
        split_half_consistency,
        trial_average,
    )

    metadata = read_stimulus_metadata(csv_path)
    with open_assembly(assembly_path) as static, open_assembly(temporal_path) as temporal:
        recorded = set(np.asarray(static["stimulus_id"].values).astype(str)) & set(
            np.asarray(temporal["stimulus_id"].values).astype(str)
        )
        stimuli = metadata[metadata["stimulus_id"].isin(recorded)].reset_index(drop=True)
        if len(stimuli) < 10:
            raise AssemblyFormatError(
                f"only {len(stimuli)} stimuli of {csv_path} are recorded in both {assembly_path} "
                f"and {temporal_path}"
            )
        ids = stimuli["stimulus_id"].to_numpy()
        neuroid_ids = np.asarray(static["neuroid_id"].values).astype(str)
        temporal_ids = pd.Index(np.asarray(temporal["neuroid_id"].values).astype(str))
        position = temporal_ids.get_indexer(neuroid_ids)
        if (position < 0).any():
            raise AssemblyFormatError(
                f"{temporal_path} lacks neuroid(s) {list(neuroid_ids[position < 0][:5])} of {assembly_path}"
            )
        rates_window = trial_average(static, ids, assembly_path).mean(axis=2)
        consistency_window = np.nanmean(
            split_half_consistency(static, ids, n_splits, seed, assembly_path), axis=2
        )
        rates = trial_average(temporal, ids, temporal_path)[:, position]
        consistency = split_half_consistency(temporal, ids, n_splits, seed, temporal_path)[
            :, position
        ]
        window = (
            int(static["time_bin_start"].values.min()),
            int(static["time_bin_end"].values.max()),
        )
        coords = {
            "stimulus_id": ("stimulus", ids.astype(str)),
            "object_name": ("stimulus", stimuli["object_name"].to_numpy().astype(str)),
            "category_name": ("stimulus", stimuli["category_name"].to_numpy().astype(str)),
            "neuroid_id": ("neuroid", neuroid_ids),
            "region": ("neuroid", np.asarray(static["region"].values).astype(str)),
            "time_bin_start": ("time_bin", np.asarray(temporal["time_bin_start"].values, np.int64)),
            "time_bin_end": ("time_bin", np.asarray(temporal["time_bin_end"].values, np.int64)),
            "split": np.arange(n_splits),
        }
        for name in ("variation", "image_kind"):  # image_kind: simulated hard images only
            if name in stimuli:
                coords[name] = ("stimulus", stimuli[name].to_numpy())
        n_repetitions = int(len(np.unique(static["repetition"].values)))
        identifiers = (static.attrs.get("identifier", ""), temporal.attrs.get("identifier", ""))
    dataset = xr.Dataset(
        {
            "rates_window": (("stimulus", "neuroid"), rates_window),
            "consistency_window": (("split", "neuroid"), consistency_window),
            "rates": (("stimulus", "neuroid", "time_bin"), rates),
            "consistency": (("split", "neuroid", "time_bin"), consistency),
        },
        coords=coords,
        attrs={
            "window_start_ms": window[0],
            "window_end_ms": window[1],
            "n_repetitions": n_repetitions,
            "assembly": str(identifiers[0]),
            "temporal_assembly": str(identifiers[1]),
            "ceiling": "split-half over repetitions, Spearman-Brown 2r/(1+r), per neuroid",
        },
    )
    if groundtruth_path is not None:
        from insilico.io import read_netcdf

        truth = read_netcdf(groundtruth_path).set_index(neuroid="neuroid_id")
        truth = truth.sel(neuroid=neuroid_ids)
        dataset["true_reliability_window"] = ("neuroid", truth["true_reliability_window"].values)
        dataset["true_reliability"] = (("neuroid", "time_bin"), truth["true_reliability"].values)
    return dataset


def ceilings(neural: xr.Dataset) -> xr.Dataset:
    """Per region: the ceiling (median over neuroids, mean over splits) and its s.e.m., static and per bin."""
    regions = _regions(neural["region"].values)
    region_of = neural["region"].values
    window = region_medians(neural["consistency_window"].values, region_of, regions)  # (S, R)
    per_bin = region_medians(
        np.moveaxis(neural["consistency"].values, 1, -1), region_of, regions
    )  # (S, bins, R)
    c, c_sem = mean_sem(window, axis=0)
    ct, ct_sem = mean_sem(per_bin, axis=0)
    out = xr.Dataset(
        {
            "ceiling": ("region", c),
            "ceiling_sem": ("region", c_sem),
            "ceiling_t": (("time_bin", "region"), ct),
            "ceiling_t_sem": (("time_bin", "region"), ct_sem),
        },
        coords={
            "region": regions,
            "time_bin_start": ("time_bin", neural["time_bin_start"].values),
            "time_bin_end": ("time_bin", neural["time_bin_end"].values),
        },
    )
    if "true_reliability_window" in neural:
        out["true_ceiling"] = (
            "region",
            [
                np.nanmedian(neural["true_reliability_window"].values[region_of == r])
                for r in regions
            ],
        )
        out["true_ceiling_t"] = (
            ("time_bin", "region"),
            np.stack(
                [
                    np.nanmedian(neural["true_reliability"].values[region_of == r], axis=0)
                    for r in regions
                ],
                axis=-1,
            ),
        )
    return out


# --- scoring one model ---------------------------------------------------------------------------


def _steps_for(start_ms: int, end_ms: int, n_steps: int) -> np.ndarray:
    from insilico.analysis.activations import window_steps

    if end_ms > n_steps * 10:
        raise ValueError(
            f"time bin {start_ms}-{end_ms} ms lies beyond the model's {n_steps} steps of 10 ms; "
            "raise it.temporal.n_steps"
        )
    return window_steps((start_ms, end_ms), n_steps)


def _layer_features(path: str, ids: np.ndarray, window, bins):
    """(static (1, N, k), per-bin (bins or 1, N, k), attrs) of one activation file, stimuli aligned."""
    from insilico.analysis.activations import read_activations

    acts = read_activations(path)
    order = pd.Index(acts["stimulus_id"].values.astype(str)).get_indexer(ids)
    if (order < 0).any():
        raise ValueError(
            f"{path} lacks {int((order < 0).sum())} recorded stimuli, e.g. {list(ids[order < 0][:3])}"
        )
    values = acts["activations"].values[order]  # (N, steps, k)
    if not int(acts.attrs["temporal"]):
        return values[:, 0][None], values[:, 0][None], acts.attrs
    n_steps = values.shape[1]
    static = values[:, _steps_for(*window, n_steps)].mean(1)[None]
    per_bin = np.stack([values[:, _steps_for(s, e, n_steps)].mean(1) for s, e in bins])
    return static, per_bin, acts.attrs


def score_model(
    neural: xr.Dataset,
    activation_paths: dict[str, str],
    *,
    n_splits: int,
    train_fraction: float,
    seed: int,
    n_components: int = N_COMPONENTS,
    device: str = "cpu",
    temporal_layers: str = "all",
    solved: np.ndarray | None = None,
) -> xr.Dataset:
    """Held-out Pearson r per neuroid for every layer, split and time bin, plus region medians.

    The static benchmark regresses on the window of the time-averaged assembly; a ConvRNN's
    features there are the mean over its steps inside the window (step t covers [10 t, 10 t + 10)
    ms). The temporal benchmark fits every 10 ms bin separately: a ConvRNN's step t is mapped to
    the bin starting at 10 t ms, a feedforward model gives the same features to every bin.
    ``temporal_layers="best"`` fits the bins only for each region's best static layer (highest
    mean over splits), the layer whose curve is plotted; the other layers' bins stay nan.
    ``solved`` (per stimulus, ``early``/``late``/``unsolved``, from
    :mod:`insilico.analysis.solution_times`): the best layer's static and per-bin scores are also
    computed on the early- and late-solved held-out images apart, and category decoding from it
    (the same decoder as the solution times) is averaged per group and bin.
    """
    if temporal_layers not in ("all", "best"):
        raise ValueError(f"temporal_layers must be 'all' or 'best', got {temporal_layers!r}")
    masks = stratified_shuffle_splits(neural["object_name"].values, n_splits, train_fraction, seed)
    ids = neural["stimulus_id"].values.astype(str)
    region_of = neural["region"].values.astype(str)
    regions = _regions(region_of)
    bins = list(zip(neural["time_bin_start"].values, neural["time_bin_end"].values, strict=True))
    window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
    layers = list(activation_paths)
    n_train = int(masks[0].sum())
    r_window = np.full((len(layers), n_splits, neural.sizes["neuroid"]), np.nan)
    r_bins = np.full((len(layers), len(bins), n_splits, neural.sizes["neuroid"]), np.nan)
    components, keys, attrs = [], {}, {}
    targets_t = {
        region: np.moveaxis(neural["rates"].values[:, region_of == region], 2, 0)
        for region in regions
    }  # (bins, N, q) per region

    def fit_bins(i, per_bin, region):
        cols = region_of == region
        r_bins[i][:, :, cols] = cross_validated_r(
            per_bin, targets_t[region], masks, n_components, device
        )

    for i, layer in enumerate(layers):
        static, per_bin, attrs = _layer_features(activation_paths[layer], ids, window, bins)
        keys[layer] = attrs["cache_key"]
        components.append(effective_components(n_components, n_train, static.shape[-1]))
        for region in regions:
            cols = region_of == region
            target = neural["rates_window"].values[:, cols][None]
            r_window[i, :, cols] = cross_validated_r(static, target, masks, n_components, device)[
                0
            ].T
            if temporal_layers == "all":
                fit_bins(i, per_bin, region)
    if temporal_layers == "best":
        static_scores = np.nanmean(region_medians(r_window, region_of, regions), axis=1)  # (L, R)
        for r, region in enumerate(regions):
            i = int(np.nanargmax(static_scores[:, r]))
            _, per_bin, _ = _layer_features(activation_paths[layers[i]], ids, window, bins)
            fit_bins(i, per_bin, region)
    score_window = region_medians(r_window, region_of, regions)  # (L, S, R)
    score_bins = region_medians(r_bins, region_of, regions)  # (L, bins, S, R)
    grouped = {}
    if solved is not None:
        grouped = _scores_by_group(
            neural,
            activation_paths,
            masks,
            np.asarray(solved).astype(str),
            score_window,
            n_components=n_components,
            device=device,
        )
    result = xr.Dataset(
        {
            "r_window": (("layer", "split", "neuroid"), r_window),
            "r": (("layer", "time_bin", "split", "neuroid"), r_bins),
            "score_window": (("layer", "split", "region"), score_window),
            "score": (("layer", "time_bin", "split", "region"), score_bins),
            "n_components": ("layer", np.asarray(components)),
        },
        coords={
            "layer": layers,
            "split": np.arange(n_splits),
            "region": regions,
            "neuroid_id": ("neuroid", neural["neuroid_id"].values),
            "neuroid_region": ("neuroid", region_of),
            "time_bin_start": ("time_bin", neural["time_bin_start"].values),
            "time_bin_end": ("time_bin", neural["time_bin_end"].values),
        },
        attrs={
            "kind": attrs.get("kind", ""),
            "temporal": int(attrs.get("temporal", 0)),
            "test_accuracy": float(attrs.get("test_accuracy", np.nan)),
            "steps_trained": int(attrs.get("steps_trained", 0)),
            "window_start_ms": window[0],
            "window_end_ms": window[1],
            "cache_keys": str(keys),
            "temporal_layers": temporal_layers,
            "protocol": (
                f"PLS {n_components} components (no scaling), {n_splits} stratified (object_name) "
                f"shuffle splits, train fraction {train_fraction}, seed {seed}; Pearson r per neuroid "
                "on held-out stimuli, median over neuroids"
            ),
        },
    )
    for name, (dims, values) in grouped.items():
        result[name] = (dims, values)
    if grouped:
        result = result.assign_coords(solved_group=list(SOLVED_GROUPS))
    return result


SOLVED_GROUPS = ("early", "late")


def _scores_by_group(
    neural, activation_paths, masks, solved, score_window, *, n_components, device
):
    """Static and per-bin scores of each region's best layer on early/late-solved images apart,
    and category decoding from that layer per group and bin (:func:`score_model`)."""
    from insilico.analysis.solution_times import image_performance

    ids = neural["stimulus_id"].values.astype(str)
    region_of = neural["region"].values.astype(str)
    regions = _regions(region_of)
    bins = list(zip(neural["time_bin_start"].values, neural["time_bin_end"].values, strict=True))
    window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
    layers = list(activation_paths)
    best = np.nanmean(score_window, axis=1).argmax(0)  # (R,)
    n_groups, n_bins, n_splits = len(SOLVED_GROUPS), len(bins), masks.shape[0]
    window_scores = np.full((n_groups, n_splits, len(regions)), np.nan)
    bin_scores = np.full((n_groups, n_bins, n_splits, len(regions)), np.nan)
    decoding = np.full((n_groups, n_bins, len(regions)), np.nan)
    labels = neural["category_name"].values.astype(str)
    for r, region in enumerate(regions):
        static, per_bin, _ = _layer_features(activation_paths[layers[best[r]]], ids, window, bins)
        cols = region_of == region
        target = neural["rates_window"].values[:, cols][None]
        target_t = np.moveaxis(neural["rates"].values[:, cols], 2, 0)
        by_group = cross_validated_r_by_group(
            static, target, masks, solved, SOLVED_GROUPS, n_components, device
        )  # (G, 1, S, q)
        window_scores[..., r] = np.nanmedian(by_group[:, 0], axis=-1)
        by_group_t = cross_validated_r_by_group(
            per_bin, target_t, masks, solved, SOLVED_GROUPS, n_components, device
        )  # (G, bins or 1, S, q)
        bin_scores[..., r] = np.nanmedian(by_group_t, axis=-1)
        performance = image_performance(np.moveaxis(per_bin, 0, -1), labels)  # (N, bins or 1)
        for g, name in enumerate(SOLVED_GROUPS):
            decoding[g, :, r] = performance[solved == name].mean(0)
    return {
        "score_window_group": (("solved_group", "split", "region"), window_scores),
        "score_group": (("solved_group", "time_bin", "split", "region"), bin_scores),
        "decoding_group": (("solved_group", "time_bin", "region"), decoding),
        "group_layer": ("region", np.asarray([layers[i] for i in best])),
    }


# --- summary over models ---------------------------------------------------------------------------


def summarize(scores: dict[tuple[str, str, int], xr.Dataset], neural: xr.Dataset, formula: str):
    """All runs in one Dataset plus the best-layer table (pandas) with raw r, ceiling, ceiled score.

    The best layer per run and region is chosen on held-out splits
    (:func:`select_layer_held_out`); the temporal curve (``best_score_t``) is that of the layer
    with the best mean static score among the layers fitted per bin (``temporal_layer``).
    """
    if formula not in CEILING_FORMULAS:
        raise ValueError(
            f"unknown ceiling formula {formula!r}; use one of {sorted(CEILING_FORMULAS)}"
        )
    ceiling = ceilings(neural)
    regions = list(ceiling["region"].values)
    models = list(dict.fromkeys(key[0] for key in scores))
    states = list(dict.fromkeys(key[1] for key in scores))
    seeds = sorted({key[2] for key in scores})
    layers = list(dict.fromkeys(layer for ds in scores.values() for layer in ds["layer"].values))
    n_splits = next(iter(scores.values())).sizes["split"]
    n_bins = neural.sizes["time_bin"]
    shape = (len(models), len(states), len(seeds))
    score = np.full((*shape, len(layers), len(regions), n_splits), np.nan)
    score_t = np.full((*shape, len(layers), len(regions), n_bins, n_splits), np.nan)
    accuracy = np.full(shape, np.nan)
    for (model, state, seed), ds in scores.items():
        at = (models.index(model), states.index(state), seeds.index(seed))
        for layer in ds["layer"].values:
            j = layers.index(layer)
            score[(*at, j)] = (
                ds["score_window"]
                .sel(layer=layer)
                .transpose("region", "split")
                .sel(region=regions)
                .values
            )
            score_t[(*at, j)] = (
                ds["score"]
                .sel(layer=layer)
                .transpose("region", "time_bin", "split")
                .sel(region=regions)
                .values
            )
        accuracy[at] = ds.attrs["test_accuracy"]
    mean, sem = mean_sem(score)
    mean_t, sem_t = mean_sem(score_t)
    best = np.full((*shape, len(regions)), np.nan)
    best_sem = np.full_like(best, np.nan)
    best_layer = np.full((*shape, len(regions)), "", dtype=object)
    agreement = np.full_like(best, np.nan)
    temporal_layer = np.full((*shape, len(regions)), "", dtype=object)
    best_t = np.full((*shape, len(regions), n_bins), np.nan)
    best_t_sem = np.full_like(best_t, np.nan)
    rows = []
    for index in np.ndindex(*shape):
        if np.isnan(score[index]).all():
            continue
        model, state, seed = models[index[0]], states[index[1]], seeds[index[2]]
        for r, region in enumerate(regions):
            chosen, held_out = select_layer_held_out(score[index][:, r])
            counts = np.bincount(chosen, minlength=len(layers))
            mode = int(counts.argmax())
            best[(*index, r)], best_sem[(*index, r)] = mean_sem(held_out)
            best_layer[(*index, r)] = layers[mode]
            agreement[(*index, r)] = counts[mode] / n_splits
            # the temporal curve: the best static layer among those fitted per bin
            fitted = ~np.isnan(mean_t[index][:, r]).all(axis=-1)
            static_mean = np.where(fitted, np.nan_to_num(mean[index][:, r], nan=-np.inf), -np.inf)
            curve = int(np.argmax(static_mean)) if fitted.any() else mode
            temporal_layer[(*index, r)] = layers[curve]
            best_t[(*index, r)] = mean_t[index][curve, r]
            best_t_sem[(*index, r)] = sem_t[index][curve, r]
            c = float(ceiling["ceiling"].sel(region=region))
            row = {
                "model": model,
                "state": state,
                "seed": seed,
                "region": region,
                "best_layer": layers[mode],
                "layer_choice_agreement": agreement[(*index, r)],
                "raw_r": best[(*index, r)],
                "raw_r_sem": best_sem[(*index, r)],
                "ceiling": c,
                "ceiling_sem": float(ceiling["ceiling_sem"].sel(region=region)),
                "ceiled_score": float(ceiled_score(best[(*index, r)], c, formula)),
                "ceiled_formula": CEILING_FORMULAS[formula],
                "test_accuracy": accuracy[index],
            }
            if "true_ceiling" in ceiling:
                row["true_ceiling"] = float(ceiling["true_ceiling"].sel(region=region))
            rows.append(row)
    dims = ("model", "state", "seed")
    grouped = _grouped_summary(scores, models, states, seeds, regions)
    summary = xr.Dataset(
        {
            "score": ((*dims, "layer", "region"), mean),
            "score_sem": ((*dims, "layer", "region"), sem),
            "score_split": ((*dims, "layer", "region", "split"), score),
            "score_t": ((*dims, "layer", "region", "time_bin"), mean_t),
            "score_t_sem": ((*dims, "layer", "region", "time_bin"), sem_t),
            "best_score": ((*dims, "region"), best),
            "best_score_sem": ((*dims, "region"), best_sem),
            "best_layer": ((*dims, "region"), best_layer.astype(str)),
            "layer_choice_agreement": ((*dims, "region"), agreement),
            "temporal_layer": ((*dims, "region"), temporal_layer.astype(str)),
            "best_score_t": ((*dims, "region", "time_bin"), best_t),
            "best_score_t_sem": ((*dims, "region", "time_bin"), best_t_sem),
            "ceiled_score": (
                (*dims, "region"),
                ceiled_score(best, ceiling["ceiling"].values, formula),
            ),
            "test_accuracy": (dims, accuracy),
            **{name: ceiling[name] for name in ceiling.data_vars},
        },
        coords={
            "model": models,
            "state": states,
            "seed": seeds,
            "layer": layers,
            "region": regions,
            "split": np.arange(n_splits),
            "time_bin_start": ("time_bin", neural["time_bin_start"].values),
            "time_bin_end": ("time_bin", neural["time_bin_end"].values),
        },
        attrs={
            "ceiled_formula": CEILING_FORMULAS[formula],
            "formula_key": formula,
            "window_start_ms": neural.attrs["window_start_ms"],
            "window_end_ms": neural.attrs["window_end_ms"],
            "n_categories": int(len(np.unique(neural["category_name"].values))),
            "layer_selection": "per split, the layer with the best mean score over the other splits",
            "protocol": next(iter(scores.values())).attrs["protocol"],
        },
    )
    if grouped:
        summary = summary.assign_coords(solved_group=list(SOLVED_GROUPS))
        for name, (dims_, values) in grouped.items():
            summary[name] = (dims_, values)
    return summary, pd.DataFrame(rows)


def _grouped_summary(scores, models, states, seeds, regions) -> dict:
    """Early/late-solved scores and decoding of every run (mean and s.e.m. over splits)."""
    first = next(iter(scores.values()))
    if "score_group" not in first:
        return {}
    n_bins = first.sizes["time_bin"]
    shape = (len(models), len(states), len(seeds), len(SOLVED_GROUPS), len(regions))
    out = {
        "score_window_group": np.full(shape, np.nan),
        "score_window_group_sem": np.full(shape, np.nan),
        "score_group": np.full((*shape, n_bins), np.nan),
        "score_group_sem": np.full((*shape, n_bins), np.nan),
        "decoding_group": np.full((*shape, n_bins), np.nan),
    }
    for (model, state, seed), ds in scores.items():
        at = (models.index(model), states.index(state), seeds.index(seed))
        window = (
            ds["score_window_group"]
            .sel(region=regions)
            .transpose("solved_group", "region", "split")
        )
        out["score_window_group"][at], out["score_window_group_sem"][at] = mean_sem(window.values)
        per_bin = (
            ds["score_group"]
            .sel(region=regions)
            .transpose("solved_group", "region", "time_bin", "split")
        )
        out["score_group"][at], out["score_group_sem"][at] = mean_sem(per_bin.values)
        decoding = (
            ds["decoding_group"].sel(region=regions).transpose("solved_group", "region", "time_bin")
        )
        out["decoding_group"][at] = decoding.values
    dims = ("model", "state", "seed", "solved_group", "region")
    return {
        name: ((*dims, "time_bin") if values.ndim == 6 else dims, values)
        for name, values in out.items()
    }


# --- the paper's claims, as numbers with their uncertainty over seeds ----------------------------


def _over_seeds(values: np.ndarray) -> tuple[float, float]:
    """Mean and s.e.m. over seeds (axis 0); the s.e.m. is nan for one seed."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan, np.nan
    sem = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
    return float(values.mean()), float(sem)


def paper_claims(
    summary: xr.Dataset,
    late_start_ms: int,
    fraction_of_ceiling: float = 0.6,
    times: xr.Dataset | None = None,
):
    """Nayebi et al.'s claims measured on one summary (:func:`summarize`), one row per claim and
    model/region: ``value`` and ``sem`` over training seeds, and whether it ``holds``.

    - ``trained_minus_untrained``: best-layer raw r, trained minus untrained (> 0 holds);
    - ``v4_layer_before_it``: depth of the V4 best layer minus the IT one (< 0 holds);
    - ``fraction_of_ceiling``: best-layer raw r / ceiling c of the best trained model per region
      (>= ``fraction_of_ceiling`` holds);
    - ``late_over_peak``: a trained model's mean per-bin score in bins from ``late_start_ms`` over
      its peak in the earlier bins; ``late_convrnn_minus_cnn``: the late mean score of the trained
      ConvRNN minus the CNN's (> 0 holds: the recurrent model holds its predictivity late).

    With ``times`` (:func:`insilico.analysis.solution_times.solution_time_dataset`, from the
    recordings, no model involved): ``decoding_rises``, mean per-image category performance in
    the late bins minus the early ones (> 0 holds); where images have an ``image_kind``,
    ``hard_solved_later``, median solution time of hard minus clean images, unsolved images
    counted as solved after the last bin (> 0 holds), and ``solved_share`` per kind.
    """
    layers = [str(layer) for layer in summary["layer"].values]
    models = [str(m) for m in summary["model"].values]
    states = [str(s) for s in summary["state"].values]
    rows = []

    def add(claim, model, region, values, holds):
        mean, sem = _over_seeds(values)
        rows.append(
            {
                "claim": claim,
                "model": model,
                "region": region,
                "value": mean,
                "sem": sem,
                "n_seeds": int(np.isfinite(np.asarray(values, float)).sum()),
                "holds": bool(holds(mean)) if np.isfinite(mean) else False,
            }
        )

    best = summary["best_score"]
    starts = summary["time_bin_start"].values
    late = starts >= late_start_ms
    early = (starts < late_start_ms) & (starts >= int(summary.attrs["window_start_ms"]))
    for model in models:
        if {"trained", "untrained"} <= set(states):
            for region in summary["region"].values:
                gain = best.sel(model=model, region=region)
                add(
                    "trained_minus_untrained",
                    model,
                    str(region),
                    (gain.sel(state="trained") - gain.sel(state="untrained")).values,
                    lambda v: v > 0,
                )
        if "trained" not in states:
            continue
        chosen = summary["best_layer"].sel(model=model, state="trained")
        if {"V4", "IT"} <= set(summary["region"].values):
            depth = {
                r: [layers.index(str(x)) for x in chosen.sel(region=r).values] for r in ("V4", "IT")
            }
            add(
                "v4_layer_before_it",
                model,
                "V4-IT",
                np.subtract(depth["V4"], depth["IT"]),
                lambda v: v < 0,
            )
        curve = summary["best_score_t"].sel(model=model, state="trained")
        for region in summary["region"].values:
            per_seed = curve.sel(region=region).values  # (seed, bin)
            ratio = np.nanmean(per_seed[:, late], 1) / np.nanmax(per_seed[:, early], 1)
            add("late_over_peak", model, str(region), ratio, lambda v: True)
    if "trained" in states:
        for region in summary["region"].values:
            c = float(summary["ceiling"].sel(region=region))
            scores = best.sel(state="trained", region=region)  # (model, seed)
            top = str(scores["model"].values[int(np.nanargmax(scores.mean("seed").values))])
            add(
                "fraction_of_ceiling",
                top,
                str(region),
                scores.sel(model=top).values / c,
                lambda v: v >= fraction_of_ceiling,
            )
        if {"cnn", "convrnn"} <= set(models):
            curve = summary["best_score_t"].sel(state="trained")
            for region in summary["region"].values:
                late_mean = np.nanmean(
                    curve.sel(region=region).values[..., late], -1
                )  # (model, seed)
                difference = late_mean[models.index("convrnn")] - late_mean[models.index("cnn")]
                add(
                    "late_convrnn_minus_cnn",
                    "convrnn-cnn",
                    str(region),
                    difference,
                    lambda v: v > 0,
                )
    if times is not None:
        rows += _decoding_claims(times, late_start_ms, int(summary.attrs["window_start_ms"]))
    return pd.DataFrame(rows)


def _decoding_claims(times: xr.Dataset, late_start_ms: int, window_start_ms: int) -> list[dict]:
    """Rows of :func:`paper_claims` measured on the recordings' solution times."""
    region = str(times.attrs["region"])
    starts = times["time_bin_start"].values
    performance = times["performance"].values
    late = starts >= late_start_ms
    early = (starts < late_start_ms) & (starts >= window_start_ms)
    rise = float(performance[:, late].mean() - performance[:, early].mean())

    def row(claim, model, value, holds):
        return {
            "claim": claim,
            "model": model,
            "region": region,
            "value": value,
            "sem": np.nan,
            "n_seeds": 0,
            "holds": bool(holds),
        }

    rows = [row("decoding_rises", "recordings", rise, rise > 0)]
    if "image_kind" not in times.coords:
        return rows
    kinds = times["image_kind"].values.astype(str)
    last = float(times["time_bin_end"].values[-1])
    solved = np.nan_to_num(times["solution_time_ms"].values, nan=last)
    delay = float(np.median(solved[kinds != "clean"]) - np.median(solved[kinds == "clean"]))
    rows.append(row("hard_solved_later", "recordings", delay, delay > 0))
    for kind in np.unique(kinds):
        share = float(np.isfinite(times["solution_time_ms"].values[kinds == kind]).mean())
        rows.append(row(f"solved_share_{kind}", "recordings", share, True))
    return rows
