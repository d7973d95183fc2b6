"""Geometry of every layer of one model run and of the recordings, as labelled Datasets.

Inputs are what the IT branch caches: one activation file per layer (stimulus x time step x
feature, features already reduced by the IT branch's PCA) and the neural targets (responses per
stimulus and neuroid in the 70-170 ms window, with object and category labels). Manifolds are the
response clouds of one object across its images (object manifolds) or of one category across all
its objects' images (category manifolds). A feedforward layer has one set of features; a
ConvRNN layer is analysed at the time-step mean over the scoring window (step -1, what the IT
score uses) and at every ``steps_every``-th 10 ms step.

Per layer and region the spectral theory of ridge prediction (:mod:`insilico.geometry.spectral`)
gives learning curves (theory and empirical) and the error-mode geometry at one training size, and
the cross-validated ridge metric (:mod:`insilico.geometry.ridge`) the held-out r, on the IT
protocol's own stratified splits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core.splits import stratified_shuffle_splits
from insilico.geometry import ridge, spectral
from insilico.geometry.capacity import manifold_analysis

WINDOW_STEP = -1  # step label of the mean over the scoring window
MANIFOLD_KINDS = {"object": "object_name", "category": "category_name"}
GEOMETRY_VARIABLES = ("capacity", "radius", "dimension", "centre_correlation", "n_projected")


@dataclass(frozen=True)
class GeometryOptions:
    """The knobs of the analysis (config section ``geometry``)."""

    kappa: float = 0.0
    n_t: int = 200
    max_k: int = 10
    seed: int = 0
    steps_every: int = 5
    sizes: tuple[int, ...] = (10, 20, 40, 80)
    relative_ridge: float = 1.0
    n_reps: int = 10
    error_mode_size: int = 20
    n_splits: int = 10
    train_fraction: float = 0.9

    @classmethod
    def from_config(cls, geometry: dict, score: dict) -> GeometryOptions:
        """From the ``geometry`` config section; the splits are the IT score's (``it.score``)."""
        capacity, spectral_cfg = geometry["capacity"], geometry["spectral"]
        return cls(
            kappa=capacity["kappa"],
            n_t=capacity["n_t"],
            max_k=capacity["max_k"],
            seed=capacity["seed"],
            steps_every=capacity["steps_every"],
            sizes=tuple(spectral_cfg["sizes"]),
            relative_ridge=spectral_cfg["relative_ridge"],
            n_reps=spectral_cfg["n_reps"],
            error_mode_size=spectral_cfg["error_mode_size"],
            n_splits=score["n_splits"],
            train_fraction=score["train_fraction"],
        )


def manifolds_of(features: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """(N, M_i) point clouds, one per label (sorted), from (stimuli, N) features."""
    return [features[labels == label].T for label in np.unique(labels)]


def geometry_of(features: np.ndarray, labels: dict[str, np.ndarray], options: GeometryOptions):
    """{variable: (manifold kind,) array} of MFTMA results for object and category manifolds.

    All nan where the features do not vary across stimuli (a ConvRNN step before the image
    reaches the layer, or after it is gone): no stimulus information, no manifolds to analyse.
    """
    if not features.std(axis=0).max() > 1e-6 * max(np.abs(features).max(), 1e-12):
        return {name: np.full(len(MANIFOLD_KINDS), np.nan) for name in GEOMETRY_VARIABLES}
    rows = []
    for kind in MANIFOLD_KINDS:
        g = manifold_analysis(
            manifolds_of(features, labels[kind]),
            options.kappa,
            options.n_t,
            options.seed,
            options.max_k,
        )
        rows.append([g.capacity, g.radius, g.dimension, g.centre_correlation, g.n_projected])
    return dict(zip(GEOMETRY_VARIABLES, np.array(rows).T, strict=True))


def spectral_of(features: np.ndarray, responses: np.ndarray, masks: np.ndarray, options):
    """Ridge r, learning curves (theory, empirical) and error-mode geometry for one region."""
    spec = spectral.spectrum(features, responses)
    penalty = options.relative_ridge * spec.eigenvalues.sum()
    theory = spectral.theory_error(spec, options.sizes, penalty)
    empirical, sem = spectral.empirical_error(
        features, responses, options.sizes, penalty, options.n_reps, options.seed
    )
    modes = spectral.error_modes(spec, options.error_mode_size, penalty)
    em_radius, em_dimension = spectral.error_mode_geometry(modes)
    r, _ = ridge.cross_validated_r(features, responses, masks)
    median = np.median(r, axis=1)
    return {
        "ridge_r": median.mean(),
        "ridge_r_sem": median.std(ddof=1) / np.sqrt(len(median)),
        "theory_error": theory,
        "empirical_error": empirical,
        "empirical_error_sem": sem,
        "error_mode_radius": em_radius,
        "error_mode_dimension": em_dimension,
        "error_at_size": modes.sum(),
        "alignment": spectral.alignment(spec),
        "spectral_decay": spectral.spectral_decay(spec.eigenvalues, 50),
    }


def aligned_activations(acts: xr.Dataset, stimulus_ids: np.ndarray) -> np.ndarray:
    """(stimuli, steps, features) of an activation file in the neural targets' stimulus order."""
    order = pd.Index(acts["stimulus_id"].values.astype(str)).get_indexer(stimulus_ids)
    if (order < 0).any():
        raise ValueError(f"activations lack {int((order < 0).sum())} of the recorded stimuli")
    return acts["activations"].values[order].astype(float)


def step_features(acts: xr.Dataset, values: np.ndarray, window_ms, every: int) -> dict:
    """{step label: (stimuli, features)}: the window mean, then every ``every``-th step."""
    if not int(acts.attrs["temporal"]):
        return {WINDOW_STEP: values[:, 0]}
    starts = acts["step_start_ms"].values
    inside = (starts >= window_ms[0]) & (starts < window_ms[1])
    steps = {WINDOW_STEP: values[:, inside].mean(axis=1)}
    steps.update({int(s): values[:, s] for s in range(0, values.shape[1], every)})
    return steps


def layer_dataset(layer: str, acts: xr.Dataset, neural: xr.Dataset, options) -> xr.Dataset:
    """Geometry per step and manifold kind, spectral results per region, for one layer."""
    ids = neural["stimulus_id"].values.astype(str)
    labels = {kind: neural[name].values.astype(str) for kind, name in MANIFOLD_KINDS.items()}
    window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
    steps = step_features(acts, aligned_activations(acts, ids), window, options.steps_every)
    per_step = [geometry_of(features, labels, options) for features in steps.values()]
    data = {
        name: (("step", "manifold"), np.array([g[name] for g in per_step]))
        for name in GEOMETRY_VARIABLES
    }
    masks = stratified_shuffle_splits(
        labels["object"], options.n_splits, options.train_fraction, options.seed
    )
    regions = list(dict.fromkeys(neural["region"].values.astype(str)))
    spectra = [
        spectral_of(steps[WINDOW_STEP], region_responses(neural, region), masks, options)
        for region in regions
    ]
    for name in spectra[0]:
        values = np.array([s[name] for s in spectra])
        data[name] = (("region", "size")[: values.ndim], values)
    coords = {
        "step": list(steps),
        "manifold": list(MANIFOLD_KINDS),
        "region": regions,
        "size": list(options.sizes),
    }
    return xr.Dataset(data, coords).expand_dims(layer=[layer])


def region_responses(neural: xr.Dataset, region: str) -> np.ndarray:
    """(stimuli, neuroids) window responses of one region."""
    return neural["rates_window"].values[:, neural["region"].values.astype(str) == region]


def model_dataset(activations: dict[str, xr.Dataset], neural: xr.Dataset, options) -> xr.Dataset:
    """All layers of one model run (layers in depth order), steps aligned across layers."""
    layers = [layer_dataset(name, acts, neural, options) for name, acts in activations.items()]
    merged = xr.concat(layers, dim="layer", join="outer")
    merged["depth"] = ("layer", np.arange(len(layers)))  # order survives outer joins across models
    merged.attrs.update(protocol(options, neural))
    return merged


def neural_dataset(neural: xr.Dataset, options) -> xr.Dataset:
    """The recordings' own manifold geometry per region: the reference lines for the layers."""
    labels = {kind: neural[name].values.astype(str) for kind, name in MANIFOLD_KINDS.items()}
    regions = list(dict.fromkeys(neural["region"].values.astype(str)))
    per_region = [geometry_of(region_responses(neural, r), labels, options) for r in regions]
    data = {
        name: (("region", "manifold"), np.array([g[name] for g in per_region]))
        for name in GEOMETRY_VARIABLES
    }
    n_neuroids = [int(region_responses(neural, r).shape[1]) for r in regions]
    data["n_neuroids"] = (("region",), np.array(n_neuroids))
    dataset = xr.Dataset(data, {"region": regions, "manifold": list(MANIFOLD_KINDS)})
    dataset.attrs.update(protocol(options, neural))
    return dataset


def protocol(options: GeometryOptions, neural: xr.Dataset) -> dict:
    """One line per analysis, for the files' attributes and the captions."""
    return {
        "capacity_protocol": (
            f"MFTMA at kappa={options.kappa}, n_t={options.n_t} Gaussian samples per manifold, "
            f"centre correlations projected out (K <= {options.max_k}); capacity 1/mean(1/alpha)"
        ),
        "spectral_protocol": (
            f"ridge {options.relative_ridge:g} x kernel trace, no intercept; empirical error over "
            f"all {neural.sizes['stimulus']} stimuli after fitting on p random ones "
            f"({options.n_reps} draws); error modes at p={options.error_mode_size}"
        ),
        "ridge_protocol": (
            f"ridge with leave-one-out penalty, {options.n_splits} stratified splits on "
            f"object_name, train fraction {options.train_fraction}, median r over neuroids"
        ),
    }
