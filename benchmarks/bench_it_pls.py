"""Brain-Score PLS: insilico's batched closed form against scikit-learn's PLSRegression loop.

Brain-Score fits ``PLSRegression(n_components=25, scale=False)`` once per split (and, for a
temporal benchmark, once per time bin): ``splits x bins`` sequential NIPALS fits, each iterating a
power method. :func:`insilico.it.protocol.score.cross_validated_r` fits all of them at once
(one batched closed form of the same iteration, see its module docstring). Both run here on the
same random layer activations and neural targets, the script checks that they give the same
held-out correlations, and prints wall time and fits per second for each.

Defaults are CPU-sized (about a minute on 2 cores: 10 splits x 19 bins, 384 stimuli, 200
features, 30 neuroids, as the default config scores one ConvRNN layer). On a GPU, at Brain-Score
scale (3200 stimuli, 1000 PCA features, 168 IT sites)::

    python benchmarks/bench_it_pls.py --device cuda --stimuli 3200 --features 1000 \\
        --neuroids 168 --bins 19 --reference-fits 10
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from insilico.core.splits import stratified_shuffle_splits
from insilico.core.stats import pearson_torch
from insilico.it.protocol.pls import N_COMPONENTS, cross_validated_r


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stimuli", type=int, default=384)
    parser.add_argument("--features", type=int, default=200)
    parser.add_argument("--neuroids", type=int, default=30)
    parser.add_argument(
        "--bins", type=int, default=19, help="time bins (one PLS fit per bin and split)"
    )
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--objects", type=int, default=64)
    parser.add_argument(
        "--reference-fits", type=int, default=20, help="sklearn fits timed (extrapolated)"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: torch's default)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from sklearn.cross_decomposition import PLSRegression

    rng = np.random.default_rng(0)
    latent = rng.normal(size=(args.stimuli, 10))
    X = (
        latent @ rng.normal(size=(10, args.features))
        + rng.normal(size=(args.stimuli, args.features))
    )[None]
    Y = np.stack(
        [
            latent @ rng.normal(size=(10, args.neuroids))
            + 2 * rng.normal(size=(args.stimuli, args.neuroids))
            for _ in range(args.bins)
        ]
    )
    labels = np.arange(args.stimuli) % args.objects
    masks = stratified_shuffle_splits(labels, args.splits, 0.9, seed=0)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    n_fits = args.bins * args.splits

    warm_up = stratified_shuffle_splits(labels[:60], 2, 0.9, seed=0)
    cross_validated_r(X[:, :60], Y[:1, :60], warm_up, device=device, dtype=dtype)
    _synchronise(device)
    start = time.perf_counter()
    batched = cross_validated_r(X, Y, masks, N_COMPONENTS, device=device, dtype=dtype)
    _synchronise(device)
    batched_seconds = time.perf_counter() - start

    reference = np.full((min(args.reference_fits, n_fits), args.neuroids), np.nan)
    pairs = [(b, s) for b in range(args.bins) for s in range(args.splits)][: len(reference)]
    start = time.perf_counter()
    for i, (b, s) in enumerate(pairs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pls = PLSRegression(n_components=N_COMPONENTS, scale=False).fit(
                X[0][masks[s]], Y[b][masks[s]]
            )
        pred = pls.predict(X[0][~masks[s]])
        reference[i] = pearson_torch(
            torch.tensor(pred), torch.tensor(Y[b][~masks[s]]), dim=-2
        ).numpy()
    reference_seconds = (time.perf_counter() - start) * n_fits / len(pairs)
    mine = np.stack([batched[b, s] for b, s in pairs])
    difference = np.nanmax(np.abs(mine - reference))

    print(
        f"{n_fits} PLS fits ({args.bins} bins x {args.splits} splits), {args.stimuli} stimuli, "
        f"{args.features} features, {args.neuroids} neuroids, {N_COMPONENTS} components"
    )
    print(
        f"  scikit-learn loop : {reference_seconds:8.2f} s  ({n_fits / reference_seconds:8.1f} fits/s; "
        f"extrapolated from {len(pairs)} fits)"
    )
    print(
        f"  insilico batched  : {batched_seconds:8.2f} s  ({n_fits / batched_seconds:8.1f} fits/s) "
        f"on {args.device} in {args.dtype}"
    )
    print(f"  speed-up          : {reference_seconds / batched_seconds:8.1f} x")
    print(f"  max |r difference| over the compared fits: {difference:.2e}")


if __name__ == "__main__":
    main()
