"""Fixed points found per second: insilico's population batch against one state at a time.

The published toolkit (mattgolub/fixed-point-finder) optimises the initial states of *one* network
as a batch and is called once per network; the simplest reference optimises one initial state at a
time. insilico optimises every initial state of every network of a stack as one batch
(:func:`insilico.dynamics.fixed_points.find_fixed_points`). All three run here, in the same
process, with the same optimiser settings, on the same trained networks (a stack of flip-flop
networks trained first, or the networks of a checkpoint written by the pipeline), and the script
prints for each: wall time, initial states optimised per second, and unique fixed points per second.

The one-state reference is run on ``--reference-states`` states per network (it is slow by
construction); its rates are per state and extrapolate linearly. Because each point keeps its own
optimiser state, every mode finds the same points from the same initial states (checked).

Defaults are CPU-sized (about a minute on 2 cores). On a GPU, for example::

    python benchmarks/bench_dynamics_fixed_points.py --device cuda --networks 64 --hidden 128 \\
        --states 1024 --reference-states 4
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import fields

import torch

from insilico.dynamics import cells
from insilico.dynamics.analysis import DTYPE, initial_states
from insilico.dynamics.fixed_points import FixedPointOptions, FixedPoints, find_fixed_points
from insilico.dynamics.population import NetworkSpec
from insilico.dynamics.tasks import make_task
from insilico.dynamics.train import Stack, load_chunk, train_stack


def _converged(points: FixedPoints, tol_q: float) -> FixedPoints:
    """The points whose speed ``q`` is below ``tol_q`` (fixed, not slow, points)."""
    keep = points.q < tol_q
    return FixedPoints(
        **{field.name: getattr(points, field.name)[keep] for field in fields(points)}
    )


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _timed(device, function):
    _synchronise(device)
    started = time.perf_counter()
    result = function()
    _synchronise(device)
    return result, time.perf_counter() - started


def _unique_count(groups: torch.Tensor, states: torch.Tensor, tolerance: float) -> int:
    """Distinct points per network (greedy merge at ``tolerance``), summed over networks."""
    total = 0
    for group in groups.unique():
        keep: list[torch.Tensor] = []
        for state in states[groups == group]:
            if all((state - other).norm() >= tolerance for other in keep):
                keep.append(state)
        total += len(keep)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--checkpoint", help="a training checkpoint of the pipeline (first stack used)"
    )
    parser.add_argument("--arch", default="gru")
    parser.add_argument("--networks", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--train-steps", type=int, default=150)
    parser.add_argument("--states", type=int, default=128, help="initial states per network")
    parser.add_argument("--reference-states", type=int, default=8)
    parser.add_argument("--max-iters", type=int, default=300)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    log = logging.getLogger("bench")

    if args.checkpoint:
        stacks, meta = load_chunk(args.checkpoint)
        stack, task = stacks[0], make_task(meta["task"], meta["task_params"])
    else:
        task = make_task("flipflop", {"steps": 30})
        specs = [
            NetworkSpec("flipflop", args.arch, args.hidden, 0.02, 0.0, seed)
            for seed in range(args.networks)
        ]
        train = {"steps": args.train_steps, "batch_size": 32, "grad_clip": 1.0}
        stack, _ = train_stack(task, args.arch, args.hidden, specs, train, device, log)
    stack = stack.to(device, DTYPE)
    n = len(stack.networks)
    settings = {"seed": 0, "probe_trials": 16, "initial_states": args.states, "noise_std": 0.02}
    states, inputs, keys = initial_states(stack, task, settings, device)
    # No merging inside the timed runs (each mode counts every converged state; duplicates are
    # merged afterwards, untimed) and no slow-point snapshots: the work is the same in every mode.
    options = FixedPointOptions(max_iters=args.max_iters, unique_tolerance=0.0, slow_spacing=0.0)
    fixed = lambda points: _converged(points, options.tol_q)  # noqa: E731

    batched, batched_time = _timed(
        device, lambda: fixed(find_fixed_points(stack.step, states, inputs, options, keys))
    )

    def per_network():
        found = []
        for i in range(n):
            single = Stack(
                stack.task,
                stack.arch,
                stack.hidden,
                [stack.networks[i]],
                cells.unstack(stack.params, i),
            )
            points = fixed(
                find_fixed_points(
                    single.step, states[i : i + 1], inputs[i : i + 1], options, keys[i : i + 1]
                )
            )
            points.group[:] = i
            found.append(points)
        return found

    networks, network_time = _timed(device, per_network)

    k_ref = min(args.reference_states, states.shape[1])

    def one_at_a_time():
        found = []
        for i in range(n):
            single = Stack(
                stack.task,
                stack.arch,
                stack.hidden,
                [stack.networks[i]],
                cells.unstack(stack.params, i),
            )
            for k in range(k_ref):
                points = fixed(
                    find_fixed_points(
                        single.step,
                        states[i : i + 1, k : k + 1],
                        inputs[i : i + 1, k : k + 1],
                        options,
                        keys[i : i + 1, k : k + 1],
                    )
                )
                points.group[:] = i
                found.append(points)
        return found

    singles, single_time = _timed(device, one_at_a_time)

    def merged(parts) -> tuple[int, int]:
        points = [parts] if not isinstance(parts, list) else parts
        converged = sum(len(p) for p in points)
        groups = torch.cat([p.group for p in points])
        states_found = torch.cat([p.states for p in points])
        return converged, _unique_count(groups, states_found, 1e-3)

    rows = [
        (
            "all networks x all states in one batch (insilico)",
            batched_time,
            n * states.shape[1],
            *merged(batched),
        ),
        (
            "one network at a time (fixed-point-finder style)",
            network_time,
            n * states.shape[1],
            *merged(networks),
        ),
        (
            f"one state at a time ({k_ref} states per network)",
            single_time,
            n * k_ref,
            *merged(singles),
        ),
    ]
    print(
        f"{n} {stack.arch} networks (hidden {stack.hidden}, state {stack.state_size}), task "
        f"{task.name}, {states.shape[1]} initial states each, device {device}, "
        f"max_iters {args.max_iters}, torch threads {torch.get_num_threads()}"
    )
    print(
        f"{'mode':52s} {'time (s)':>9s} {'states/s':>9s} {'fixed pts/s':>12s} "
        f"{'unique/net':>11s} {'speed-up':>9s}"
    )
    reference_rate = rows[2][2] / rows[2][1]
    for name, seconds, n_run, n_converged, n_unique in rows:
        rate = n_run / seconds
        print(
            f"{name:52s} {seconds:9.2f} {rate:9.1f} {n_converged / seconds:12.1f} "
            f"{n_unique / n:11.1f} {rate / reference_rate:8.1f}x"
        )
    print(
        "fixed pts/s: initial states that converged to a fixed point (q < tol_q) per second; "
        "unique/net: distinct fixed points per network (merged at distance 1e-3); speed-up: "
        "states per second relative to one state at a time."
    )


if __name__ == "__main__":
    main()
