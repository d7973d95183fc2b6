"""The simulated retina's own ganglion types, measured like the learned types.

The circuit of :class:`insilico.retina.simulator.SimulatedRetina` (the retina branch's ground
truth) is shown binary white noise; each cell's space-time STA (the retina branch's
:func:`insilico.core.sta.spike_triggered_average`) gives its spatial size (the RMS radius of
the spatial field at the peak lag, the same measure as the learned filters'), its temporal filter
(the STA at its centre pixel) and peak time; the spacing of a type is the mean distance from each
cell to its nearest cell of the same type. The STA code is torch; this job runs no network.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from insilico.core.sta import spike_triggered_average
from insilico.core.units import GREY
from insilico.efficient_coding.measures import rms_radius
from insilico.retina.simulator import DT, SimulatedRetina, white_noise_movie


def ganglion_types(params: dict, seed: int, n_frames: int, history: int) -> xr.Dataset:
    """Size, temporal filter, peak time and same-type spacing of every simulated ganglion cell."""
    retina = SimulatedRetina(params, seed)
    movie = white_noise_movie(n_frames, retina.size, np.random.default_rng([seed, 28]))
    rate = retina.respond(movie, keep_internals=False)["rate"]
    stimulus = torch.from_numpy((movie.astype(np.float32) - GREY) / GREY)
    offsets = torch.arange(1 - history, 1)
    sta = spike_triggered_average(
        lambda ends: stimulus[ends[:, None] + offsets],
        torch.from_numpy(np.ascontiguousarray(rate.T, dtype=np.float32)),
        torch.arange(history - 1, n_frames),
    ).numpy()[:, ::-1]  # (cells, lag, H, W), lag 0 first
    cells = np.arange(len(sta))
    peak_lag = (sta**2).sum(axis=(2, 3)).argmax(axis=1)
    spatial = sta[cells, peak_lag]
    centre = [np.unravel_index(np.abs(s).argmax(), s.shape) for s in spatial]
    temporal = np.stack([sta[c, :, r, q] for c, (r, q) in zip(cells, centre, strict=True)])
    kinds = list(retina.cell_types)
    positions = np.asarray(retina.cell_centres, float)
    distance = np.hypot(*(positions[:, None] - positions[None]).transpose(2, 0, 1))
    same = np.equal.outer(kinds, kinds) & ~np.eye(len(kinds), dtype=bool)
    spacing = np.where(same, distance, np.inf).min(axis=1)
    return xr.Dataset(
        {
            "size": ("cell", [rms_radius(s) for s in spatial]),
            "peak_s": ("cell", peak_lag * DT),
            "temporal": (("cell", "lag"), temporal),
            "spacing": ("cell", np.where(np.isfinite(spacing), spacing, np.nan)),
        },
        coords={"cell": cells, "cell_type": ("cell", kinds), "lag": np.arange(history) * DT},
        attrs={"n_frames": n_frames, "seed": seed},
    )
