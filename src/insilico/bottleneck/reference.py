"""Reference receptive fields: the simulated retina's ganglion cells, measured like the networks.

The circuit of :class:`insilico.retina.simulator.SimulatedRetina` (the retina branch's ground
truth, built from the same settings and seed as its recordings) is shown binary white noise; the
spike-triggered average of each cell's noiseless rate over a history of ``history`` frames
(:func:`insilico.core.sta.spike_triggered_average`, the code that measures the networks'
STA fields) is a space-time field, and its spatial receptive field is the frame at the lag of
largest energy. Its centre-surround and orientedness indices are the reference values of the
figures: what a real-like retina's output looks like by the same measures.

The STA code is torch; this job runs no network.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from insilico.core.sta import spike_triggered_average
from insilico.core.units import GREY
from insilico.retina.simulator import DT, SimulatedRetina, white_noise_movie


def ganglion_fields(params: dict, seed: int, n_frames: int, history: int) -> xr.Dataset:
    """Spatial receptive fields (cell, row, col) of the simulated ganglion cells, with their type."""
    retina = SimulatedRetina(params, seed)
    movie = white_noise_movie(n_frames, retina.size, np.random.default_rng([seed, 19]))
    rate = retina.respond(movie, keep_internals=False)["rate"]  # (cells, T)
    stimulus = torch.from_numpy((movie.astype(np.float32) - GREY) / GREY)
    offsets = torch.arange(1 - history, 1)
    sta = spike_triggered_average(
        lambda ends: stimulus[ends[:, None] + offsets],
        torch.from_numpy(np.ascontiguousarray(rate.T, dtype=np.float32)),
        torch.arange(history - 1, n_frames),
    ).numpy()  # (cells, history, H, W), last frame = lag 0
    peak = (sta**2).sum(axis=(2, 3)).argmax(axis=1)
    spatial = sta[np.arange(len(sta)), peak]
    return xr.Dataset(
        {
            "rf": (("cell", "row", "col"), spatial),
            "peak_lag_s": ("cell", (history - 1 - peak) * DT),
        },
        coords={"cell": np.arange(len(sta)), "cell_type": ("cell", list(retina.cell_types))},
        attrs={"n_frames": n_frames, "history": history, "seed": seed},
    )
