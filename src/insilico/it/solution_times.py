"""Per-image object solution times (Kar et al. 2019) from a temporal assembly, and their split.

Kar et al. call an image "late-solved" when the category can be decoded from the IT population
only late in the response. Their object solution time (OST) is the time at which an image's
decoded performance reaches a criterion (they matched the monkey's behavioural performance per
image; without behaviour, a fixed criterion stands in for it). Here, for every 10 ms bin, a
linear category decoder (ridge-regularised least squares on one-hot targets, responses
standardised per neuroid) is trained on the other images of a stratified k-fold split and
scored on the held-out ones. An image's performance is the share of the other categories whose
decoder score falls below its true category's score (the binary "true vs distractor" tasks
averaged over distractors, as in Kar et al.'s I1), averaged over several random fold
assignments. Its solution time is the first time that performance reaches ``criterion`` and
stays there for ``hold`` bins (a chance crossing of a few noisy bins is not a solution), linear
between bin centres; images that never do have no solution time (nan).

Numpy only: the same analysis runs on the simulated assembly and on MajajHong2015's temporal one.
"""

from __future__ import annotations

import numpy as np


def fold_labels(labels: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold index per image, each category spread evenly over the folds (random order)."""
    folds = np.empty(len(labels), dtype=int)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        folds[members] = np.arange(len(members)) % n_folds
    return folds


def ridge_scores(train_x, train_y, test_x, ridge: float) -> np.ndarray:
    """Decoder scores ``(n_test, n_classes)`` of a ridge regression onto one-hot targets."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-9
    a, b = (train_x - mean) / std, (test_x - mean) / std
    onehot = train_y - train_y.mean(0)
    gram = a.T @ a + ridge * len(a) * np.eye(a.shape[1])
    return b @ np.linalg.solve(gram, a.T @ onehot)


def image_performance(
    rates: np.ndarray,
    labels: np.ndarray,
    *,
    n_folds: int = 5,
    n_repeats: int = 4,
    ridge: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """Held-out performance ``(n_images, n_bins)`` of every image in every bin.

    ``rates`` (n_images, n_neuroids, n_bins), trial-averaged; ``labels`` category per image.
    """
    labels = np.asarray(labels)
    classes, index = np.unique(labels, return_inverse=True)
    onehot = np.eye(len(classes))[index]
    rng = np.random.default_rng(seed)
    performance = np.zeros((len(labels), rates.shape[2]))
    for _ in range(n_repeats):
        folds = fold_labels(index, n_folds, rng)
        for fold in range(n_folds):
            test = folds == fold
            for b in range(rates.shape[2]):
                scores = ridge_scores(rates[~test, :, b], onehot[~test], rates[test, :, b], ridge)
                true = scores[np.arange(test.sum()), index[test]][:, None]
                beaten = (scores < true).sum(1) / (len(classes) - 1)
                performance[test, b] += beaten / n_repeats
    return performance


def solution_times(
    performance: np.ndarray, bin_centres_ms: np.ndarray, criterion: float, hold: int = 3
) -> np.ndarray:
    """First time (ms) each image's performance reaches ``criterion`` and stays there for ``hold``
    bins (or to the last bin), linear between bin centres; nan where it never does.
    ``performance`` (n_images, n_bins)."""
    times = np.full(len(performance), np.nan)
    n_bins = performance.shape[1]
    for i, curve in enumerate(performance):
        above = curve >= criterion
        held = [j for j in range(n_bins) if above[j : j + hold].all()]
        if not held:
            continue
        j = held[0]
        if j == 0:
            times[i] = bin_centres_ms[0]
            continue
        fraction = (criterion - curve[j - 1]) / (curve[j] - curve[j - 1])
        times[i] = bin_centres_ms[j - 1] + fraction * (bin_centres_ms[j] - bin_centres_ms[j - 1])
    return times


def early_late(times: np.ndarray) -> np.ndarray:
    """``early`` / ``late`` per image: solved before / after the median solution time of the
    solved images; ``unsolved`` where there is none."""
    median = np.nanmedian(times)
    return np.where(np.isnan(times), "unsolved", np.where(times <= median, "early", "late"))


def solution_time_dataset(
    neural, *, region: str, criterion: float, n_folds: int, n_repeats: int, ridge: float, seed: int
):
    """Per-image performance over bins, solution time and early/late group from ``neural``
    (the trial-averaged temporal responses of :func:`insilico.it.protocol.ceiling.neural_targets`),
    decoding ``category_name`` from the sites of ``region``. Returns an xarray Dataset."""
    import xarray as xr

    sites = neural["region"].values.astype(str) == region
    rates = neural["rates"].values[:, sites]
    labels = neural["category_name"].values.astype(str)
    performance = image_performance(
        rates, labels, n_folds=n_folds, n_repeats=n_repeats, ridge=ridge, seed=seed
    )
    centres = (neural["time_bin_start"].values + neural["time_bin_end"].values) / 2.0
    times = solution_times(performance, centres, criterion)
    coords = {
        name: neural[name]
        for name in ("stimulus_id", "object_name", "category_name", "variation", "image_kind")
        if name in neural.coords
    }
    return xr.Dataset(
        {
            "performance": (("stimulus", "time_bin"), performance),
            "solution_time_ms": ("stimulus", times),
            "solved": ("stimulus", early_late(times)),
        },
        coords=coords
        | {
            "time_bin_start": neural["time_bin_start"],
            "time_bin_end": neural["time_bin_end"],
        },
        attrs={
            "region": region,
            "criterion": criterion,
            "protocol": (
                f"per 10 ms bin, ridge ({ridge}) least-squares category decoder on standardised "
                f"{region} responses, {n_folds}-fold stratified, {n_repeats} fold draws (seed "
                f"{seed}); performance: share of distractor categories scored below the true one; "
                f"solution time: first time it reaches {criterion} for 3 bins (linear between bin "
                "centres); early/late: before/after the median solution time"
            ),
        },
    )
