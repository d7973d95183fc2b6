"""The simulated retina's interneuron signals as the mechanisms branch names and reads them.

Shared by the ground-truth check (:mod:`~insilico.mechanisms.groundtruth`) and the trained control
(:mod:`~insilico.mechanisms.trained`); numpy only, and free of the stimuli, so that the trained
control's job does not rerun when a structured stimulus changes.
"""

from __future__ import annotations

import numpy as np


def signal_names(retina) -> list[str]:
    """The true signal types in a fixed order: the bipolar types, then the amacrine types."""
    return [f"bipolar_{t}" for t in retina.bipolar_types] + [
        f"amacrine_{t}" for t in retina.amacrine_types
    ]


def interpolation_matrix(retina, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear weights ``(len(rows) * len(cols), grid cells)`` reading the subunit grid at pixels.

    Positions outside the grid take the nearest edge value.
    """
    coords = np.unique(retina.subunit_positions[:, 0])  # the grid is square, rows = cols
    n = len(coords)
    matrix = np.zeros((len(rows), len(cols), n, n))

    def split(pixels):
        g = np.clip(np.interp(pixels, coords, np.arange(n)), 0, n - 1)
        low = np.minimum(np.floor(g).astype(int), max(n - 2, 0))
        frac = g - low
        return low, frac

    r0, rf = split(rows)
    c0, cf = split(cols)
    for dr, wr in ((0, 1 - rf), (1, rf)):
        for dc, wc in ((0, 1 - cf), (1, cf)):
            ri, ci = np.minimum(r0 + dr, n - 1), np.minimum(c0 + dc, n - 1)
            matrix[
                np.arange(len(rows))[:, None],
                np.arange(len(cols))[None, :],
                ri[:, None],
                ci[None, :],
            ] += wr[:, None] * wc[None, :]
    return matrix.reshape(len(rows) * len(cols), n * n)
