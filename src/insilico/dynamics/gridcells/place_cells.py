"""Place-cell codes: the targets the path-integrating network must report (Sorscher et al. 2019).

Each cell's input is a Gaussian of the distance to its centre; the population code is a softmax
over cells (a probability distribution over place cells, read out with a cross-entropy). The
difference-of-Gaussians code subtracts a wider softmax (``surround`` times the width) so each
field has an inhibitory surround; this surround is what gives the place-cell correlation a
spectral peak at a nonzero spatial frequency, the grid's k*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PlaceCells:
    """``n`` cells with centres uniform in the box; ``surround`` 0 or 1 means a plain Gaussian."""

    n: int = 512
    width: float = 0.12
    surround: float = 2.0
    box: float = 2.2
    seed: int = 0

    @property
    def dog(self) -> bool:
        return self.surround > 1

    def centres(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        return rng.uniform(-self.box / 2, self.box / 2, size=(self.n, 2))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def code(cells: PlaceCells, position: np.ndarray, centres: np.ndarray | None = None) -> np.ndarray:
    """Population code ``(..., n)`` at ``position (..., 2)``; nonnegative, sums to 1 over cells."""
    centres = cells.centres() if centres is None else centres
    squared = ((position[..., None, :] - centres) ** 2).sum(-1)
    activity = _softmax(-squared / (2 * cells.width**2))
    if cells.dog:
        activity = activity - _softmax(-squared / (2 * (cells.surround * cells.width) ** 2))
        activity = activity - activity.min(axis=-1, keepdims=True)
        activity = activity / activity.sum(axis=-1, keepdims=True)
    return activity


def decode(activity: np.ndarray, centres: np.ndarray, k: int = 3) -> np.ndarray:
    """Position ``(..., 2)``: the mean centre of the ``k`` most active cells (as in the paper)."""
    top = np.argpartition(-activity, k - 1, axis=-1)[..., :k]
    return centres[top].mean(axis=-2)
