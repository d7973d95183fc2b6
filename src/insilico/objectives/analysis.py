"""What each trained network's representation holds: decodability, neural predictivity, manifold
geometry, translation invariance and adversarial robustness.

- Linear probe: a ridge classifier (one-hot targets, closed form) fitted on the layer's features
  of training images and scored on the test images: the category accuracy of a linear readout.
- V4/IT predictivity: the IT branch's protocol (:mod:`insilico.it.protocol.pls`): PLS from the
  layer's features of the neural stimuli to every neuroid's window-averaged response, held-out
  Pearson r over stratified (object) shuffle splits, median over each region's neuroids.
- Manifolds (:func:`insilico.geometry.capacity.manifold_analysis`, replica theory at margin 0):
  category manifolds (the test images of one category) and translation manifolds (one image shifted
  over a grid of offsets), their capacity, radius, dimension and centre correlation ("alignment").
- Translation invariance: the mean correlation between an image's features and its shifted copies'
  relative to that between different images, ``(r_same - r_other) / (1 - r_other)``: 1 for a
  representation shifts do not move, 0 when a shift makes an image as unlike itself as another.
- Robustness: accuracy of the probe on top of the network under an L-infinity PGD attack (Madry
  et al. 2018), budgets in pixel units (0..1); the largest must drive accuracy to chance or below
  (the attack's design check).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from insilico.core.splits import training_masks
from insilico.geometry.capacity import manifold_analysis
from insilico.it.protocol.ceiling import ordered_regions, region_medians
from insilico.it.protocol.pls import cross_validated_r
from insilico.it.train import build_it_model
from insilico.objectives.augment import shift_images

_BATCH = 512


def load_network(state: dict, out_dim: int, size: int, model_params: dict) -> torch.nn.Module:
    model = build_it_model("cnn", size=size, n_classes=out_dim, **model_params)
    model.load_state_dict(state)
    return model.eval()


@torch.no_grad()
def layer_features(model, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Every scored layer's features ``(n, features)`` (flattened maps), float64."""
    parts = [model.features(chunk) for chunk in x.split(_BATCH)]
    return {
        name: torch.cat([part[name] for part in parts]).flatten(1).double().numpy()
        for name in model.layer_names
    }


def fit_probe(features: np.ndarray, labels: np.ndarray, n_classes: int, ridge: float):
    """Ridge classifier on standardised features: ``(mean, scale, weights, bias)``."""
    mean, scale = features.mean(0), features.std(0) + 1e-8
    z = (features - mean) / scale
    targets = np.eye(n_classes)[labels] - 1.0 / n_classes
    gram = z.T @ z + ridge * len(z) * np.eye(z.shape[1])
    weights = np.linalg.solve(gram, z.T @ targets)
    return mean, scale, weights, np.zeros(n_classes)


def probe_accuracy(probe, features: np.ndarray, labels: np.ndarray) -> float:
    mean, scale, weights, bias = probe
    return float(np.mean((((features - mean) / scale) @ weights + bias).argmax(1) == labels))


def shifted_copies(x: torch.Tensor, shifts) -> torch.Tensor:
    """``(P, 1, H, W)`` -> ``(P * M, 1, H, W)``: every image at every (dy, dx) offset of the grid."""
    grid = torch.tensor([(dy, dx) for dy in shifts for dx in shifts], dtype=torch.float32)
    pad = int(max(abs(s) for s in shifts))
    repeated = x.repeat_interleave(len(grid), dim=0)
    offsets = grid.repeat(len(x), 1)
    return shift_images(repeated, offsets[:, 0], offsets[:, 1], pad) if pad else repeated


def invariance_index(features: np.ndarray, n_images: int) -> float:
    """(r_same - r_other) / (1 - r_other) over the ``n_images`` translation manifolds."""
    z = features - features.mean(1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True) + 1e-12
    r = z @ z.T
    image = np.repeat(np.arange(n_images), len(features) // n_images)
    same = (image[:, None] == image[None, :]) & ~np.eye(len(r), dtype=bool)
    other = image[:, None] != image[None, :]
    r_same, r_other = r[same].mean(), r[other].mean()
    return float((r_same - r_other) / (1.0 - r_other))


def manifold_geometry(features: np.ndarray, labels: np.ndarray, capacity: dict) -> dict:
    """Capacity, radius, dimension and centre correlation of the manifolds of each label."""
    manifolds = [features[labels == label].T for label in np.unique(labels)]
    result = manifold_analysis(
        manifolds, kappa=capacity["kappa"], n_t=capacity["n_t"], max_k=capacity["max_k"]
    )
    return {
        "capacity": result.capacity,
        "radius": result.radius,
        "dimension": result.dimension,
        "alignment": result.centre_correlation,
    }


def pgd_accuracy(model, probe, x, labels, epsilons, image_std: float, pgd: dict) -> np.ndarray:
    """Accuracy of network + probe under L-inf PGD at each budget (pixel units, random start)."""
    mean, scale, weights, bias = (torch.as_tensor(p, dtype=torch.float32) for p in probe)
    y = torch.as_tensor(labels, dtype=torch.long)
    generator = torch.Generator().manual_seed(pgd["seed"])

    def logits(images):
        return ((model.features(images)["avgpool"] - mean) / scale) @ weights + bias

    accuracies = []
    for eps in epsilons:
        radius = eps / image_std  # the budget in standardised image units
        delta = (torch.rand(x.shape, generator=generator) * 2 - 1) * radius
        for _ in range(pgd["steps"] if eps > 0 else 0):
            delta.requires_grad_(True)
            loss = F.cross_entropy(logits(x + delta), y)
            (grad,) = torch.autograd.grad(loss, delta)
            step = pgd["step_fraction"] * radius
            delta = (delta.detach() + step * grad.sign()).clamp(-radius, radius)
        with torch.no_grad():
            accuracies.append(float((logits(x + delta).argmax(1) == y).float().mean()))
    return np.asarray(accuracies)


def predictivity(features: dict[str, np.ndarray], neural, settings: dict, seed: int):
    """Median held-out r per layer and region ``(layers, regions)``, mean over splits."""
    objects = neural["object_name"].values.astype(str)
    masks = training_masks(
        objects, settings["n_splits"], settings["train_fraction"], seed, "brainscore"
    )
    region_of = neural["region"].values.astype(str)
    regions = ordered_regions(region_of)
    y = neural["rates_window"].values[None]
    scores = []
    for values in features.values():
        r = cross_validated_r(values[None], y, masks, settings["n_components"])[0]  # (S, q)
        scores.append(region_medians(r, region_of, regions).mean(0))
    return np.asarray(scores), regions
