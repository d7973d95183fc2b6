"""Grid scores of rate maps: spatial autocorrelogram, gridness, period and orientation.

The gridness score (Sargolini et al. 2006; the multi-annulus form of Banino et al. 2018) asks how
much more the autocorrelogram resembles itself rotated by 60 and 120 degrees than by 30, 90 and
150: ``min(r60, r120) - max(r30, r90, r150)``, the correlations taken in an annulus that excludes
the central peak. The annulus starts at the central peak's first zero crossing ``r0``; for an
ideal hexagonal map (three plane waves) the six nearest peaks then lie at ``3 r0`` (``r0`` =
2.405 / k, spacing 4 pi / (sqrt 3 k)), so outer radii of ``3.5 r0`` to ``5 r0`` enclose them, and
the score is the largest over those annuli. Scale-free: no length is set by hand.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from insilico.core.stats import pearson
from insilico.dynamics.gridcells.pattern_formation import frequency_grid

OUTER_RADII = (3.5, 4.0, 4.5, 5.0)  # in units of the central peak's radius
GRID_ANGLES = (60, 120)
OFF_ANGLES = (30, 90, 150)


def _correlate(a: np.ndarray, b: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Full 2-D cross-correlation sum_u a(u) b(u + lag) by FFT, zero lag in the centre."""
    fa, fb = np.fft.rfft2(a, s=shape), np.fft.rfft2(b, s=shape)
    return np.fft.fftshift(np.fft.irfft2(np.conj(fa) * fb, s=shape))


def autocorrelogram(rate_map: np.ndarray, min_overlap: float = 0.2) -> np.ndarray:
    """Pearson correlation of the map with itself at every lag ``(2n-1, 2m-1)``.

    Unvisited bins are NaN and left out; lags where fewer than ``min_overlap`` of the bins overlap
    are NaN (too few samples for a correlation).
    """
    valid = np.isfinite(rate_map).astype(float)
    x = np.where(valid > 0, rate_map, 0.0)
    shape = (2 * x.shape[0] - 1, 2 * x.shape[1] - 1)
    n = np.rint(_correlate(valid, valid, shape))
    sx, sy = _correlate(x, valid, shape), _correlate(valid, x, shape)
    sxx, syy = _correlate(x**2, valid, shape), _correlate(valid, x**2, shape)
    sxy = _correlate(x, x, shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (n * sxy - sx * sy) / np.sqrt((n * sxx - sx**2) * (n * syy - sy**2))
    r[n < min_overlap * valid.sum()] = np.nan
    return r


def _radii(shape: tuple[int, int]) -> np.ndarray:
    rows, cols = np.indices(shape)
    return np.hypot(rows - (shape[0] - 1) / 2, cols - (shape[1] - 1) / 2)


def central_radius(autocorr: np.ndarray) -> float:
    """Radius (bins) where the ring-averaged autocorrelogram first drops to zero: the central peak."""
    radius = _radii(autocorr.shape)
    rings = np.rint(radius).astype(int).ravel()
    values = np.nan_to_num(autocorr.ravel())
    profile = np.bincount(rings, weights=values) / np.maximum(np.bincount(rings), 1)
    below = np.flatnonzero(profile <= 0)
    return float(below[0]) if below.size else float(len(profile))


def _masked_pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r (insilico.core.stats) over the entries finite in both; nan below 3 of them."""
    keep = np.isfinite(a) & np.isfinite(b)
    return float(pearson(a[keep], b[keep])) if keep.sum() >= 3 else np.nan


def gridness(rate_map: np.ndarray) -> float:
    """The gridness score of one rate map (NaN when no annulus fits in the autocorrelogram)."""
    autocorr = autocorrelogram(rate_map)
    radius = _radii(autocorr.shape)
    inner = central_radius(autocorr)
    filled = np.nan_to_num(autocorr, nan=0.0)
    rotated = {
        angle: ndimage.rotate(filled, angle, reshape=False, order=1, mode="constant")
        for angle in GRID_ANGLES + OFF_ANGLES
    }
    reach = min(autocorr.shape) / 2
    scores = []
    for factor in OUTER_RADII:
        outer = factor * inner
        if outer > reach:
            break
        ring = (radius >= inner) & (radius <= outer) & np.isfinite(autocorr)
        r = {a: _masked_pearson(autocorr[ring], rotated[a][ring]) for a in rotated}
        scores.append(min(r[a] for a in GRID_ANGLES) - max(r[a] for a in OFF_ANGLES))
    return float(np.nanmax(scores)) if scores and np.isfinite(scores).any() else np.nan


def spatial_coherence(rate_map: np.ndarray) -> float:
    """Correlation of each bin's rate with the mean of its visited neighbours (Muller & Kubie
    1989): near 1 for smooth fields, near 0 for sampling noise. Gridness alone rewards noisy
    maps whose texture happens to repeat at 60 degrees; coherence tells those from fields."""
    valid = np.isfinite(rate_map)
    x = np.where(valid, rate_map, 0.0)
    ring = np.ones((3, 3))
    ring[1, 1] = 0
    total = ndimage.convolve(x, ring, mode="constant")
    count = ndimage.convolve(valid.astype(float), ring, mode="constant")
    keep = valid & (count > 0)
    return _masked_pearson(rate_map[keep], total[keep] / count[keep])


def period_orientation(rate_map: np.ndarray, box: float, pad: int = 4) -> tuple[float, float]:
    """Wavelength ``2 pi / |k|`` (m) of the map's strongest Fourier mode, and that mode's angle
    modulo 60 degrees (the orientation of a hexagonal grid), from the zero-padded spectrum."""
    x = np.nan_to_num(rate_map - np.nanmean(rate_map))
    size = pad * max(x.shape)
    power = np.abs(np.fft.fft2(x, s=(size, size))) ** 2
    kx, ky = frequency_grid(size, pad * box * size / (pad * x.shape[0]))
    power[0, 0] = 0.0
    i = np.unravel_index(np.argmax(power), power.shape)
    k = np.hypot(kx[i], ky[i])
    return float(2 * np.pi / k), float(np.degrees(np.arctan2(ky[i], kx[i])) % 60)
