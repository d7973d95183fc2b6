"""Seconds per layer for the manifold-capacity analysis: batched anchor solver against one at a time.

Both run here, in the same process, on the same manifolds with the same Gaussian samples:
``batched`` (block principal pivoting over all samples of a manifold at once, KKT-checked,
:func:`insilico.geometry.qp.solve_batched`) and ``reference`` (one quadprog solve per sample,
:func:`insilico.geometry.qp.solve_reference`). The default "layer" has the size of one IT-branch
layer at the default config (P object manifolds of M images in N features); ``--example`` runs the
reference implementation's published example instead (N = 5000, M = 50, P = 100). The script
prints wall time per layer for each solver, the speed-up, and the largest difference in capacity,
radius and dimension between the two (they must agree: same problem, exact solvers).

    python benchmarks/bench_geometry_capacity.py [--example] [--n-t 200]
    python benchmarks/bench_geometry_capacity.py --layer results/it/activations/<key>/cnn/trained/seed0/conv4.nc \\
        --neural results/it/neural.nc       # a layer the pipeline cached, its object manifolds
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from insilico.core.io import read_netcdf
from insilico.geometry.capacity import manifold_analysis
from insilico.geometry.layers import WINDOW_STEP, aligned_activations, manifolds_of, step_features


def layer_like(n_features: int, n_manifolds: int, n_points: int, seed: int) -> list[np.ndarray]:
    """Correlated clouds like a network layer: shared low-rank structure plus object clouds."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal((n_features, 20))
    manifolds = []
    for _ in range(n_manifolds):
        centre = shared @ rng.standard_normal(20) + rng.standard_normal(n_features)
        manifolds.append(centre[:, None] + 3.0 * rng.standard_normal((n_features, n_points)))
    return manifolds


def cached_layer(layer_path: str, neural_path: str) -> list[np.ndarray]:
    """Object manifolds of a layer file the pipeline wrote (window mean for a ConvRNN)."""
    acts, neural = read_netcdf(layer_path), read_netcdf(neural_path)
    values = aligned_activations(acts, neural["stimulus_id"].values.astype(str))
    window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
    features = step_features(acts, values, window, every=values.shape[1])[WINDOW_STEP]
    return manifolds_of(features, neural["object_name"].values.astype(str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", action="store_true", help="the published Gaussian example")
    parser.add_argument("--n-t", type=int, default=200)
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--manifolds", type=int, default=64)
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--layer", help="a cached activation file (needs --neural)")
    parser.add_argument("--neural", help="the neural targets whose object labels define manifolds")
    args = parser.parse_args()
    if args.layer:
        manifolds = cached_layer(args.layer, args.neural)
    elif args.example:
        rng = np.random.default_rng(0)
        manifolds = [rng.standard_normal((5000, 50)) for _ in range(100)]
    else:
        manifolds = layer_like(args.features, args.manifolds, args.points, seed=0)
    shape = f"P={len(manifolds)} M={manifolds[0].shape[1]} N={manifolds[0].shape[0]} n_t={args.n_t}"
    results, seconds = {}, {}
    for solver in ("batched", "reference"):
        started = time.perf_counter()
        results[solver] = manifold_analysis(manifolds, n_t=args.n_t, solver=solver)
        seconds[solver] = time.perf_counter() - started
        g = results[solver]
        print(
            f"{solver:9s} {shape}: {seconds[solver]:7.2f} s/layer  capacity {g.capacity:.4f} "
            f"radius {g.radius:.3f} dimension {g.dimension:.2f} (fallbacks {g.n_fallback})"
        )
    a, b = results["batched"], results["reference"]
    difference = max(
        abs(a.capacity - b.capacity), abs(a.radius - b.radius), abs(a.dimension - b.dimension)
    )
    print(
        f"speed-up {seconds['reference'] / seconds['batched']:.1f}x; largest difference {difference:.2e}"
    )


if __name__ == "__main__":
    main()
