"""Exact solvers for the anchor-point problem of manifold capacity, batched and one at a time.

For one manifold of M points x_mu (rows of ``points``) and a Gaussian sample t, the replica theory
needs F(t) = min_v ||v - t||^2 subject to x_mu . v >= kappa for all mu (Chung, Lee & Sompolinsky
2018, eq. for alpha_M^-1 = <F(t)>_t). Its dual is a nonnegative quadratic programme in the
multipliers lambda >= 0,

    min_lambda  1/2 lambda' G lambda + lambda' (X t - kappa),   G = X X',   v = t + X' lambda,

whose Hessian G is the *same for every sample t of a manifold*. :func:`solve_batched` exploits
that: block principal pivoting (Kim & Park 2011, written for nonnegative least squares with many
right-hand sides) on all samples at once, each pivoting step one batched linear solve. Every
answer is checked against the KKT conditions of the primal problem; any sample that fails (a
degenerate G, pivoting that did not settle) is re-solved by the one-sample reference,
:func:`solve_one` (Goldfarb-Idnani dual active set from the ``quadprog`` package), so the batched
result is exact to the KKT tolerance whatever happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import quadprog
from scipy.optimize import nnls

#: relative tolerance of the KKT check (feasibility, dual feasibility, complementarity)
KKT_TOL = 1e-7


@dataclass(frozen=True)
class AnchorSolution:
    """Optimal multipliers and primal points for a batch of samples of one manifold."""

    multipliers: np.ndarray  # (n_t, M), lambda >= 0
    v: np.ndarray  # (n_t, D), optimal v = t + X' lambda
    n_fallback: int  # samples that needed the one-sample reference solver


def solve_one(points: np.ndarray, t: np.ndarray, kappa: float) -> np.ndarray:
    """Multipliers lambda (M,) of one sample, by quadprog's dual active-set method (exact).

    quadprog refuses some degenerate problems (many nearly dependent points in few dimensions)
    as "inconsistent" although v = 0 is feasible at kappa = 0; there the dual is exactly the
    nonnegative least-squares problem min ||t + X' lambda|| (Lawson-Hanson, scipy), which is
    robust to degeneracy.
    """
    dim = points.shape[1]
    t = np.asarray(t, float)
    try:
        # quadprog: min 1/2 v'Iv - t'v  s.t.  C'v >= b, with C = points' (D, M)
        _, _, _, _, multipliers, _ = quadprog.solve_qp(
            np.eye(dim), t, np.ascontiguousarray(points.T), np.full(len(points), kappa)
        )
    except ValueError:
        if kappa != 0:
            raise
        multipliers, _ = nnls(np.ascontiguousarray(points.T), -t, maxiter=50 * len(points))
    return np.maximum(multipliers, 0.0)


def solve_reference(points: np.ndarray, samples: np.ndarray, kappa: float) -> AnchorSolution:
    """One sample at a time with :func:`solve_one`: the slow, simple reference."""
    multipliers = np.stack([solve_one(points, t, kappa) for t in samples])
    return AnchorSolution(multipliers, samples + multipliers @ points, n_fallback=len(samples))


def kkt_ok(points: np.ndarray, samples: np.ndarray, multipliers: np.ndarray, kappa: float):
    """Per sample: do (lambda, v = t + X' lambda) satisfy the KKT conditions to tolerance?"""
    v = samples + multipliers @ points
    slack = v @ points.T - kappa  # (n_t, M), must be >= 0, and 0 where lambda > 0
    scale = 1.0 + np.abs(kappa) + np.linalg.norm(samples, axis=1, keepdims=True)
    feasible = np.all(slack >= -KKT_TOL * scale, axis=1)
    complementary = np.all(np.abs(multipliers * slack) <= KKT_TOL * scale**2, axis=1)
    return feasible & complementary & np.all(multipliers >= 0, axis=1)


def _masked_solve(gram: np.ndarray, linear: np.ndarray, passive: np.ndarray) -> np.ndarray:
    """Solve G_FF x_F = -c_F for each sample's passive set F; x = 0 off F (one batched solve)."""
    n_t, m = passive.shape
    both = passive[:, :, None] & passive[:, None, :]
    matrices = np.where(both, gram[None], 0.0)
    matrices[:, np.arange(m), np.arange(m)] += ~passive  # identity on the active (zero) set
    rhs = np.where(passive, -linear, 0.0)
    return np.linalg.solve(matrices, rhs[..., None])[..., 0]


def solve_batched(
    points: np.ndarray, samples: np.ndarray, kappa: float, max_iter: int = 100
) -> AnchorSolution:
    """All samples of one manifold at once: block principal pivoting + KKT check + fallback.

    ``points`` (M, D), ``samples`` (n_t, D). G gets a ridge of 1e-12 of its trace so that the
    masked systems stay solvable when points are linearly dependent; the KKT check on the primal
    decides what is accepted.
    """
    gram = points @ points.T
    gram = gram + 1e-12 * np.trace(gram) * np.eye(len(gram))
    linear = samples @ points.T - kappa  # (n_t, M)
    n_t, m = linear.shape
    passive = np.zeros((n_t, m), bool)
    x = np.zeros((n_t, m))
    best_infeasible = np.full(n_t, m + 1)
    backup = np.full(n_t, 3)
    done = np.zeros(n_t, bool)
    for _ in range(max_iter):
        todo = ~done
        if not todo.any():
            break
        x[todo] = _masked_solve(gram, linear[todo], passive[todo])
        gradient = x[todo] @ gram + linear[todo]
        wrong = (passive[todo] & (x[todo] < -1e-14)) | (~passive[todo] & (gradient < -1e-12))
        count = wrong.sum(axis=1)
        index = np.flatnonzero(todo)
        done[index[count == 0]] = True
        improved = count < best_infeasible[index]
        best_infeasible[index[improved]] = count[improved]
        backup[index[improved]] = 3
        full = improved | (backup[index] > 0)
        backup[index[~improved & full]] -= 1
        flip = np.where(full[:, None], wrong, False)
        last = m - 1 - np.argmax(wrong[:, ::-1], axis=1)  # Murty's rule: the largest index only
        single = ~full & (count > 0)
        flip[np.flatnonzero(single), last[single]] = True
        passive[index] ^= flip
    multipliers = np.maximum(x, 0.0)
    bad = np.flatnonzero(~(done & kkt_ok(points, samples, multipliers, kappa)))
    for i in bad:
        multipliers[i] = solve_one(points, samples[i], kappa)
    return AnchorSolution(multipliers, samples + multipliers @ points, n_fallback=len(bad))
