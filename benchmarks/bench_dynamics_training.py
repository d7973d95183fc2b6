"""Training a population: networks stacked into one model against one network at a time.

What ``dynamics.networks_per_job`` trades: a job that trains ``n`` networks pays the start of a
Python process with torch once (measured here, in a subprocess) and, inside the job, networks of
one architecture and size train in lockstep as one stacked model (batched matrix products and a
per-network Adam, :mod:`insilico.dynamics.train`). The script times ``--steps`` training steps of
stacks of 1, 4, 16 and 64 networks (same task, sizes and batch as the default config) and prints,
per stack size, network-steps per second and the estimated time to train that many networks for
``--train-steps`` steps as one job versus one job per network.

Defaults are CPU-sized (a minute on 2 cores); on a GPU add ``--device cuda`` (and larger
``--hidden``/``--sizes``), where a stack of hundreds of networks costs about what one costs.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time

import torch

from insilico.dynamics.population import NetworkSpec
from insilico.dynamics.tasks import make_task
from insilico.dynamics.train import train_stack


def process_start_seconds() -> float:
    """Wall time to start Python and import what a training job imports."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import insilico.dynamics.train, insilico.retina.train"], check=True
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="flipflop")
    parser.add_argument("--arch", default="gru")
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per stack")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--train-steps", type=int, default=300, help="steps of a full training")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    task = make_task(args.task, {"steps": 40})
    train = {"steps": args.steps, "batch_size": args.batch_size, "grad_clip": 1.0}
    log = logging.getLogger("bench")
    start = process_start_seconds()
    print(
        f"{args.arch} networks, hidden {args.hidden}, task {args.task} ({task.n_steps} steps per "
        f"trial), batch {args.batch_size}, device {device}, torch threads {torch.get_num_threads()}"
    )
    print(f"starting a job's Python process with torch: {start:.2f} s")
    steps = args.train_steps
    print(
        f"{'networks per stack':>18s} {'s/step':>9s} {'network-steps/s':>16s} {'vs 1':>6s} "
        f"{'one job (s)':>12s} {'a job each (s)':>15s}"
    )
    rates = {}
    for size in args.sizes:
        specs = [
            NetworkSpec(args.task, args.arch, args.hidden, 0.01, 0.0, seed) for seed in range(size)
        ]
        train_stack(task, args.arch, args.hidden, specs, {**train, "steps": 1}, device, log)
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        train_stack(task, args.arch, args.hidden, specs, train, device, log)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = (time.perf_counter() - started) / args.steps
        rates[size] = size / seconds
        one_job = start + steps * seconds
        job_each = size * (start + steps / rates[args.sizes[0]])
        print(
            f"{size:18d} {seconds:9.4f} {rates[size]:16.1f} {rates[size] / rates[args.sizes[0]]:5.1f}x "
            f"{one_job:12.0f} {job_each:15.0f}"
        )
    print(
        f"one job: the stack's networks trained together for {steps} steps, plus one process start; "
        f"a job each: each network alone in its own job (process start + {steps} steps)."
    )


if __name__ == "__main__":
    main()
