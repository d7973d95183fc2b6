"""Integrated-gradients throughput: insilico's batched path against one path point at a time.

insilico's attribution (:func:`insilico.mechanisms.attribution.integrated_gradients`) runs the
first convolution once per window and expands its output along the integration path inside a
forward hook, then evaluates every (window, step) of a batch together on the device. Two
references run here on the same CNN, stimulus windows and step count:

- ``full path``: every path point through the whole network, batched the same way (what
  attribution costs without the first-layer trick);
- ``one window``: the batched code, but one window (all its steps) per batch, as a per-window
  Python loop would do.

The script prints path points (window x (steps + 1)) per second for each, and checks that all
three give the same attributions. Sizes: ``default`` is the CNN of config.yaml (20x20 pixels, 20
frames), ``paper`` that of config/paper.yaml (50x50, 40 frames, channels 16 and 8). For example::

    python benchmarks/bench_mechanisms_attribution.py --size default --steps 16
    python benchmarks/bench_mechanisms_attribution.py --size paper --steps 100 --device cuda \\
        --windows 512 --batch-size 65536
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from insilico.mechanisms import attribution, stimuli
from insilico.retina.models import build_model

SIZES = {
    "tiny": {"size": 12, "history": 8, "channels": [4, 4], "kernels": [5, 3]},
    "default": {"size": 20, "history": 20, "channels": [8, 8], "kernels": [9, 5]},
    "paper": {"size": 50, "history": 40, "channels": [16, 8], "kernels": [15, 9]},
}
N_CELLS = 8


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _full_path(model, windows, steps, batch_size):
    """Reference: every path point through the whole network (no first-layer expansion)."""
    alphas = torch.linspace(0, 1, steps + 1, device=windows.baseline.device)
    index = np.arange(len(windows))
    per_batch = max(1, batch_size // (steps + 1))
    out = []
    with attribution.frozen(model):
        for first in range(0, len(index), per_batch):
            x = windows(index[first : first + per_batch])
            n = len(x)
            path = windows.baseline + alphas[:, None, None, None, None] * (x - windows.baseline)
            path = path.transpose(0, 1).reshape(-1, *x.shape[1:]).requires_grad_(True)
            with attribution.probe(model) as activity:
                rates = model(path)
            hidden = activity[1]
            per_cell = []
            for cell in range(rates.shape[1]):
                (g,) = torch.autograd.grad(rates[:, cell].sum(), [hidden], retain_graph=True)
                h = hidden.detach().reshape(n, steps + 1, *hidden.shape[1:])
                g = g.reshape(h.shape)
                step = (g[:, 1:] + g[:, :-1]) / 2 * (h[:, 1:] - h[:, :-1])
                per_cell.append(step.sum((1, 3, 4)))
            out.append(torch.stack(per_cell, dim=1))
    return torch.cat(out).cpu().numpy()


def _timed(device, function):
    _synchronise(device)
    started = time.perf_counter()
    result = function()
    _synchronise(device)
    return result, time.perf_counter() - started


def _first_bins(stimulus, n_time: int):
    """The stimulus cut to its first ``n_time`` bins (and the frames they need)."""
    pad = stimulus.attrs["pad"]
    return stimulus.isel(time=slice(0, n_time), frame=slice(0, pad + n_time))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--windows", type=int, default=120, help="stimulus windows attributed")
    parser.add_argument("--batch-size", type=int, default=4096, help="path points per batch")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    geometry = SIZES[args.size]
    torch.manual_seed(0)
    model = build_model(
        "cnn",
        history=geometry["history"],
        size=geometry["size"],
        n_cells=N_CELLS,
        channels=geometry["channels"],
        kernels=geometry["kernels"],
    ).eval()
    model.to(device)
    meta = {
        "history": geometry["history"],
        "size": geometry["size"],
        "cell_names": [f"cell{i:02d}" for i in range(1, N_CELLS + 1)],
        "stimulus_mean": 127.5,
        "stimulus_std": 90.0,
    }
    # One contrast-reversing grating: no window of it is all grey, so every window is attributed.
    params = {
        "bar_widths": [2],
        "n_phases": 1,
        "half_period_frames": 20,
        "cycles": max(1, -(-args.windows // 40)),
        "contrast": 1.0,
    }
    grating = stimuli.render("reversing_grating", params, geometry["size"], geometry["history"])
    stimulus = _first_bins(grating, args.windows)
    windows = attribution.Windows(stimulus, meta, device)
    points = len(windows) * (args.steps + 1)
    print(
        f"{args.size} CNN ({geometry['size']}x{geometry['size']} px, {geometry['history']} frames, "
        f"channels {geometry['channels']}), {N_CELLS} cells, {len(windows)} windows x "
        f"{args.steps + 1} path points, batch {args.batch_size}, device {device}, "
        f"{torch.get_num_threads()} threads"
    )

    def batched():
        return attribution.integrated_gradients(model, windows, args.steps, args.batch_size)

    batched()  # warm-up
    result, seconds = _timed(device, batched)
    print(f"  insilico (batched, first layer expanded): {points / seconds:10.0f} path points/s")

    few = attribution.Windows(_first_bins(stimulus, max(1, args.windows // 10)), meta, device)
    single, seconds = _timed(
        device, lambda: attribution.integrated_gradients(model, few, args.steps, args.steps + 1)
    )
    rate = len(few) * (args.steps + 1) / seconds
    print(f"  one window per batch:                     {rate:10.0f} path points/s")

    full, seconds = _timed(device, lambda: _full_path(model, windows, args.steps, args.batch_size))
    print(f"  full path through the network:            {points / seconds:10.0f} path points/s")
    np.testing.assert_allclose(result["layer1"], full, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(single["layer1"], result["layer1"][: len(few)], rtol=1e-3, atol=1e-4)
    print("  same layer-1 attributions from all three: ok")


if __name__ == "__main__":
    main()
