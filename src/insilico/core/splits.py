"""Cross-validation splits of the Brain-Score protocol: stratified shuffle splits of the stimuli.

Two sources: ``brainscore`` draws them with scikit-learn's ``StratifiedShuffleSplit`` exactly as
Brain-Score does (``n_splits`` 10, ``train_size`` 0.9, ``random_state`` 1, stratified on the
object), so a score here is Brain-Score's on the same activations; ``project`` is this project's own
draw (:func:`stratified_shuffle_splits`, the same design with another random stream).
"""

from __future__ import annotations

import math

import numpy as np

SPLIT_SOURCES = ("brainscore", "project")


def training_masks(
    labels: np.ndarray, n_splits: int, train_fraction: float, seed: int, source: str = "brainscore"
) -> np.ndarray:
    """Boolean training masks ``(n_splits, n)`` from ``source`` (see the module docstring)."""
    if source == "project":
        return stratified_shuffle_splits(labels, n_splits, train_fraction, seed)
    if source != "brainscore":
        raise ValueError(f"unknown split source {source!r}; use one of {SPLIT_SOURCES}")
    from sklearn.model_selection import StratifiedShuffleSplit

    labels = np.asarray(labels)
    splitter = StratifiedShuffleSplit(
        n_splits=n_splits, train_size=train_fraction, random_state=seed
    )
    masks = np.zeros((n_splits, len(labels)), dtype=bool)
    for split, (train, _) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        masks[split, train] = True
    return masks


def stratified_shuffle_splits(
    labels: np.ndarray, n_splits: int, train_fraction: float, seed: int
) -> np.ndarray:
    """Boolean training masks ``(n_splits, n)``, stratified on ``labels``.

    Like scikit-learn's ``StratifiedShuffleSplit``: ``n_test = ceil((1 - train_fraction) n)``
    stimuli are held out per split, allocated to classes in proportion to their size (floor, then
    the remaining ones to the classes with the largest remainders, ties broken at random), the
    members of each class drawn at random. Every split holds out the same number of stimuli.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    n_test = math.ceil(round((1 - train_fraction) * n, 9))
    if n_test < 2 or n - n_test < 2:
        raise ValueError(f"{n} stimuli with train_fraction {train_fraction} leave too few to split")
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse)
    # scikit-learn's StratifiedShuffleSplit (Brain-Score's) refuses these designs; so do we, so
    # that a score computed here is one Brain-Score could compute.
    if counts.min() < 2:
        raise ValueError("the least populated object has only 1 stimulus; stratification needs 2")
    if n_test < len(classes) or n - n_test < len(classes):
        raise ValueError(
            f"{n} stimuli with train_fraction {train_fraction} hold out {n_test} for "
            f"{len(classes)} objects; a stratified split needs at least one per object on each side"
        )
    members = [np.flatnonzero(inverse == k) for k in range(len(classes))]
    rng = np.random.default_rng(seed)
    masks = np.ones((n_splits, n), dtype=bool)
    for split in range(n_splits):
        exact = counts * n_test / n
        allocation = np.floor(exact).astype(int)
        remainder = exact - allocation
        order = np.lexsort((rng.random(len(classes)), -remainder))
        allocation[order[: n_test - allocation.sum()]] += 1
        for k, taken in enumerate(allocation):
            masks[split, rng.permutation(members[k])[:taken]] = False
    return masks
