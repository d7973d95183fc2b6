"""Pairwise SVCCA/CKA/Procrustes distances: blocks of pairs against one pair at a time.

insilico reduces every network once and computes all pairs ``block x block`` at a time with one
einsum and one batched SVD per block (:func:`insilico.dynamics.similarity.pairwise_distances`).
The reference computes one pair per call, as a job-per-pair (or loop-per-pair) design would, on
the same reductions (so the per-network SVDs are excluded from both timings). Both run in the same
process on random activations shaped like the pipeline's (``--samples`` probe samples x
``--units`` hidden units per network); the script prints pairs per second for each and checks
that both give the same distances.

Defaults are CPU-sized (seconds); paper-sized on a GPU::

    python benchmarks/bench_dynamics_similarity.py --device cuda --networks 1080 --units 128 \\
        --samples 4096 --block 128 --reference-pairs 2000
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import torch

from insilico.dynamics.similarity import Representations, pairwise_distances, represent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", type=int, default=96)
    parser.add_argument("--units", type=int, default=16)
    parser.add_argument("--samples", type=int, default=1280)
    parser.add_argument("--block", type=int, default=64)
    parser.add_argument("--reference-pairs", type=int, default=300)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    latent = torch.randn(args.samples, 4, generator=generator, dtype=torch.float64)
    activations = [
        torch.tanh(
            latent @ torch.randn(4, args.units, generator=generator, dtype=torch.float64)
            + 0.3 * torch.randn(args.samples, args.units, generator=generator, dtype=torch.float64)
        ).to(device)
        for _ in range(args.networks)
    ]
    reps = represent(activations, variance=0.99, max_dims=10)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    sync()
    started = time.perf_counter()
    batched = pairwise_distances(reps, block=args.block)
    sync()
    batched_time = time.perf_counter() - started
    n_pairs = args.networks * (args.networks - 1) // 2

    pairs = list(itertools.combinations(range(args.networks), 2))[: args.reference_pairs]
    started = time.perf_counter()
    for i, j in pairs:
        index = torch.tensor([i, j], device=device)
        pair = Representations(reps.scores[index], reps.bases[index], reps.dims[index.cpu()])
        single = pairwise_distances(pair, block=2)
        for name in single:
            assert np.isclose(single[name][0, 1], batched[name][i, j], atol=1e-8)
    sync()
    single_time = time.perf_counter() - started

    print(
        f"{args.networks} networks ({n_pairs} pairs), {args.samples} samples x {args.units} units, "
        f"device {device}, torch threads {torch.get_num_threads()}"
    )
    print(f"{'mode':44s} {'pairs':>8s} {'time (s)':>9s} {'pairs/s':>10s}")
    print(
        f"{'blocks of ' + str(args.block) + ' x ' + str(args.block) + ' pairs (insilico)':44s} "
        f"{n_pairs:8d} {batched_time:9.3f} {n_pairs / batched_time:10.0f}"
    )
    print(
        f"{'one pair at a time':44s} {len(pairs):8d} {single_time:9.3f} "
        f"{len(pairs) / single_time:10.0f}"
    )
    print(
        f"speed-up: {(n_pairs / batched_time) / (len(pairs) / single_time):.1f}x (same distances)"
    )


if __name__ == "__main__":
    main()
