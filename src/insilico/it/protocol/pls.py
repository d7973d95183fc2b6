"""Batched partial least squares (NIPALS, no scaling) and the held-out r it gives.

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

from typing import TYPE_CHECKING

import numpy as np

from insilico.core.stats import pearson_torch

if TYPE_CHECKING:
    import torch

N_COMPONENTS = 25


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

    batch, n_train = _check_shapes(X, Y, train_masks, n_components)
    p, q = X.shape[2], Y.shape[2]
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

    start = _start_vectors(Y, m, y_mean, n_train)  # (B, S, q)

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


def _check_shapes(X, Y, train_masks, n_components: int) -> tuple[int, int]:
    """The batch size and the training count of every split, or a ValueError naming the misfit."""
    import torch  # lazily: the data and summary jobs need no torch

    if X.ndim != 3 or Y.ndim != 3 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X (B, N, p) and Y (B, N, q) must share N; got {tuple(X.shape)}, {tuple(Y.shape)}"
        )
    batch = torch.broadcast_shapes(X.shape[:1], Y.shape[:1])[0]
    n_per_split = train_masks.sum(1)
    if not bool((n_per_split == n_per_split[0]).all()):
        raise ValueError("every split must train on the same number of stimuli")
    n_train, p = int(n_per_split[0]), X.shape[2]
    if not 1 <= n_components <= min(n_train - 1, p):
        raise ValueError(
            f"n_components={n_components} must be between 1 and min(n_train - 1, n_features) = "
            f"{min(n_train - 1, p)}"
        )
    return batch, n_train


def _start_vectors(Y, m, y_mean, n_train: int):
    """sklearn starts the power iteration at the first Y column that is not constant over the
    split's training rows: that column's unit vector, per batch entry and split ``(B, S, q)``."""
    import torch  # lazily: the data and summary jobs need no torch

    eps = torch.finfo(m.dtype).eps  # m has X's dtype
    y_var = torch.einsum("sn,bnq->bsq", m, (Y - Y.mean(1, keepdim=True)) ** 2)
    y_var = y_var - n_train * (y_mean - Y.mean(1)[:, None, :]) ** 2
    start_column = (y_var > eps * (1 + y_var.amax(-1, keepdim=True))).to(torch.int8).argmax(-1)
    return torch.nn.functional.one_hot(start_column, Y.shape[2]).to(m.dtype)


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
    return held_out_r(pred, y_test).cpu().numpy()


def held_out_r(pred, target):
    """Pearson r over the held-out stimuli (axis -2), with 0 for a constant prediction of a
    varying target: a layer silent in a time bin (a ConvRNN's early layer after the image goes
    off) predicts none of the neuroids' variance there, which scores 0, not nan (undefined). A
    constant target stays nan."""
    import torch

    r = pearson_torch(pred, target, dim=-2)
    silent = torch.isnan(pearson_torch(pred, pred, dim=-2))
    varying = ~torch.isnan(pearson_torch(target, target, dim=-2))
    return torch.where(silent & varying, torch.zeros_like(r), r)


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
                    held_out_r(pred[:, split, rows], y_test[:, split, rows]).cpu().numpy()
                )
    return out


def effective_components(n_components: int, n_train: int, n_features: int) -> int:
    return min(n_components, n_train - 1, n_features)
