"""Retinal waves: an excitable medium with refractoriness on a 2-D sheet (numpy only).

Before eye opening the mammalian retina fires in spontaneous waves. Stage II (cholinergic) waves,
measured with multielectrode arrays and calcium imaging:

- they propagate at about 100-300 um/s (Meister, Wong, Baylor & Shatz 1991, Science 252: 939,
  ferret, ~100 um/s; Feller, Wellis, Stellwagen, Werblin & Shatz 1996, Science 272: 1182,
  ~100-300 um/s; Maccione et al. 2014, J Physiol 592: 1545, mouse, ~100-200 um/s);
- a given patch of retina takes part in a wave every tens of seconds to a few minutes (Feller et
  al. 1996: ~1-2 min; Meister et al. 1991: ~0.5-2 min), because cells are refractory for tens of
  seconds after a wave (slow afterhyperpolarisation of starburst amacrine cells, Zheng, Lee &
  Zhou 2006, Nat Neurosci 9: 363);
- waves cover patches of very variable size, bounded by the refractory territory that earlier
  waves left (Feller, Butts, Aaron, Rokhsar & Shatz 1997, Neuron 19: 293: domains from < 0.1 to
  > 1 mm^2).

The model is a three-state stochastic cellular automaton on a square grid (``spacing_um`` per
cell, ``dt_s`` per step), in the spirit of Butts, Feller, Shatz & Rokhsar 1999 and Hennig et al.
2009: a resting cell becomes active spontaneously with probability ``p_spontaneous`` per step, or
is recruited with probability ``1 - (1 - q)^n`` by its n active neighbours (8-neighbourhood); an
active cell stays active ``active_steps`` steps, then refractory ``refractory_steps`` steps, then
rests. With ``q = 1`` a front advances exactly one cell per step along the grid axes: the
propagation speed is ``spacing_um / dt_s`` (the design check of :func:`axis_front_speed`).
Movies are rendered at the model's input size as a calcium indicator would show them: activity
low-pass filtered in time and blurred in space (:func:`render`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, signal

RESTING, ACTIVE = 0, 1  # state codes; refractory cells count down from ACTIVE + refractory
_NEIGHBOURS = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]])


@dataclass(frozen=True)
class WaveParams:
    grid: int = 64  # cells per side
    spacing_um: float = 50.0
    dt_s: float = 0.25
    active_steps: int = 4
    refractory_steps: int = 160
    p_spontaneous: float = 2e-6
    recruit: float = 0.6  # q: recruitment probability per active neighbour and step

    @classmethod
    def from_config(cls, settings: dict) -> WaveParams:
        return cls(**{key: settings[key] for key in cls.__dataclass_fields__})


def step(timer: np.ndarray, params: WaveParams, rng: np.random.Generator, seeds=None) -> np.ndarray:
    """One update of the sheet. ``timer`` counts the steps a cell has left in its current phase:
    0 resting, 1..refractory_steps refractory, above that active. Returns the new timer."""
    active = timer > params.refractory_steps
    n_active = ndimage.convolve(active.astype(np.int8), _NEIGHBOURS, mode="constant")
    resting = timer == 0
    p_recruit = 1.0 - (1.0 - params.recruit) ** n_active
    fire = resting & (rng.random(timer.shape) < np.maximum(p_recruit, params.p_spontaneous))
    if seeds is not None:
        fire |= resting & seeds
    new = np.where(timer > 0, timer - 1, 0)
    new[fire] = params.refractory_steps + params.active_steps
    return new


def simulate(params: WaveParams, n_steps: int, seed: int, burn_in: int = 0) -> np.ndarray:
    """Active cells ``(n_steps, grid, grid)`` (bool) after ``burn_in`` discarded steps."""
    rng = np.random.default_rng(seed)
    timer = np.zeros((params.grid, params.grid), dtype=np.int32)
    out = np.zeros((n_steps, params.grid, params.grid), dtype=bool)
    for t in range(burn_in + n_steps):
        timer = step(timer, params, rng)
        if t >= burn_in:
            out[t - burn_in] = timer > params.refractory_steps
    return out


def axis_front_speed(params: WaveParams, n_steps: int) -> float:
    """Speed (um/s) of a front started by one cell in the middle of a quiet sheet, measured along
    the row axis from the last step's furthest active cell (the analytic value with q = 1:
    ``spacing_um / dt_s``)."""
    rng = np.random.default_rng(0)
    quiet = WaveParams(**{**params.__dict__, "p_spontaneous": 0.0})
    centre = params.grid // 2
    seeds = np.zeros((params.grid, params.grid), dtype=bool)
    seeds[centre, centre] = True
    timer = step(np.zeros_like(seeds, dtype=np.int32), quiet, rng, seeds)
    for _ in range(n_steps):
        timer = step(timer, quiet, rng)
    reached = np.flatnonzero(timer[centre] > params.refractory_steps)
    return float((reached.max() - centre) * params.spacing_um / (n_steps * params.dt_s))


def onsets(active: np.ndarray) -> np.ndarray:
    """Steps at which a cell turns active ``(steps, grid, grid)`` (bool)."""
    start = active.copy()
    start[1:] &= ~active[:-1]
    return start


def wave_statistics(active: np.ndarray, params: WaveParams) -> dict[str, np.ndarray]:
    """Per wave (a connected component of active cells in space and time): its size (mm^2 of
    cells it recruited) and speed (um/s, slope of the distance from its first cell against onset
    time); per cell: the intervals (s) between its successive activations."""
    labels, n_waves = ndimage.label(active, structure=np.ones((3, 3, 3)))
    start = onsets(active)
    t, y, x = np.nonzero(start)
    wave = labels[t, y, x]
    cell_area = (params.spacing_um / 1000.0) ** 2
    sizes, speeds = [], []
    for label in range(1, n_waves + 1):
        mine = wave == label
        if mine.sum() < 9:  # a spark that recruited almost nobody has no speed
            continue
        tt, yy, xx = t[mine], y[mine], x[mine]
        first = np.argmin(tt)
        distance = np.hypot(yy - yy[first], xx - xx[first]) * params.spacing_um
        seconds = (tt - tt[first]) * params.dt_s
        sizes.append(mine.sum() * cell_area)
        if np.ptp(seconds) > 0:
            speeds.append(np.polyfit(seconds, distance, 1)[0])
    cell_index = y * params.grid + x
    order = np.lexsort((t, cell_index))
    gaps = np.diff(t[order]) * params.dt_s
    same_cell = np.diff(cell_index[order]) == 0
    return {
        "size_mm2": np.asarray(sizes),
        "speed_um_s": np.asarray(speeds),
        "interval_s": gaps[same_cell],
    }


def render(active: np.ndarray, size: int, decay_steps: float = 0.0, blur_cells: float = 0.0):
    """uint8 movie ``(steps, size, size)`` of what a calcium indicator would show: each cell's
    activity low-pass filtered in time (exponential decay of ``decay_steps``) and blurred in space
    (Gaussian of ``blur_cells``), averaged over each block of cells (or each cell drawn as a block
    of pixels, for a movie larger than the grid) and scaled to the movie's maximum (0 and 0 give
    the active fraction of each block)."""
    n_steps, grid, _ = active.shape
    if grid % size and size % grid:
        raise ValueError(f"the grid ({grid} cells) and the movie size ({size}) must divide")
    trace = active.astype(np.float32)
    if decay_steps > 0:
        a = np.exp(-1.0 / decay_steps)
        trace = signal.lfilter([1.0], [1.0, -a], trace, axis=0).astype(np.float32)
    if blur_cells > 0:
        trace = ndimage.gaussian_filter(trace, (0, blur_cells, blur_cells), mode="constant")
    if size >= grid:  # each cell drawn as a block of pixels
        fraction = trace.repeat(size // grid, axis=1).repeat(size // grid, axis=2)
    else:
        block = grid // size
        fraction = trace.reshape(n_steps, size, block, size, block).mean(axis=(2, 4))
    return np.round(255 * fraction / max(fraction.max(), 1e-12)).astype(np.uint8)


def wave_dataset(settings: dict, seeds: list[int], size: int):
    """Each seed's wave movie at ``size`` px and its statistics (medians over waves and cells),
    with the deterministic front's speed against its analytic value."""
    import xarray as xr

    params = WaveParams.from_config(settings)
    movies, stats = [], {"speed_um_s": [], "interval_s": [], "size_mm2": [], "n_waves": []}
    for seed in seeds:
        active = simulate(params, settings["n_steps"], seed, burn_in=settings["burn_in"])
        measured = wave_statistics(active, params)
        stats["speed_um_s"].append(np.median(measured["speed_um_s"]))
        stats["interval_s"].append(np.median(measured["interval_s"]))
        stats["size_mm2"].append(np.median(measured["size_mm2"]))
        stats["n_waves"].append(len(measured["size_mm2"]))
        movies.append(render(active, size, settings["decay_steps"], settings["blur_cells"]))
    deterministic = WaveParams(**{**params.__dict__, "recruit": 1.0})
    return xr.Dataset(
        {
            "movie": (("seed", "frame", "y", "x"), np.stack(movies)),
            **{name: ("seed", np.asarray(values, float)) for name, values in stats.items()},
        },
        coords={"seed": list(seeds)},
        attrs={
            "dt_s": params.dt_s,
            "spacing_um": params.spacing_um,
            "front_speed_um_s": axis_front_speed(deterministic, params.grid // 2 - 2),
            "analytic_speed_um_s": params.spacing_um / params.dt_s,
        },
    )
