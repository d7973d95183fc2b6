"""CP and CNMF on tensors the pipeline already makes, scored against the simulators' truth.

The simulated retina knows each ganglion cell's type and the simulated IT knows each image's
category, so "do the factors separate them" has an answer. Rank is chosen by cross-validated
reconstruction: a random tenth of the entries is held out (tensorly's masked ALS fits the rest)
and the rank with the smallest held-out error wins; a planted tensor of known rank is the
positive control for that rule.
"""

from __future__ import annotations

import h5py
import numpy as np
import tensorly as tl
import xarray as xr
from tensorly.decomposition import parafac

from insilico.factorisation import cnmf


def cp_fit(tensor, rank, seed, mask=None, n_iter_max=200):
    """Best-of-3 tensorly ALS fit (optionally on observed entries only); returns factors."""
    best = None
    for i in range(3):
        cp = parafac(
            tl.tensor(tensor),
            rank=rank,
            init="random",
            random_state=seed + i,
            n_iter_max=n_iter_max,
            tol=1e-7,
            mask=None if mask is None else tl.tensor(mask.astype(float)),
        )
        factors = [np.asarray(f) for f in cp.factors]
        factors[0] = factors[0] * np.asarray(cp.weights)
        err = _error(tensor, factors, mask if mask is not None else np.ones(tensor.shape, bool))
        if best is None or err < best[0]:
            best = (err, factors)
    return best[1]


def _error(tensor, factors, where):
    recon = np.einsum("ir,jr,kr->ijk", *factors)
    return float(np.sum((tensor - recon)[where] ** 2) / np.sum(tensor[where] ** 2))


def select_rank(tensor, ranks, seed, holdout=0.1):
    """Held-out relative error per rank (one random mask of ``holdout`` of the entries)."""
    rng = np.random.default_rng(seed)
    test = rng.random(tensor.shape) < holdout
    errors = np.array([_error(tensor, cp_fit(tensor, r, seed, mask=~test), test) for r in ranks])
    return errors, int(np.asarray(ranks)[np.argmin(errors)])


def planted_cp(rng, shape, rank, noise):
    """Nonnegative planted CP tensor plus Gaussian noise (the rank-selection control)."""
    factors = [rng.gamma(2.0, 1.0, (n, rank)) for n in shape]
    clean = np.einsum("ir,jr,kr->ijk", *factors)
    return clean + noise * clean.std() * rng.standard_normal(shape)


def nearest_centroid_accuracy(features, labels):
    """Leave-one-out nearest-class-mean accuracy of rows of ``features`` (z-scored columns)."""
    f = (features - features.mean(0)) / (features.std(0) + 1e-12)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    correct = 0
    for i in range(len(f)):
        keep = np.arange(len(f)) != i
        centres = np.stack([f[keep & (labels == c)].mean(0) for c in classes])
        correct += classes[np.argmin(((centres - f[i]) ** 2).sum(1))] == labels[i]
    return correct / len(f)


def cp_study(tensor, labels, label_mode, ranks, seed, dims):
    """Rank selection, the CP at the selected rank, and how well one mode's factors decode labels.

    ``labels`` belong to mode ``label_mode``; accuracy is compared with chance (1 / n classes).
    """
    errors, best = select_rank(tensor, ranks, seed)
    factors = cp_fit(tensor, best, seed)
    loadings = factors[label_mode] / (
        np.linalg.norm(factors[label_mode], axis=1, keepdims=True) + 1e-12
    )
    accuracy = nearest_centroid_accuracy(loadings, labels)
    data = {"heldout_error": ("rank", errors)}
    for k, f in enumerate(factors):
        data[f"factor_{dims[k]}"] = ((dims[k], "component"), f)
    return xr.Dataset(
        data,
        coords={
            "rank": list(ranks),
            "component": np.arange(best),
            dims[label_mode] + "_label": (dims[label_mode], np.asarray(labels)),
        },
        attrs={
            "selected_rank": best,
            "decoding_accuracy": float(accuracy),
            "chance": 1 / len(np.unique(labels)),
        },
    )


def cnmf_study(x, labels, k, n_lags, seed, max_iter):
    """CNMF (HALS) of a population response; each motif's share of weight per neuron label.

    Stops on the loss or after ``max_iter`` iterations, never on time: the motifs are results,
    so they must not depend on the machine's speed (only the method comparison is timed).
    """
    res = cnmf.fit(x, k, n_lags, "hals", seed=seed, max_iter=max_iter, tol=1e-5)
    weight = res.w.sum(axis=2)  # (neurons, motifs)
    classes = np.unique(labels)
    share = np.stack([weight[np.asarray(labels) == c].sum(0) for c in classes]) / (
        weight.sum(0, keepdims=True) + 1e-12
    )
    return xr.Dataset(
        {
            "w": (("neuron", "motif", "lag"), res.w),
            "h": (("motif", "time"), res.h),
            "label_share": (("label", "motif"), share),
            "loss": ("iteration", res.losses),
        },
        coords={"label": classes, "neuron_label": ("neuron", np.asarray(labels))},
        attrs={"final_loss": float(res.losses[-1]), "purity": float(share.max(0).mean())},
    )


def retina_cell_types(path):
    """The simulator's ganglion cell types (groundtruth/cell_types of a simulated recording)."""
    with h5py.File(path, "r") as h5:
        if "groundtruth/cell_types" not in h5:
            raise KeyError(f"{path}: no groundtruth/cell_types (only simulated recordings have it)")
        return h5["groundtruth/cell_types"][()].astype(str)


def retina_tensor(test_repeats, pool):
    """(cell, time, repeat) tensor of test responses, time pooled ``pool`` bins at a time.

    Pooling 10 ms bins to 50 ms keeps the CP fits fast and removes spike-count noise that no rank
    can explain.
    """
    cells, repeats, t = test_repeats.shape
    t = (t // pool) * pool
    pooled = test_repeats[:, :, :t].reshape(cells, repeats, t // pool, pool).mean(axis=3)
    return np.transpose(pooled, (0, 2, 1))


def it_tensor(assembly, region):
    """Trial-averaged (neuroid, time_bin, image) tensor of one region and each image's category."""
    sub = assembly.isel(neuroid=np.flatnonzero(assembly["region"].values == region))
    mean = sub.groupby("stimulus_id").mean("presentation")
    category = sub["category_name"].groupby(sub["stimulus_id"]).first()
    tensor = mean.transpose("neuroid", "time_bin", "stimulus_id").values
    return tensor, category.sel(stimulus_id=mean["stimulus_id"]).values.astype(str)
