"""Convolutive NMF fitted three ways (after Degleris, Antin, Ganguli & Williams 2019).

Data X (N x T) is modelled as X_hat = sum_l W[:, :, l] @ shift(H, l), with W (N x K x L) and
H (K x T) nonnegative and shift(H, l)[:, t] = H[:, t - l] (zero before the start). All methods
update H then W in each iteration, minimise the same objective, the relative residual
||X - X_hat||_F / ||X||_F, share one stopping rule (see :func:`fit`)
and renormalise each motif to unit norm after every iteration (the loss is unchanged by it):

* ``mu``: Lee-Seung style multiplicative updates (the usual baseline);
* ``hals``: exact coordinate descent. Each column W[:, k, l] has a closed-form nonnegative
  update (computed from the Gram matrix of the shifted H). For H, entries of one row whose
  times differ by L or more touch disjoint columns of X, so all entries t = c, c + L, c + 2L, ...
  are updated exactly and at once;
* ``anls``: alternating nonnegative least squares: the H subproblem by accelerated projected
  gradient (FISTA) for ``inner`` steps, warm-started; the W subproblem solved exactly, row by
  row, with scipy's active-set NNLS on the Cholesky factor of the Gram matrix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import linear_sum_assignment, nnls

EPS = 1e-12


def reconstruct(w, h):
    """X_hat = sum over lags l of W[:, :, l] @ shift(H, l)."""
    n, _, n_lags = w.shape
    t = h.shape[1]
    out = np.zeros((n, t))
    for lag in range(min(n_lags, t)):
        out[:, lag:] += w[:, :, lag] @ h[:, : t - lag]
    return out


def transpose_conv(w, r):
    """Adjoint of H -> reconstruct(W, H) applied to r: sum_l W_l^T shift(r, -l)."""
    _, k, n_lags = w.shape
    t = r.shape[1]
    out = np.zeros((k, t))
    for lag in range(min(n_lags, t)):
        out[:, : t - lag] += w[:, :, lag].T @ r[:, lag:]
    return out


def shifted_stack(h, n_lags):
    """Rows shift(h_k, l), ordered k-major: (K * L, T), matching w.reshape(N, K * L)."""
    k, t = h.shape
    out = np.zeros((k, n_lags, t))
    for lag in range(min(n_lags, t)):
        out[:, lag, lag:] = h[:, : t - lag]
    return out.reshape(k * n_lags, t)


def loss(x, w, h):
    """The shared objective: ||X - X_hat||_F / ||X||_F."""
    return float(np.linalg.norm(x - reconstruct(w, h)) / np.linalg.norm(x))


def renormalise(w, h):
    """Scale each motif to unit Frobenius norm and its row of H inversely (loss unchanged)."""
    norms = np.sqrt((w**2).sum(axis=(0, 2))) + EPS
    return w / norms[None, :, None], h * norms[:, None]


def mu_step(x, w, h):
    """One multiplicative update of H, then of W."""
    h = h * transpose_conv(w, x) / (transpose_conv(w, reconstruct(w, h)) + EPS)
    xs = shifted_stack(h, w.shape[2])
    n, k, n_lags = w.shape
    num = (x @ xs.T).reshape(n, k, n_lags)
    den = (reconstruct(w, h) @ xs.T).reshape(n, k, n_lags)
    return w * num / (den + EPS), h


def hals_step(x, w, h):
    """One sweep of exact coordinate updates over H, then over the columns of W.

    H first: from a random start, fitting W exactly to a random H first zeroes much of W and
    leaves HALS in a poor basin (measured: relative loss 0.29 against 0.19 on planted data).
    """
    h = _hals_h(x, w, h)
    return _hals_w(x, w, h), h


def _lag_gram(w):
    """G[a, b, i] = sum_l W[:, a, l] . W[:, b, l + d] for lag offsets d = i - L, i = 0 .. 2L - 1."""
    n_lags = w.shape[2]
    full = np.einsum("nal,nbm->ablm", w, w)
    return np.stack(
        [np.trace(full, offset=i - n_lags, axis1=2, axis2=3) for i in range(2 * n_lags)], axis=-1
    )


def _hals_h(x, w, h):
    """Exact coordinate updates of H, L-strided entries of a row at once.

    Entries of a row L or more bins apart touch disjoint columns of X, so they are updated
    exactly together. The gradient transpose_conv(W, X - X_hat) is kept up to date through the
    lag Gram matrix of W (O(K L) per changed entry, not O(N L)). An entry whose window runs past
    T sees only the columns before T, so those few get their gradient from an explicitly kept
    residual of the last 2L columns.
    """
    n, k_motifs, n_lags = w.shape
    t = h.shape[1]
    h = h.copy()
    resid = x - reconstruct(w, h)
    grad = np.zeros((k_motifs, t + 3 * n_lags))  # time s stored at column n_lags + s
    grad[:, n_lags : n_lags + t] = transpose_conv(w, resid)
    tail0 = max(0, t - 2 * n_lags)
    tail = resid[:, tail0:].copy()
    gram = _lag_gram(w)
    for k in range(k_motifs):
        wk = w[:, k, :]
        partial = np.r_[0.0, np.cumsum((wk**2).sum(axis=0))]  # norm of the first c lags
        for c in range(min(n_lags, t)):
            starts = np.arange(c, t, n_lags)
            size = starts.size * n_lags
            g = grad[k, n_lags + starts].copy()
            last = starts[-1]
            if last + n_lags > t:
                g[-1] = np.sum(wk[:, : t - last] * tail[:, last - tail0 :])
            norm = partial[np.minimum(n_lags, t - starts)]
            new = np.maximum(0.0, h[k, starts] + g / np.maximum(norm, EPS))
            delta = new - h[k, starts]
            after = grad[:, n_lags + c : n_lags + c + size].reshape(k_motifs, starts.size, n_lags)
            after -= delta[None, :, None] * gram[:, k, None, n_lags:]
            before = grad[:, c : c + size].reshape(k_motifs, starts.size, n_lags)
            before -= delta[None, :, None] * gram[:, k, None, :n_lags]
            for jj in np.flatnonzero(starts + n_lags > tail0):
                a, b = starts[jj], min(starts[jj] + n_lags, t)
                lo = max(a, tail0)
                tail[:, lo - tail0 : b - tail0] -= delta[jj] * wk[:, lo - a : b - a]
            h[k, starts] = new
    return h


def _hals_w(x, w, h):
    """Exact coordinate updates of the columns of W (N x K*L) from the Gram of shifted H.

    With A = shifted_stack(H) the W subproblem is min ||X - W A||; column j moves by
    (X A^T - W A A^T)_j / (A A^T)_jj, clipped at 0: O(N (K L)^2) per sweep instead of O(N T K L).
    """
    n, k, n_lags = w.shape
    xs = shifted_stack(h, n_lags)
    gram, cross = xs @ xs.T, x @ xs.T
    flat = w.reshape(n, k * n_lags).copy()
    for j in range(k * n_lags):
        if gram[j, j] > EPS:
            step = (cross[:, j] - flat @ gram[:, j]) / gram[j, j]
            flat[:, j] = np.maximum(0.0, flat[:, j] + step)
    return flat.reshape(n, k, n_lags)


def _nnls_rows(gram, cross):
    """min_w ||x - A w|| with w >= 0 per row of cross = X A, from the Gram A^T A (Cholesky form)."""
    chol = np.linalg.cholesky(gram + 1e-10 * np.trace(gram) / gram.shape[0] * np.eye(len(gram)))
    rhs = solve_triangular(chol, cross.T, lower=True)
    return np.stack([nnls(chol.T, rhs[:, i])[0] for i in range(cross.shape[0])])


def anls_step(x, w, h, inner=10):
    """``inner`` FISTA steps for H given W, then exact NNLS for W given H."""
    n, k, n_lags = w.shape
    h = _fista_h(x, w, h, inner)
    xs = shifted_stack(h, n_lags)
    return _nnls_rows(xs @ xs.T, x @ xs.T).reshape(n, k, n_lags), h


def _fista_h(x, w, h, inner):
    """Accelerated projected gradient on H with step 1 / (sum_l ||W_l||_2)^2 (a Lipschitz bound)."""
    n_lags = w.shape[2]
    lip = sum(np.linalg.norm(w[:, :, lag], 2) for lag in range(n_lags)) ** 2 + EPS
    y, h_old, step = h.copy(), h.copy(), 1.0
    for _ in range(inner):
        grad = transpose_conv(w, reconstruct(w, y) - x)
        h_new = np.maximum(0.0, y - grad / lip)
        step_new = (1 + np.sqrt(1 + 4 * step**2)) / 2
        y = h_new + (step - 1) / step_new * (h_new - h_old)
        h_old, step = h_new, step_new
    return h_old


STEPS = {"mu": mu_step, "hals": hals_step, "anls": anls_step}


@dataclass
class CNMFResult:
    w: np.ndarray
    h: np.ndarray
    times: np.ndarray  # wall-clock seconds after each iteration (0 at the start)
    losses: np.ndarray  # objective after each iteration (first entry: the initialisation)


def initialise(x, k, n_lags, seed):
    """Nonnegative random start scaled so that X_hat has X's mean."""
    rng = np.random.default_rng(seed)
    w = rng.random((x.shape[0], k, n_lags))
    h = rng.random((k, x.shape[1]))
    scale = np.sqrt(x.mean() / max(reconstruct(w, h).mean(), EPS))
    return renormalise(w * scale, h * scale)


def fit(
    x, k, n_lags, method, seed=0, max_iter=200, tol=1e-4, max_time=np.inf, init=None, patience=10
):
    """Fit CNMF with ``method`` (mu, hals, anls) from a seeded start (or ``init`` = (W, H)).

    Stops when the loss fell by less than a fraction ``tol`` over the last ``patience``
    iterations (a window, because coordinate descent crawls across plateaus that a one-step rule
    mistakes for convergence), or after ``max_iter`` iterations or ``max_time`` seconds.
    """
    step = STEPS[method]
    w, h = init if init is not None else initialise(x, k, n_lags, seed)
    losses, times = [loss(x, w, h)], [0.0]
    start = time.perf_counter()
    for _ in range(max_iter):
        w, h = renormalise(*step(x, w, h))
        times.append(time.perf_counter() - start)
        losses.append(loss(x, w, h))
        before = losses[max(0, len(losses) - 1 - patience)]
        stalled = len(losses) > patience and before - losses[-1] < tol * before
        if stalled or times[-1] > max_time:
            break
    return CNMFResult(w, h, np.asarray(times), np.asarray(losses))


def time_to_reach(result: CNMFResult, target: float) -> float:
    """First wall-clock time at which the loss is at or below ``target`` (inf if never)."""
    hit = np.flatnonzero(result.losses <= target)
    return float(result.times[hit[0]]) if hit.size else float("inf")


def planted_sequences(rng, n, k, n_lags, t, rate=0.01, width=1.5, noise=0.1):
    """Each neuron joins one of K sequences at a random lag; events drive the sequences.

    Returns (X, W_true, H_true); X = max(0, X_hat + noise * N(0, 1)).
    """
    member = rng.integers(0, k, n)
    peak = rng.uniform(0, n_lags - 1, n)
    lags = np.arange(n_lags)
    w = np.zeros((n, k, n_lags))
    w[np.arange(n), member, :] = np.exp(-0.5 * ((lags[None, :] - peak[:, None]) / width) ** 2)
    h = (rng.random((k, t)) < rate) * (1 + rng.exponential(1.0, (k, t)))
    x = np.maximum(0.0, reconstruct(w, h) + noise * rng.standard_normal((n, t)))
    return x, w, h


def motif_similarity(w_est, w_true):
    """Cosine similarity of matched motifs, maximised over relative lag shifts.

    Motifs are compared up to permutation (Hungarian on the similarity) and shift (zero-padded
    shifts of -L+1 .. L-1), which CNMF cannot identify. Returns the matched similarities (K,).
    """
    n, k, n_lags = w_true.shape
    sim = np.zeros((k, k))
    for i in range(k):
        a = w_est[:, i, :]
        for j in range(k):
            b = w_true[:, j, :]
            best = 0.0
            for d in range(-n_lags + 1, n_lags):
                aa = a[:, max(0, d) : n_lags + min(0, d)]
                bb = b[:, max(0, -d) : n_lags + min(0, -d)]
                den = np.linalg.norm(a) * np.linalg.norm(b) + EPS
                best = max(best, float((aa * bb).sum() / den))
            sim[i, j] = best
    rows, cols = linear_sum_assignment(-sim)
    return sim[rows, cols]
