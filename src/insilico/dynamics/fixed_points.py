"""Fixed points of recurrent networks, found for many states of many networks at once.

The method is that of Sussillo & Barak (2013) as packaged in mattgolub/fixed-point-finder: for a
network ``h_{t+1} = F(h_t, x)`` and a constant input ``x*``, minimise the speed

    q(h) = 0.5 ||F(h, x*) - h||^2

from many initial states (states visited on task trials plus a little noise). Minima with q = 0
are fixed points; small positive minima are slow points. Then duplicates are merged, points far
from where the network lives are dropped, and the Jacobian dF/dh at every point is
eigen-decomposed: a point is stable when every eigenvalue lies inside the unit circle.

What is different here is the batching. ``step`` maps states ``(G, K, S)`` with inputs
``(G, K, I)`` to next states, where ``G`` indexes networks (a stack of :mod:`cells`) and ``K``
initial states; every point of every network is one row of one batch, optimised together on the
device. Each point keeps its *own* Adam moments, learning rate and stopping state (the learning
rate grows after a step that lowered its q and shrinks after one that did not; a point stops when
q < ``tol_q`` or q changes by less than ``tol_dq``, and is frozen from then on), so the batch
gives the same points as optimising each state alone - only faster. Jacobians come from autograd
on the batch-summed map (``S`` backward passes for all points at once).

All computation is in float64: q ~ 1e-12 is below float32 resolution for states of order 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch

StepFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class FixedPointOptions:
    """Settings of the search (config ``dynamics.fixed_points``)."""

    learning_rate: float = 0.1  # initial Adam step size per point
    lr_growth: float = 1.1  # factor after a step that lowered q
    lr_decay: float = 0.5  # factor after a step that did not
    max_iters: int = 1000
    newton_steps: int = 5  # Newton refinements after the gradient search (0: none)
    tol_q: float = 1e-12  # stop a point when q is below this ...
    tol_dq: float = 1e-16  # ... or when q changed by less than this in one step
    keep_q: float = 1e-6  # keep points with q below this (fixed and slow points)
    unique_tolerance: float = 1e-3  # points closer than this (Euclidean) are one point
    outlier_scale: float = 10.0  # drop points farther from the initial states' centroid than
    # this many times the initial states' mean distance from it
    slow_q: float = 1e-5  # snapshot each search where q first falls below this ...
    slow_spacing: float = 0.1  # ... and keep snapshots at least this far apart (0: none)

    @classmethod
    def from_config(cls, settings: dict) -> FixedPointOptions:
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in settings.items() if key in names})


@dataclass
class FixedPoints:
    """Points found, one row per point ``M``; ``group`` says which network (first step dim)."""

    group: torch.Tensor  # (M,) long, network index
    key: torch.Tensor  # (M,) long, caller's label of the input condition
    states: torch.Tensor  # (M, S)
    inputs: torch.Tensor  # (M, I)
    q: torch.Tensor  # (M,)
    n_iters: torch.Tensor  # (M,) iterations the point was optimised for
    jacobians: torch.Tensor  # (M, S, S)
    eigenvalues: torch.Tensor  # (M, S) complex, by decreasing modulus
    lead_vectors: torch.Tensor  # (M, S) real part of the leading eigenvector, unit norm
    snapshot: torch.Tensor  # (M,) bool, a slow point captured on the way (see find_fixed_points)

    def __len__(self) -> int:
        return int(self.group.numel())

    @property
    def max_abs_eigenvalue(self) -> torch.Tensor:
        return self.eigenvalues.abs()[:, 0] if len(self) else self.q.new_zeros(0)

    @property
    def stable(self) -> torch.Tensor:
        return self.max_abs_eigenvalue < 1

    @property
    def n_unstable(self) -> torch.Tensor:
        return (self.eigenvalues.abs() > 1).sum(dim=1)


def time_constants(eigenvalues: torch.Tensor, dt: float = 1.0) -> torch.Tensor:
    """Decay time constants ``-dt / log|lambda|`` (inf for |lambda| = 1, negative if unstable)."""
    return -dt / torch.log(eigenvalues.abs())


@dataclass
class Search:
    """Where every initial state ended, and where it first became slow."""

    states: torch.Tensor  # (G, K, S) after the gradient search and Newton refinement
    q: torch.Tensor  # (G, K)
    n_iters: torch.Tensor  # (G, K) gradient steps taken
    snapshots: torch.Tensor  # (G, K, S) state when q first fell below slow_q (nan: never)
    snapshot_q: torch.Tensor  # (G, K) q there (inf: never)
    snapshot_iters: torch.Tensor  # (G, K) gradient steps taken until then


def optimize(
    step: StepFunction,
    initial_states: torch.Tensor,
    inputs: torch.Tensor,
    options: FixedPointOptions,
) -> Search:
    """Minimise q from every initial state ``(G, K, S)`` at once, each point on its own schedule."""
    states = initial_states.detach().clone()
    inputs = inputs.detach()
    m, v = torch.zeros_like(states), torch.zeros_like(states)
    lr = torch.full(
        states.shape[:-1], options.learning_rate, dtype=states.dtype, device=states.device
    )
    active = torch.ones(states.shape[:-1], dtype=torch.bool, device=states.device)
    previous = torch.full_like(lr, math.inf)
    n_iters = torch.zeros(states.shape[:-1], dtype=torch.long, device=states.device)
    snapshots = torch.full_like(states, math.nan)
    snapshot_q = torch.full_like(lr, math.inf)
    snapshot_iters = torch.zeros_like(n_iters)
    beta1, beta2, eps = 0.9, 0.999, 1e-12
    for _ in range(options.max_iters):
        h = states.requires_grad_()
        q = 0.5 * (step(h, inputs) - h).square().sum(-1)
        (grad,) = torch.autograd.grad(q.sum(), h)
        states = states.detach()
        with torch.no_grad():
            q = q.detach()
            first_slow = torch.isinf(snapshot_q) & (q < options.slow_q)
            snapshots = torch.where(first_slow.unsqueeze(-1), states, snapshots)
            snapshot_q = torch.where(first_slow, q, snapshot_q)
            snapshot_iters = torch.where(first_slow, n_iters, snapshot_iters)
            done = (q < options.tol_q) | ((previous - q).abs() < options.tol_dq)
            active &= ~done
            if not active.any():
                break
            lr = torch.where(q < previous, lr * options.lr_growth, lr * options.lr_decay)
            previous = torch.where(active, q, previous)
            grad = grad * active.unsqueeze(-1)
            m = torch.where(active.unsqueeze(-1), beta1 * m + (1 - beta1) * grad, m)
            v = torch.where(active.unsqueeze(-1), beta2 * v + (1 - beta2) * grad.square(), v)
            # Bias correction by each point's own step count (points stop at different times).
            n_iters += active
            count = n_iters.clamp(min=1).unsqueeze(-1).to(states.dtype)
            update = (m / (1 - beta1**count)) / ((v / (1 - beta2**count)).sqrt() + eps)
            states = states - (lr * active).unsqueeze(-1) * update
    states = newton_polish(step, states.detach(), inputs, options.newton_steps)
    with torch.no_grad():
        q = 0.5 * (step(states, inputs) - states).square().sum(-1)
    return Search(states, q, n_iters, snapshots, snapshot_q, snapshot_iters)


def newton_polish(
    step: StepFunction, states: torch.Tensor, inputs: torch.Tensor, n_steps: int
) -> torch.Tensor:
    """Newton steps ``h <- h - (J - I)^-1 (F(h) - h)``, each kept only where it lowers q.

    Gradient descent crawls on the flat floor of q around a fixed point (gated cells saturate);
    Newton's method converges there in a few steps. Near slow points that are not fixed points
    (q > 0 at the minimum) or where ``J - I`` is singular (line attractors) the step would jump
    away; the acceptance test leaves those points where the gradient search put them.
    """
    eye = torch.eye(states.shape[-1], dtype=states.dtype, device=states.device)
    for _ in range(n_steps):
        with torch.no_grad():
            residual = step(states, inputs) - states
            q = 0.5 * residual.square().sum(-1)
        jacobian = jacobians(step, states, inputs)
        delta, info = torch.linalg.solve_ex(jacobian - eye, -residual.unsqueeze(-1))
        candidate = states + delta.squeeze(-1)
        with torch.no_grad():
            q_new = 0.5 * (step(candidate, inputs) - candidate).square().sum(-1)
        better = (info == 0) & torch.isfinite(q_new) & (q_new < q)
        states = torch.where(better.unsqueeze(-1), candidate, states)
    return states


def unique_mask(states: torch.Tensor, q: torch.Tensor, same: torch.Tensor, tolerance: float):
    """Keep a point unless a point of lower q (ties: lower index) in its class lies within ``tolerance``.

    ``states (G, K, S)``, ``q (G, K)``, ``same (G, K, K)`` bool: which points may be merged
    (same network and condition, both candidates). Vectorised over every pair of every network.
    """
    distance = torch.cdist(states, states)
    k = q.shape[-1]
    index = torch.arange(k, device=q.device)
    better = (q.unsqueeze(-1) < q.unsqueeze(-2)) | (
        (q.unsqueeze(-1) == q.unsqueeze(-2)) & (index.view(-1, 1) < index.view(1, -1))
    )  # better[g, j, i]: point j beats point i
    shadowed = (better & same & (distance < tolerance)).any(dim=-2)
    return ~shadowed


def jacobians(step: StepFunction, states: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """dF/dh at every point: ``(G, K, S)`` -> ``(G, K, S, S)`` (rows: outputs, columns: inputs).

    Points do not interact, so the gradient of the batch-summed output ``sum_{g,k} F_i(h_gk)``
    with respect to all states holds row ``i`` of every point's Jacobian: ``S`` backward passes
    through one forward pass give all Jacobians of the batch (no per-point loop).
    """
    h = states.detach().requires_grad_()
    out = step(h, inputs.detach())
    rows = [
        torch.autograd.grad(out[..., i].sum(), h, retain_graph=i + 1 < out.shape[-1])[0]
        for i in range(out.shape[-1])
    ]
    return torch.stack(rows, dim=-2)


def eigen(jacobian: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues by decreasing modulus and the real part of the leading eigenvector (unit norm)."""
    values, vectors = torch.linalg.eig(jacobian)
    order = values.abs().argsort(dim=-1, descending=True)
    values = values.gather(-1, order)
    lead = vectors.gather(-1, order[..., None, :1].expand(*vectors.shape[:-1], 1))[..., 0].real
    lead = lead / lead.norm(dim=-1, keepdim=True).clamp(min=1e-300)
    return values, lead


def find_fixed_points(
    step: StepFunction,
    initial_states: torch.Tensor,
    inputs: torch.Tensor,
    options: FixedPointOptions,
    keys: torch.Tensor | None = None,
) -> FixedPoints:
    """Fixed (and slow) points of ``G`` networks from ``K`` initial states each.

    ``initial_states (G, K, S)``, ``inputs (G, K, I)`` the constant input of each search, ``keys
    (G, K)`` an optional label per search (e.g. the input condition): points with different keys
    are never merged. Returns the unique, converged (q < ``keep_q``), non-outlier end points, then
    the slow-point snapshots, with their Jacobians and eigen-decomposition.

    Snapshots: on an approximate line attractor q is tiny but not zero along the whole line, and
    the search slides every state along it to the few exact fixed points, which would hide the
    line. So the state where each search first reached q < ``slow_q`` is kept too, unless it lies
    within ``slow_spacing`` of an end point or of a snapshot of lower q: what remains is a chain
    of slow points that traces the slow manifold (``snapshot`` marks them).
    """
    g, k, _ = initial_states.shape
    if keys is None:
        keys = torch.zeros(g, k, dtype=torch.long, device=initial_states.device)
    search = optimize(step, initial_states, inputs, options)
    # Outliers: far from the cloud of initial states of their network.
    centroid = initial_states.mean(dim=1, keepdim=True)
    spread = (initial_states - centroid).norm(dim=-1).mean(dim=1, keepdim=True)
    if k == 1:  # a single initial state has no spread to judge distances by
        spread = torch.full_like(spread, math.inf)

    def inlier(states: torch.Tensor) -> torch.Tensor:
        return (states - centroid).norm(dim=-1) <= options.outlier_scale * spread

    same_key = keys.unsqueeze(-1) == keys.unsqueeze(-2)
    candidate = (search.q < options.keep_q) & inlier(search.states) & torch.isfinite(search.q)
    pair = same_key & candidate.unsqueeze(-1) & candidate.unsqueeze(-2)
    keep = candidate & unique_mask(search.states, search.q, pair, options.unique_tolerance)
    snapped = torch.isfinite(search.snapshot_q) & inlier(search.snapshots.nan_to_num())
    if options.slow_spacing > 0 and snapped.any():
        snaps = search.snapshots.nan_to_num()
        near_end = (torch.cdist(snaps, search.states) < options.slow_spacing) & same_key
        snapped &= ~(near_end & keep.unsqueeze(-2)).any(dim=-1)
        pair = same_key & snapped.unsqueeze(-1) & snapped.unsqueeze(-2)
        snapped &= unique_mask(snaps, search.snapshot_q, pair, options.slow_spacing)
    else:
        snapped = torch.zeros_like(snapped)
    group = torch.arange(g, device=initial_states.device).view(-1, 1).expand(g, k)
    parts = [
        (keep, search.states, search.q, search.n_iters, False),
        (snapped, search.snapshots, search.snapshot_q, search.snapshot_iters, True),
    ]
    found = []
    for mask, states, q, iters, is_snapshot in parts:
        jacobian = jacobians(step, states.nan_to_num(), inputs)[mask]
        values, lead = eigen(jacobian)
        found.append(
            FixedPoints(
                group=group[mask],
                key=keys[mask],
                states=states[mask],
                inputs=inputs[mask],
                q=q[mask],
                n_iters=iters[mask],
                jacobians=jacobian,
                eigenvalues=values,
                lead_vectors=lead,
                snapshot=torch.full_like(q[mask], is_snapshot, dtype=torch.bool),
            )
        )
    return FixedPoints(
        **{f.name: torch.cat([getattr(p, f.name) for p in found]) for f in fields(FixedPoints)}
    )
