"""The simulated HvM-like experiment, assembled above the renderer and the hidden brain.

Renders the stimulus set (:mod:`insilico.it.simulator`), runs the ground-truth network
(:mod:`insilico.it.brain`) and draws spikes: spike counts per 10 ms bin are negative binomial with
the neuroid's Fano factor (Poisson at 1); rates are reported in Hz (count / 0.01 s). Writes the
Brain-Score NeuroidAssemblies, the StimulusSet and the ground truth, with the exact reliability of
every repetition average.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from insilico.core.io import load_torch, write_netcdf
from insilico.core.units import IT_BIN_MS
from insilico.it.assembly import write_assembly, write_stimulus_set
from insilico.it.brain import GroundTruthBrain
from insilico.it.simulator import (
    SIMULATOR_VERSION,
    make_objects,
    random_stream,
    render_design,
    stimulus_design,
)

STIMULUS_SET_IDENTIFIER = "insilico.SimulatedHvM"
ASSEMBLY_IDENTIFIER = "insilico.SimulatedHvM2015"


def spike_rates(
    rates: np.ndarray, fano: np.ndarray, repetitions: int, rng: np.random.Generator
) -> np.ndarray:
    """Noisy rates (Hz) ``(repetitions, *rates.shape)``: negative binomial counts per 10 ms bin.

    A count with mean ``m = rate * 0.01`` and Fano factor ``F`` has variance ``F m`` (Poisson when
    ``F`` is 1); ``fano`` is per neuroid (axis 1 of ``rates``).
    """
    mean = np.maximum(rates * IT_BIN_MS / 1000.0, 1e-9)
    excess = np.broadcast_to(np.asarray(fano, float)[None, :, None] - 1.0, mean.shape)
    shape = (repetitions, *mean.shape)
    # Negative binomial as a gamma-Poisson mixture: the gamma has mean m and variance (F - 1) m.
    over = excess > 1e-9
    intensity = np.broadcast_to(mean, shape).copy()
    if over.any():
        intensity[:, over] = rng.gamma(
            mean[over] / excess[over], excess[over], size=(repetitions, int(over.sum()))
        )
    return rng.poisson(intensity).astype(np.float64) * (1000.0 / IT_BIN_MS)


def true_reliability(rates: np.ndarray, fano: np.ndarray, repetitions: int) -> np.ndarray:
    """Exact reliability of the repetition average, per neuroid: what the split-half ceiling estimates.

    ``rates`` (n_images, n_neuroids, n_bins) noiseless, Hz; the response is the mean over the bins.
    Signal variance over images divided by signal plus noise variance of the average of
    ``repetitions`` trials (bins independent, count variance ``F m``).
    """
    n_bins = rates.shape[2]
    signal = rates.mean(axis=2)
    count_var = fano[None, :, None] * rates * IT_BIN_MS / 1000.0
    noise_var = (count_var * (1000.0 / IT_BIN_MS) ** 2).sum(axis=2) / n_bins**2 / repetitions
    signal_var = signal.var(axis=0, ddof=1)
    return signal_var / (signal_var + noise_var.mean(axis=0))


# --- the experiment ---------------------------------------------------------------------------


def bin_starts(params: dict) -> np.ndarray:
    """Start (ms after image onset) of every recorded 10 ms bin."""
    start, end = params["time_bins_ms"]
    return np.arange(start, end, IT_BIN_MS)


# The StimulusSet's columns: Brain-Score's (stimulus_id, object_name, category_name, variation and
# the pose ty, tz, s, rxy, rxz, ryz) and the simulator's image_kind (clean or one hard kind).
STIMULUS_COLUMNS = (
    "stimulus_id", "object_name", "category_name", "variation", "image_kind",
    "ty", "tz", "s", "rxy", "rxz", "ryz",
)  # fmt: skip


def simulate_experiment(
    params: dict,
    seed: int,
    *,
    assembly_path,
    temporal_path,
    csv_path,
    zip_path,
    groundtruth_path,
    network_path=None,
) -> dict:
    """Render the stimulus set, run the brain, draw spikes; write the five files.

    ``temporal_path``: NeuroidAssembly with one 10 ms bin per ``time_bins_ms`` step;
    ``assembly_path``: the same trials averaged over ``window_ms`` (one time bin), as
    MajajHong2015.public is; ``csv_path``/``zip_path``: the StimulusSet; ``groundtruth_path``:
    noiseless rates, per-iteration drives, per-neuroid parameters and exact reliabilities
    (netCDF). ``network_path``: the hidden network's checkpoint (:func:`insilico.it.brain.train_hidden_network`,
    cached by the workflow); trained here when omitted. Returns a small summary for the log.
    """
    objects = make_objects(params["n_categories"], params["objects_per_category"], seed)
    design = stimulus_design(
        objects,
        list(params["variations"]),
        params["images_per_object"],
        seed,
        "hvm",
        params["hard_images_per_object"],
    )
    images = render_design(objects, design, params["image_size"], seed, "hvm")
    checkpoint = None if network_path is None else load_torch(network_path)
    brain = GroundTruthBrain(params, seed, checkpoint)
    starts = bin_starts(params)
    drives = brain.drives(images)  # (n_images, iterations + 1, n_neuroids), pixels only
    rates = brain.rates(drives, starts)  # (n_images, n_neuroids, n_bins), Hz
    repetitions = int(params["repetitions"])
    rng = random_stream(seed, "spikes")
    trials = np.stack(
        [spike_rates(rates, brain.fano, 1, rng)[0].astype(np.float32) for _ in range(repetitions)]
    )  # (repetitions, n_images, n_neuroids, n_bins)

    window = _window_mask(starts, params["window_ms"])
    n_images = len(design)
    metadata = design[list(STIMULUS_COLUMNS)].copy()
    write_stimulus_set(images, metadata, csv_path, zip_path)

    presentation = {
        "stimulus_id": np.tile(design["stimulus_id"].to_numpy(), repetitions),
        "repetition": np.repeat(np.arange(repetitions), n_images),
        "object_name": np.tile(design["object_name"].to_numpy(), repetitions),
        "category_name": np.tile(design["category_name"].to_numpy(), repetitions),
        "variation": np.tile(design["variation"].to_numpy(), repetitions),
        "image_kind": np.tile(design["image_kind"].to_numpy(), repetitions),
    }
    neuroids = _neuroid_coords(brain)
    data = trials.reshape(repetitions * n_images, *trials.shape[2:])
    temporal = _assembly(
        data, presentation, neuroids, starts, starts + IT_BIN_MS, f"{ASSEMBLY_IDENTIFIER}.temporal"
    )
    write_assembly(temporal, temporal_path)
    averaged = data[:, :, window].mean(axis=2, keepdims=True)
    lo, hi = params["window_ms"]
    write_assembly(
        _assembly(averaged, presentation, neuroids, [lo], [hi], ASSEMBLY_IDENTIFIER), assembly_path
    )

    reliability_window = true_reliability(rates[:, :, window], brain.fano, repetitions)
    reliability_bins = np.stack(
        [true_reliability(rates[:, :, [b]], brain.fano, repetitions) for b in range(len(starts))],
        axis=1,
    )
    truth = _groundtruth(brain, design, rates, starts, reliability_window, reliability_bins)
    truth["drive"] = (("stimulus", "iteration", "neuroid"), drives.astype(np.float32))
    truth["late_share"] = ("stimulus", late_share(drives[:, :, brain.region == "IT"]))
    write_netcdf(truth, groundtruth_path)
    return _summary(design, rates, repetitions, reliability_window, truth, brain)


def _summary(design, rates, repetitions: int, reliability_window, truth, brain) -> dict:
    """What the log reports of a simulated experiment: sizes, rates, reliabilities, late share."""
    hard = design["image_kind"].to_numpy() != "clean"
    return {
        "n_stimuli": len(design),
        "n_presentations": repetitions * len(design),
        "n_neuroids": rates.shape[1],
        "n_bins": rates.shape[2],
        "mean_rate_hz": float(rates.mean()),
        "true_reliability_median": {
            region: float(np.median(reliability_window[brain.region == region]))
            for region in ("V4", "IT")
        },
        "it_late_share_median": {
            "clean": float(np.median(truth["late_share"].values[~hard])),
            "hard": float(np.median(truth["late_share"].values[hard])),
        },
        "network_accuracy": brain.accuracy,
    }


def late_share(it_drives: np.ndarray, early_iteration: int = 1) -> np.ndarray:
    """Per image, the share of its final IT response pattern not yet there at ``early_iteration``.

    ``it_drives`` (n_images, iterations + 1, n_it): ``|d_K - d_e|^2 / |d_K - mean_K|^2`` over the
    IT sites, where ``mean_K`` is the mean final response over images; with the default
    ``iteration_ms`` (25) and IT latencies (90-110 ms), iteration 1 is reached at 115-135 ms, so
    this is the part of the response that develops after about 150 ms.
    """
    final = it_drives[:, -1]
    change = ((final - it_drives[:, early_iteration]) ** 2).sum(-1)
    spread = ((final - final.mean(0)) ** 2).sum(-1)
    return change / np.maximum(spread, 1e-12)


def _window_mask(starts: np.ndarray, window_ms) -> np.ndarray:
    lo, hi = window_ms
    mask = (starts >= lo) & (starts + IT_BIN_MS <= hi)
    if not mask.any():
        raise ValueError(f"window_ms {list(window_ms)} holds none of the bins starting at {starts}")
    return mask


def _neuroid_coords(brain: GroundTruthBrain) -> dict[str, np.ndarray]:
    """Neuroid metadata with MajajHong2015's coordinate names (simulated values)."""
    n = len(brain.region)
    centers = np.concatenate([brain.v4_center, brain.it_center])
    index_in_region = np.concatenate([np.arange(brain.n_v4), np.arange(brain.n_it)])
    return {
        "neuroid_id": np.array(
            [f"{r}_{i:03d}" for r, i in zip(brain.region, index_in_region, strict=True)]
        ),
        "region": brain.region,
        "subregion": brain.region,
        "animal": np.full(n, "simulated"),
        "hemisphere": np.full(n, "L"),
        "arr": brain.region,
        "row": index_in_region // 10,
        "col": index_in_region % 10,
        # receptive-field centre in degrees for images of 8 degrees, as HvM was shown
        "x": centers[:, 0] * 4.0,
        "y": centers[:, 1] * 4.0,
    }


def _assembly(data, presentation, neuroids, starts, ends, identifier) -> xr.DataArray:
    coords = {name: ("presentation", values) for name, values in presentation.items()}
    coords |= {name: ("neuroid", values) for name, values in neuroids.items()}
    coords |= {
        "time_bin_start": ("time_bin", np.asarray(starts, dtype=np.int64)),
        "time_bin_end": ("time_bin", np.asarray(ends, dtype=np.int64)),
    }
    return xr.DataArray(
        np.asarray(data, dtype=np.float32),
        dims=("presentation", "neuroid", "time_bin"),
        coords=coords,
        attrs={
            "identifier": identifier,
            "stimulus_set_identifier": STIMULUS_SET_IDENTIFIER,
            "units": "Hz (spike count per 10 ms bin / 0.01 s, averaged over the time bin)",
            "simulator_version": SIMULATOR_VERSION,
        },
    )


def _groundtruth(brain, design, rates, starts, reliability_window, reliability_bins):
    neuroid_id = _neuroid_coords(brain)["neuroid_id"]
    return xr.Dataset(
        {
            "rate": (("stimulus", "neuroid", "time_bin"), rates.astype(np.float32)),
            "fano": ("neuroid", brain.fano),
            "latency_ms": ("neuroid", brain.latency),
            "baseline_hz": ("neuroid", brain.baseline),
            "gain_hz": ("neuroid", brain.gain),
            "threshold": ("neuroid", brain.threshold),
            "network_accuracy_clean": ("iteration", brain.accuracy["clean"]),
            "network_accuracy_hard": ("iteration", brain.accuracy["hard"]),
            "true_reliability_window": ("neuroid", reliability_window),
            "true_reliability": (("neuroid", "time_bin"), reliability_bins),
        },
        coords={
            "stimulus_id": ("stimulus", design["stimulus_id"].to_numpy()),
            "image_kind": ("stimulus", design["image_kind"].to_numpy()),
            "iteration": np.arange(brain.iterations + 1),
            "iteration_ms": (
                "iteration",
                np.arange(brain.iterations + 1) * 1.0 * brain.params["brain"]["iteration_ms"],
            ),
            "neuroid_id": ("neuroid", neuroid_id),
            "region": ("neuroid", brain.region),
            "time_bin_start": ("time_bin", starts.astype(np.int64)),
            "time_bin_end": ("time_bin", (starts + IT_BIN_MS).astype(np.int64)),
        },
        attrs={
            "simulator_version": SIMULATOR_VERSION,
            "description": "noiseless rates (Hz), drives per iteration of the hidden network and "
            "parameters of the simulated neuroids; true_reliability is the exact reliability of "
            "the repetition average that the split-half (Spearman-Brown) ceiling estimates; "
            "network_accuracy_* the hidden network's own category accuracy per iteration "
            "(iteration_ms after each site's latency) on its held-out clean and hard images; "
            "late_share the share of an image's final IT pattern that develops after iteration 1",
        },
    )
