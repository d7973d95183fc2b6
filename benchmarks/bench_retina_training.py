"""Training throughput of the retina CNN: insilico's input pipeline against a plain reference.

insilico (src/insilico/training.py) keeps the whole standardised movie on the device as one
``(T, H, W)`` tensor and gathers every batch's history windows there by index arithmetic, with bf16
autocast on GPUs that support it. The plain reference is what the published code does: materialise
every history window in host memory (``history`` copies of the movie), wrap the windows in a
``TensorDataset`` and let a shuffling ``DataLoader`` collate batches that are then copied to the
device, in full precision. Both train the same model with the same loss and optimiser, in the same
process, on the same synthetic data; the script prints samples per second and the time of one epoch
(one pass over the windows) for each, and the speed-up.

Defaults are CPU-sized (seconds on 2 cores). Paper scale on a GPU, for example::

    python benchmarks/bench_retina_training.py --device cuda --size 50 --history 40 \\
        --channels 8 8 --kernels 15 11 --frames 20000 --batch-size 5000 --steps 20

(the materialised reference needs ``frames x history x size^2 x 4`` bytes of host memory, 8 GB here,
which is why the benchmark uses part of an hour-long movie: throughput does not depend on length).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from insilico.core.device import autocast
from insilico.retina.models import build_model
from insilico.retina.windows import (
    ModelInputs,
    WindowSampler,
    standardised_on_device,
    stimulus_moments,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu or cuda")
    parser.add_argument("--size", type=int, default=20, help="pixels per side")
    parser.add_argument("--history", type=int, default=20, help="frames per window")
    parser.add_argument("--frames", type=int, default=6000, help="frames of synthetic movie")
    parser.add_argument("--cells", type=int, default=8)
    parser.add_argument("--channels", type=int, nargs=2, default=[8, 8])
    parser.add_argument("--kernels", type=int, nargs=2, default=[9, 5])
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument(
        "--steps", type=int, default=0, help="timed batches per method (0: one whole epoch)"
    )
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    parser.add_argument(
        "--skip-reference", action="store_true", help="time only insilico's pipeline"
    )
    return parser.parse_args()


def make_data(args) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    stimulus = (rng.integers(0, 2, size=(args.frames, args.size, args.size)) * 255).astype(np.uint8)
    rates = rng.gamma(2.0, 5.0, size=(args.cells, args.frames))
    return stimulus, rates


def make_model(args, device: torch.device) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = build_model(
        "cnn",
        history=args.history,
        size=args.size,
        n_cells=args.cells,
        channels=list(args.channels),
        kernels=list(args.kernels),
    ).to(device)
    model.train()
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def step(model, optimizer, x, y, device) -> torch.Tensor:
    with autocast(device):
        rates = model(x).float()
    loss = F.poisson_nll_loss(rates, y, log_input=False) + model.regularization(rates)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_insilico(args, stimulus, rates, device) -> tuple[float, int]:
    """insilico's pipeline: movie on the device, windows gathered per batch, autocast."""
    mean, std = stimulus_moments(stimulus)
    inputs = ModelInputs(
        WindowSampler(standardised_on_device(stimulus, mean, std, device), args.history)
    )
    targets = torch.from_numpy(np.ascontiguousarray(rates.T, dtype=np.float32)).to(device)
    ends = torch.arange(args.history - 1, args.frames, device=device)
    model, optimizer = make_model(args, device)
    generator = torch.Generator().manual_seed(0)

    def batches():
        while True:
            order = torch.randperm(len(ends), generator=generator).to(device)
            yield from ends[order].split(args.batch_size)

    stream = batches()
    for _ in range(3):  # warm-up: kernels chosen, memory allocated
        batch = next(stream)
        step(model, optimizer, *inputs(batch), targets[batch], device)
    n_steps = args.steps or math.ceil(len(ends) / args.batch_size)
    synchronise(device)
    start = time.perf_counter()
    n_samples = 0
    for _ in range(n_steps):
        batch = next(stream)
        step(model, optimizer, *inputs(batch), targets[batch], device)
        n_samples += len(batch)
    synchronise(device)
    return time.perf_counter() - start, n_samples


def time_reference(args, stimulus, rates, device) -> tuple[float, int]:
    """Plain reference: materialised float32 windows in host memory, DataLoader, full precision."""
    mean, std = stimulus_moments(stimulus)
    movie = (stimulus.astype(np.float32) - mean) / std
    windows = np.lib.stride_tricks.sliding_window_view(movie, args.history, axis=0)
    windows = np.ascontiguousarray(windows.transpose(0, 3, 1, 2))  # (N, history, H, W), a copy
    targets = np.ascontiguousarray(rates[:, args.history - 1 :].T, dtype=np.float32)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(windows), torch.from_numpy(targets)),
        batch_size=args.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
        pin_memory=device.type == "cuda",
    )
    model, optimizer = make_model(args, device)

    def batches():
        while True:
            yield from loader

    stream = batches()
    for _ in range(3):
        x, y = next(stream)
        step(model, optimizer, x.to(device), y.to(device), torch.device("cpu"))
    n_steps = args.steps or len(loader)
    synchronise(device)
    start = time.perf_counter()
    n_samples = 0
    for _ in range(n_steps):
        x, y = next(stream)
        # Full precision: the reference has no autocast (it is given the CPU device here).
        step(model, optimizer, x.to(device), y.to(device), torch.device("cpu"))
        n_samples += len(x)
    synchronise(device)
    return time.perf_counter() - start, n_samples


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        devices = [torch.device("cpu")] + (
            [torch.device("cuda")] if torch.cuda.is_available() else []
        )
    else:
        devices = [torch.device(args.device)]
    stimulus, rates = make_data(args)
    n_windows = args.frames - args.history + 1
    print(
        f"retina CNN training throughput: {args.frames} frames of {args.size}x{args.size} px, "
        f"history {args.history}, {args.cells} cells, channels {args.channels}, kernels "
        f"{args.kernels}, batch {args.batch_size}; epoch = {n_windows} windows; "
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
    )
    print(f"{'device':<28} {'method':<34} {'samples/s':>12} {'epoch (s)':>10} {'speed-up':>9}")
    for device in devices:
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        amp = device.type == "cuda" and torch.cuda.is_bf16_supported()
        methods = [(f"insilico (device gather{', bf16' if amp else ''})", time_insilico)]
        if not args.skip_reference:
            methods.append(("reference (materialised, DataLoader)", time_reference))
        throughput = {}
        for label, method in methods:
            seconds, n_samples = method(args, stimulus, rates, device)
            throughput[label] = n_samples / seconds
        reference = throughput.get(methods[-1][0])
        for label, samples_per_second in throughput.items():
            speedup = samples_per_second / reference if reference else math.nan
            print(
                f"{name:<28} {label:<34} {samples_per_second:>12.0f} "
                f"{n_windows / samples_per_second:>10.2f} {speedup:>8.1f}x"
            )


if __name__ == "__main__":
    main()
