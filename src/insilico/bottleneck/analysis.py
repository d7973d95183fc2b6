"""Measures of receptive fields and of the retinal output (numpy only: no torch).

Receptive-field indices, for a field ``rf`` (H, W) (any sign, any scale):

- **orientedness**: the angular concentration of the field's 2-D Fourier power,
  ``O = |sum_k P(k) exp(2 i theta_k)| / sum_k P(k)`` over the non-zero frequencies ``k`` (angle
  ``theta_k``, power ``P`` of the mean-subtracted field). 0 for a rotationally symmetric field
  (centre-surround, Gaussian), near 1 for an elongated grating-like field (Gabor); about
  ``1 / sqrt(H W)`` for white noise. Orientations are axial (theta and theta + pi are the same),
  hence the 2 theta.
- **centre-surround index**: ``CS = R * S``. ``R`` (isotropy) is the share of the field's energy
  in its radially symmetric part: the field averaged over rings one pixel wide (ring k: distance in [k, k+1)) around its energy
  centre (the centroid of ``rf^2`` over the pixels above a tenth of its maximum), an orthogonal
  projection, so 0 <= R <= 1. ``S`` (surround opposition) is how much of the ring profile opposes
  the centre ring in sign: the summed ``|profile| x ring area`` of the rings of opposite sign over
  that of the rings of the centre's sign, clipped to 1. A difference of Gaussians with a
  balanced surround has CS near 1; a Gaussian blob (no surround) 0; a Gabor and white noise are
  far from isotropic, so CS is small.

Retinal output:

- **linearity** of a unit: the variance of its responses to held-out images explained by the best
  linear (ridge) model of the pixels: ridge fitted on the first ``fit`` share of the images, the
  penalty chosen on the next ``select`` share, R^2 reported on the rest.
- **linear separability** of the categories: test accuracy of a ridge classifier (one-hot
  targets, dual form, penalty ``relative_ridge`` times the mean kernel diagonal) on the
  (pooled) output.
"""

from __future__ import annotations

import numpy as np

from insilico.core.stats import pearson

CENTRE_THRESHOLD = 0.1  # pixels above this share of the maximum rf^2 locate the energy centre
RIDGE_GRID = np.logspace(-3, 3, 13)  # penalties relative to the mean squared singular value


def orientedness(rf: np.ndarray) -> np.ndarray:
    """Angular concentration of the Fourier power, per field: rf (..., H, W) -> (...)."""
    rf = np.asarray(rf, float)
    power = np.abs(np.fft.fft2(rf - rf.mean(axis=(-2, -1), keepdims=True))) ** 2
    ky = np.fft.fftfreq(rf.shape[-2])[:, None]
    kx = np.fft.fftfreq(rf.shape[-1])[None, :]
    phase = np.exp(2j * np.arctan2(ky, kx))
    phase[0, 0] = 0
    total = power.sum(axis=(-2, -1))
    concentration = np.abs((power * phase).sum(axis=(-2, -1)))
    return np.where(total > 0, concentration / np.where(total > 0, total, 1), np.nan)


def energy_centre(rf: np.ndarray) -> tuple[float, float]:
    """(row, col) centroid of ``rf^2`` over the pixels above CENTRE_THRESHOLD of its maximum."""
    energy = np.asarray(rf, float) ** 2
    energy = np.where(energy >= CENTRE_THRESHOLD * energy.max(), energy, 0.0)
    rows, cols = np.indices(energy.shape)
    total = energy.sum()
    return float((rows * energy).sum() / total), float((cols * energy).sum() / total)


def ring_profile(rf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rings around the energy centre: (ring index per pixel, mean per ring, pixels per ring)."""
    row, col = energy_centre(rf)
    rows, cols = np.indices(rf.shape)
    ring = np.floor(np.hypot(rows - row, cols - col)).astype(int)
    count = np.bincount(ring.ravel())
    profile = np.bincount(ring.ravel(), weights=np.asarray(rf, float).ravel()) / np.maximum(
        count, 1
    )
    return ring, profile, count


def centre_surround(rf: np.ndarray) -> np.ndarray:
    """Centre-surround index ``R * S`` per field (see the module docstring): (..., H, W) -> (...)."""
    rf = np.asarray(rf, float)
    flat = rf.reshape(-1, *rf.shape[-2:])
    return np.array([_centre_surround(field) for field in flat]).reshape(rf.shape[:-2])


def _centre_surround(rf: np.ndarray) -> float:
    energy = (rf**2).sum()
    if not energy > 0 or not np.isfinite(energy):
        return np.nan
    ring, profile, count = ring_profile(rf)
    isotropy = (profile[ring] ** 2).sum() / energy
    mass = np.abs(profile) * count
    sign = np.sign(profile[0]) if profile[0] != 0 else np.sign(profile[np.argmax(mass)])
    same, opposite = mass[np.sign(profile) == sign].sum(), mass[np.sign(profile) == -sign].sum()
    return float(isotropy * min(opposite / same, 1.0))


def field_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r over pixels between two sets of fields (..., H, W)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return pearson(a.reshape(*a.shape[:-2], -1), b.reshape(*b.shape[:-2], -1))


def _splits(n: int, fit: float, select: float) -> tuple[slice, slice, slice]:
    a, b = int(round(fit * n)), int(round((fit + select) * n))
    if not 0 < a < b < n:
        raise ValueError(f"{n} images cannot be split {fit}/{select}/rest for the linearity fit")
    return slice(0, a), slice(a, b), slice(b, n)


def _r2(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """R^2 per column; nan for a column of constant target."""
    centred = target - target.mean(0)
    total = (centred**2).sum(0)
    residual = ((target - pred) ** 2).sum(0)
    return np.where(
        total > 1e-12 * max(total.max(), 1e-300),
        1 - residual / np.where(total > 0, total, 1),
        np.nan,
    )


def linearity(images: np.ndarray, responses: np.ndarray, fit: float, select: float) -> np.ndarray:
    """Held-out R^2 of the best ridge model of each unit from the pixels (see module docstring).

    ``images`` (N, H, W) (any units), ``responses`` (N, units). Vectorised over units and
    penalties through one SVD of the fitting images.
    """
    x = np.asarray(images, float).reshape(len(images), -1)
    y = np.asarray(responses, float)
    a, b, c = _splits(len(x), fit, select)
    x_mean, y_mean = x[a].mean(0), y[a].mean(0)
    u, s, vt = np.linalg.svd(x[a] - x_mean, full_matrices=False)
    projected = u.T @ (y[a] - y_mean)  # (rank, units)
    penalties = RIDGE_GRID * np.mean(s**2)
    coefficients = [vt.T @ ((s / (s**2 + lam))[:, None] * projected) for lam in penalties]
    scores = np.array([_r2((x[b] - x_mean) @ w + y_mean, y[b]) for w in coefficients])
    best = np.nanargmax(np.where(np.isnan(scores), -np.inf, scores), axis=0)
    pred = np.stack([(x[c] - x_mean) @ coefficients[k][:, j] for j, k in enumerate(best)], 1)
    return _r2(pred + y_mean, y[c])


def separability(
    train: np.ndarray,
    train_labels: np.ndarray,
    test: np.ndarray,
    test_labels: np.ndarray,
    relative_ridge: float,
) -> float:
    """Test accuracy of a ridge classifier on features (N, ...) (see the module docstring)."""
    f_train = np.asarray(train, float).reshape(len(train), -1)
    f_test = np.asarray(test, float).reshape(len(test), -1)
    mean = f_train.mean(0)
    f_train, f_test = f_train - mean, f_test - mean
    kernel = f_train @ f_train.T
    scale = np.trace(kernel) / len(kernel)
    if not scale > 0:
        return float(np.mean(test_labels == np.bincount(train_labels).argmax()))
    classes = np.unique(train_labels)
    targets = np.where(train_labels[:, None] == classes[None, :], 1.0, -1.0)
    dual = np.linalg.solve(kernel + relative_ridge * scale * np.eye(len(kernel)), targets)
    predicted = classes[np.argmax(f_test @ (f_train.T @ dual), axis=1)]
    return float(np.mean(predicted == test_labels))
