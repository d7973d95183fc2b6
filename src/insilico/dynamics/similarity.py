"""Representational distances between every pair of networks, computed in blocks of pairs.

All networks of a task are run on the same probe trials; network ``i`` gives a matrix
``X_i (n samples, d_i units)`` of hidden activations. Three distances (Maheswaranathan et al.
2019 use the first; the others are the usual companions):

- SVCCA (Raghu et al. 2017): keep the top principal components of each ``X_i`` that explain
  ``variance`` of its variance (at most ``max_dims``), then canonical correlation analysis between
  the reduced matrices; distance ``1 - mean canonical correlation`` over the
  ``min(k_i, k_j)`` correlations. Without the reduction (``variance = 1``) it is invariant to any
  invertible linear map of either network's units.
- linear CKA (Kornblith et al. 2019): ``1 - ||X_i^T X_j||_F^2 / (||X_i^T X_i||_F ||X_j^T X_j||_F)``.
- angular Procrustes (Williams et al. 2021, netrep ``alpha = 1``): with centred, unit-norm,
  zero-padded ``X``, ``arccos ||X_i^T X_j||_*``; a metric, invariant to rotations.

Each network is reduced once to an ``(n, D)`` matrix (its centred activations in its own
principal axes, padded to the largest width ``D``) and an ``(n, K)`` orthonormal basis of its
SVCCA subspace. Every pair's statistics are then the ``(D, D)`` / ``(K, K)`` blocks of one Gram
matrix, computed ``block`` rows of networks at a time (one einsum and one batched SVD per block,
on the device), so thousands of networks need no job, or Python loop, per pair.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

if TYPE_CHECKING:
    import torch

MEASURES = ("svcca", "cka", "procrustes")


@dataclass
class Representations:
    """Per-network reductions that every pairwise statistic is computed from."""

    scores: torch.Tensor  # (N, n, D) centred activations in principal axes, zero-padded
    bases: torch.Tensor  # (N, n, K) orthonormal SVCCA bases, zero-padded
    dims: torch.Tensor  # (N,) SVCCA dimensions k_i


def represent(
    activations: list[torch.Tensor], variance: float = 0.99, max_dims: int | None = None
) -> Representations:
    """Reduce each ``(n, d_i)`` activation matrix (same ``n`` rows = same probe samples)."""
    import torch  # here, not at the top: the population job imports this module without torch

    n = activations[0].shape[0]
    if any(a.shape[0] != n for a in activations):
        raise ValueError("all networks must be probed with the same samples")
    width = max(a.shape[1] for a in activations)
    scores, bases, dims = [], [], []
    for a in activations:
        centred = a - a.mean(dim=0, keepdim=True)
        u, s, _ = torch.linalg.svd(centred, full_matrices=False)
        rank = int((s > s[0] * 1e-9).sum()) if s.numel() and s[0] > 0 else 0
        explained = (s[:rank] ** 2).cumsum(0) / (s[:rank] ** 2).sum().clamp(min=1e-300)
        k = int((explained < variance - 1e-12).sum()) + 1 if rank else 0
        k = min(k, rank, max_dims or rank)
        scores.append(torch.nn.functional.pad(u * s, (0, width - s.numel())))
        bases.append(u[:, :k])
        dims.append(k)
    k_max = max(max(dims), 1)
    bases = [torch.nn.functional.pad(b, (0, k_max - b.shape[1])) for b in bases]
    return Representations(torch.stack(scores), torch.stack(bases), torch.tensor(dims))


def pairwise_distances(reps: Representations, block: int = 64) -> dict[str, np.ndarray]:
    """SVCCA, CKA and Procrustes distance matrices ``(N, N)`` over all pairs.

    Pairs are taken ``block x block`` at a time (upper triangle only), so memory stays at
    ``block^2 D^2`` numbers whatever the population size.
    """
    import torch  # here, not at the top: the population job imports this module without torch

    scores, bases, dims = reps.scores, reps.bases, reps.dims.to(reps.scores.device)
    n = scores.shape[0]
    gram_norm = torch.einsum("nsd,nse->nde", scores, scores).square().sum(dim=(1, 2)).sqrt()
    norms = scores.square().sum(dim=(1, 2)).sqrt()  # ||X_i||_F
    k_index = torch.arange(bases.shape[-1], device=scores.device)
    out = {name: np.zeros((n, n)) for name in MEASURES}
    for row_start in range(0, n, block):
        rows = slice(row_start, min(row_start + block, n))
        for column_start in range(row_start, n, block):
            columns = slice(column_start, min(column_start + block, n))
            for name, value in _block(
                scores, bases, dims, gram_norm, norms, k_index, rows, columns
            ).items():
                value = value.cpu().numpy()
                out[name][rows, columns] = value
                out[name][columns, rows] = value.T
    for matrix in out.values():
        np.fill_diagonal(matrix, 0.0)
        matrix.clip(min=0.0, out=matrix)
    return out


def _block(
    scores, bases, dims, gram_norm, norms, k_index, rows, columns
) -> dict[str, torch.Tensor]:
    """The three distances between the networks of ``rows`` and those of ``columns``."""
    import torch  # here, not at the top: the population job imports this module without torch

    cross = torch.einsum("isd,jse->ijde", scores[rows], scores[columns])
    correlations = torch.linalg.svdvals(torch.einsum("isd,jse->ijde", bases[rows], bases[columns]))
    k_pair = torch.minimum(dims[rows, None], dims[None, columns])
    taken = (k_index < k_pair[..., None]).to(correlations.dtype)
    mean_cc = (correlations * taken).sum(-1) / k_pair.clamp(min=1)
    cka = cross.square().sum(dim=(-2, -1)) / (
        gram_norm[rows, None] * gram_norm[None, columns]
    ).clamp(min=1e-300)
    nuclear = torch.linalg.svdvals(cross).sum(-1)
    cosine = nuclear / (norms[rows, None] * norms[None, columns]).clamp(min=1e-300)
    return {
        "svcca": 1 - mean_cc,
        "cka": 1 - cka,
        "procrustes": torch.arccos(cosine.clamp(-1.0, 1.0)),
    }


def mds(distances: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Classical (Torgerson) multidimensional scaling: coordinates ``(N, n_components)``.

    Deterministic: components are sorted by eigenvalue and signed so that the entry of largest
    magnitude is positive; dimensions with non-positive eigenvalues are zero.
    """
    n = distances.shape[0]
    centring = np.eye(n) - 1.0 / n
    gram = -0.5 * centring @ (distances**2) @ centring
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:n_components]
    values, vectors = values[order], vectors[:, order]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    coords = vectors * signs * np.sqrt(np.clip(values, 0, None))
    if coords.shape[1] < n_components:
        coords = np.pad(coords, ((0, 0), (0, n_components - coords.shape[1])))
    return coords


def silhouette(distances: np.ndarray, labels) -> float:
    """Mean silhouette of a labelling given pairwise distances (nan with fewer than 2 labels).

    Near 1: tight, well separated groups; near 0: no grouping; negative: mixed. A member alone in
    its group scores 0 (the usual convention).
    """
    labels = np.asarray(labels)
    groups = np.unique(labels)
    if len(groups) < 2 or len(groups) == len(labels):
        return float("nan")
    scores = []
    for i, label in enumerate(labels):
        same = (labels == label) & (np.arange(len(labels)) != i)
        if not same.any():
            scores.append(0.0)
            continue
        a = distances[i, same].mean()
        b = min(distances[i, labels == other].mean() for other in groups if other != label)
        scores.append(0.0 if max(a, b) == 0 else (b - a) / max(a, b))
    return float(np.mean(scores))


def probe_hidden_states(model_paths, settings: dict, device: torch.device):
    """Every network of one task run on the same ``probe_trials`` trials (seed ``seed``).

    Returns the task, the networks and one ``(trials, steps, units)`` float64 tensor per network
    (the LSTM's hidden ``h``, not its cell state), in the order of the chunk files.
    """
    import torch  # here, not at the top: the population job imports this module without torch

    from insilico.dynamics import cells
    from insilico.dynamics.tasks import generator, make_task
    from insilico.dynamics.train import load_chunk

    loaded = [load_chunk(path) for path in model_paths]
    meta = loaded[0][1]
    task = make_task(meta["task"], meta["task_params"])
    probe = task.sample(settings["probe_trials"], generator(settings["seed"]))
    inputs = probe.inputs.to(device, torch.float64)
    states, networks = [], []
    for stacks, _ in loaded:
        for stack in stacks:
            stack = stack.to(device, torch.float64)
            with torch.no_grad():
                states.extend(cells.hidden_part(stack.arch, stack.run(inputs)))
            networks.extend(stack.networks)
    return task, networks, states


def task_geometry(model_paths, settings: dict, device: torch.device, log) -> xr.Dataset:
    """All pairwise distances, MDS coordinates and clustering by architecture for one task.

    Every network of the task runs on the same probe trials (:func:`probe_hidden_states`); its
    hidden activations over all trials and steps are the samples. Silhouettes (attrs
    ``silhouette_arch_<measure>``) say how well the architectures separate under each distance.
    """
    from insilico.dynamics.train import network_coords

    started = time.perf_counter()
    task, networks, states = probe_hidden_states(model_paths, settings, device)
    activations = [h.reshape(-1, h.shape[-1]) for h in states]
    reps = represent(activations, settings["variance"], settings["max_dims"])
    distances = pairwise_distances(reps, settings["block"])
    log.info(
        "%s: %d networks, %d samples, SVCCA dims %s, %.1f s",
        task.name,
        len(networks),
        activations[0].shape[0],
        reps.dims.tolist(),
        time.perf_counter() - started,
    )
    coords = network_coords(networks)
    data, attrs = {}, {"task": task.name}
    archs = [spec.arch for spec in networks]
    for name, matrix in distances.items():
        data[name] = (("network", "other"), matrix)
        data[f"mds_{name}"] = (("network", "component"), mds(matrix))
        attrs[f"silhouette_arch_{name}"] = silhouette(matrix, archs)
    data["svcca_dims"] = ("network", reps.dims.cpu().numpy())
    return xr.Dataset(
        data,
        coords={**coords, "other": coords["network"], "component": [1, 2]},
        attrs=attrs,
    )
