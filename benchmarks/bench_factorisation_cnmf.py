"""Convolutive NMF: HALS and ANLS against multiplicative updates, loss against wall-clock time.

Degleris, Antin, Ganguli & Williams (2019) fit CNMF by block-coordinate HALS and ANLS and report
them faster than the usual multiplicative updates (MU). This runs all three on one planted
sequence data set (the paper's N = 250, K = 5, L = 20; T from the command line, the paper used
500 to 50000) from the same random start with the same objective and stopping rule, prints the
loss against time for each, and the time each needs to reach MU's final loss (MU is the
reference in the same run). CPU, single-threaded numpy; about a minute at the defaults::

    OMP_NUM_THREADS=1 python benchmarks/bench_factorisation_cnmf.py --t 10000 --max-time 60
"""

from __future__ import annotations

import argparse

import numpy as np

from insilico.factorisation.experiments import cnmf_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=250)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--l", type=int, default=20)
    parser.add_argument("--t", type=int, default=2500)
    parser.add_argument("--max-time", type=float, default=20.0, help="seconds per method")
    parser.add_argument("--tol", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    params = {
        "n": args.n,
        "k": args.k,
        "l": args.l,
        "t": args.t,
        "rate": 0.01,
        "noise": 0.1,
        "methods": ["mu", "hals", "anls"],
        "max_iter": 100_000,
        "tol": args.tol,
        "max_time": args.max_time,
    }
    ds = cnmf_benchmark(params, args.seed)
    print(
        f"CNMF N={args.n} K={args.k} L={args.l} T={args.t}; planted loss {ds.attrs['truth_loss']:.4f}"
    )
    for method in map(str, ds["algorithm"].values):
        sel = ds.sel(algorithm=method)
        ok = np.isfinite(sel["loss"].values)
        times, losses = sel["time"].values[ok], sel["loss"].values[ok]
        marks = np.unique(np.linspace(0, len(times) - 1, 8).astype(int))
        trace = ", ".join(f"{times[i]:.1f}s:{losses[i]:.4f}" for i in marks)
        print(f"{method:5s} loss vs time: {trace}")
    print(f"MU final loss {ds.attrs['mu_final_loss']:.4f}")
    for method in map(str, ds["algorithm"].values):
        sel = ds.sel(algorithm=method)
        print(
            f"{method:5s} final {float(sel['final_loss']):.4f}  time to MU final "
            f"{float(sel['time_to_mu_final']):.2f} s  speed-up vs MU "
            f"{float(sel['speedup_vs_mu']):.2f}  motif similarity "
            f"{float(sel['motif_similarity'].mean()):.3f}"
        )


if __name__ == "__main__":
    main()
