"""Measures of a receptive field shared by the learned filters and the simulated cells. numpy."""

from __future__ import annotations

import numpy as np


def rms_radius(field: np.ndarray, floor: float = 0.1) -> float:
    """RMS distance from the energy centre of a 1-D or 2-D field, weighted by its squared value.

    Energy below ``floor`` times the peak's is left out (STA noise spread over the whole field
    would otherwise set the size); periodic fields are centred on their peak first (the learned
    filters live on a torus)."""
    energy = field**2
    energy = np.where(energy >= floor * energy.max(), energy, 0.0)
    peak = np.unravel_index(energy.argmax(), energy.shape)
    energy = np.roll(
        energy,
        [s // 2 - p for s, p in zip(energy.shape, peak, strict=True)],
        axis=range(field.ndim),
    )
    grids = np.meshgrid(*[np.arange(s) for s in energy.shape], indexing="ij")
    centre = [float((g * energy).sum() / energy.sum()) for g in grids]
    squared = sum((g - c) ** 2 for g, c in zip(grids, centre, strict=True))
    return float(np.sqrt((squared * energy).sum() / energy.sum()))


def on_off_index(filters: np.ndarray) -> float:
    """Opposite polarity of the two filters sharing each stride (filters 0, 1 and 2, 3), averaged.

    Per pair: minus the normalised circular cross-correlation at its largest magnitude (over all
    space-time shifts, since a mosaic's filter is defined up to a shift): 1 when one filter is the
    other sign-inverted (ON and OFF), -1 when they are equal, near 0 for unrelated filters.
    """
    values = []
    for a, b in ((filters[0], filters[1]), (filters[2], filters[3])):
        cross = np.fft.ifft2(np.fft.fft2(a) * np.conj(np.fft.fft2(b))).real
        peak = cross.ravel()[np.abs(cross).argmax()]
        values.append(-peak / (np.linalg.norm(a) * np.linalg.norm(b)))
    return float(np.mean(values))


def spatial_size(kernel: np.ndarray) -> float:
    """RMS spatial radius (pixels) of a learned filter at its peak frame."""
    return rms_radius(kernel[:, np.abs(kernel).max(axis=0).argmax()])


def temporal_width(kernel: np.ndarray) -> float:
    """RMS temporal width (frames) of a learned filter at its peak pixel."""
    return rms_radius(kernel[np.abs(kernel).max(axis=1).argmax()])
