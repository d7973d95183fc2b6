"""Rate maps, grid statistics of trained networks' units, the theory's dataset and the
population table (numpy only: no torch here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.dynamics.gridcells.gridness import gridness, period_orientation, spatial_coherence
from insilico.dynamics.gridcells.pattern_formation import (
    correlation_spectrum,
    frequency_grid,
    hexagonal_order,
    peak_frequency,
    place_cell_spectrum,
    power_spectrum,
    predicted_period,
    simulate_patterns,
    spectral_peak,
)
from insilico.dynamics.gridcells.place_cells import PlaceCells
from insilico.dynamics.gridcells.population import GridNetwork, varied_factor


def rate_maps(
    position: np.ndarray, activity: np.ndarray, box: float, resolution: int
) -> np.ndarray:
    """Mean activity per spatial bin: ``position (S, 2)``, ``activity (..., S, H)`` ->
    ``(..., H, resolution, resolution)``, NaN in unvisited bins."""
    index = np.clip(((position / box + 0.5) * resolution).astype(int), 0, resolution - 1)
    flat = index[:, 0] * resolution + index[:, 1]
    bins = resolution * resolution
    counts = np.bincount(flat, minlength=bins).astype(float)
    lead = activity.shape[:-2]
    units = activity.reshape(-1, activity.shape[-2], activity.shape[-1])
    sums = np.stack([np.stack([np.bincount(flat, u, bins) for u in net.T]) for net in units])
    with np.errstate(invalid="ignore", divide="ignore"):
        maps = np.where(counts > 0, sums / counts, np.nan)
    return maps.reshape(*lead, activity.shape[-1], resolution, resolution)


def unit_scores(maps: np.ndarray, box: float) -> dict[str, np.ndarray]:
    """Gridness, period (m), orientation (degrees mod 60) and spatial coherence of every map.

    Silent or constant units (no spatial variance) get NaN.
    """
    flat = maps.reshape(-1, *maps.shape[-2:])
    scores = np.full((4, len(flat)), np.nan)
    for i, m in enumerate(flat):
        if np.nanstd(m) > 1e-8:
            scores[0, i] = gridness(m)
            scores[1:3, i] = period_orientation(m, box)
            scores[3, i] = spatial_coherence(m)
    shape = maps.shape[:-2]
    return {
        "gridness": scores[0].reshape(shape),
        "period": scores[1].reshape(shape),
        "orientation": scores[2].reshape(shape),
        "coherence": scores[3].reshape(shape),
    }


def grid_summary(scores: xr.Dataset, threshold: float, coherence: float) -> xr.Dataset:
    """Per network: fraction of grid units (gridness above ``threshold`` and spatial coherence
    above ``coherence``), the fraction by gridness alone, the grid units' median period and the
    best gridness (fractions over all units, silent ones counted as not grid)."""
    high = scores["gridness"] > threshold
    is_grid = high & (scores["coherence"] > coherence)
    return xr.Dataset(
        {
            "grid_fraction": is_grid.mean("unit"),
            "n_grid": is_grid.sum("unit"),
            "gridness_only_fraction": high.mean("unit"),
            "max_gridness": scores["gridness"].max("unit"),
            "median_gridness": scores["gridness"].median("unit"),
            "grid_period": scores["period"].where(is_grid).median("unit"),
        },
        attrs={"gridness_threshold": threshold, "coherence_threshold": coherence},
    )


def theory(config: dict) -> xr.Dataset:
    """The theory for the base place-cell code: spectra (analytic and measured on the softmax
    code), k*, and the pattern-forming dynamics with and without nonnegativity, with the
    gridness and six-fold order of every emerging pattern."""
    base, settings = config["base"], config["theory"]
    width, surround = base["width"], base["surround"]
    cells = PlaceCells(config["n_place"], width, surround, config["box"], seed=config["seeds"][0])
    k, measured = place_cell_spectrum(cells, settings["spectrum_resolution"], settings["bins"])
    k_star = peak_frequency(width, surround)
    size = settings["periods"] * 2 * np.pi / k_star
    conditions = {"unconstrained": False, "nonnegative": True}
    patterns = np.stack(
        [
            simulate_patterns(
                settings["maps"],
                settings["resolution"],
                size,
                width,
                surround,
                nonnegative,
                settings["steps"],
                settings["rate"],
                np.random.default_rng(settings["seed"]),
            )
            for nonnegative in conditions.values()
        ]
    )
    axis = np.arange(settings["resolution"]) * size / settings["resolution"]
    frequency = np.fft.fftshift(frequency_grid(settings["resolution"], size)[0][:, 0])
    return xr.Dataset(
        {
            "analytic_spectrum": ("k", correlation_spectrum(k, width, surround)),
            "measured_spectrum": ("k", measured),
            "pattern": (("condition", "map", "x", "y"), patterns),
            "pattern_power": (("condition", "map", "kx", "ky"), power_spectrum(patterns)),
            "pattern_gridness": (
                ("condition", "map"),
                np.array([[gridness(m) for m in maps] for maps in patterns]),
            ),
            "hexagonal_order": (("condition", "map"), hexagonal_order(patterns, size, k_star)),
        },
        coords={
            "k": k,
            "condition": list(conditions),
            "map": np.arange(settings["maps"]),
            "x": axis,
            "y": axis,
            "kx": frequency,
            "ky": frequency,
        },
        attrs={
            "k_star": k_star,
            "measured_k_star": spectral_peak(k, measured),
            "predicted_period": predicted_period(width, surround),
            "pattern_box": size,
            "width": width,
            "surround": surround,
        },
    )


def network_table(scores: xr.Dataset, maps: xr.Dataset, config: dict) -> pd.DataFrame:
    """One row per network: hyperparameters, the factor it varies, decoding, grid statistics and
    the theory's period 2 pi / k* for its own place-cell code."""
    summary = grid_summary(
        scores, config["gridness_threshold"], config["coherence_threshold"]
    ).to_dataframe()
    hyper = ["activation", "width", "surround", "weight_decay", "seed"]
    table = maps[hyper + ["decoding_error", "chance_error"]].to_dataframe()
    table["final_loss"] = maps["train_loss"].isel(step=slice(-50, None)).mean("step").values
    table = table.join(summary[[c for c in summary.columns if c not in table.columns]])
    table["factor"] = [
        varied_factor(GridNetwork(hidden=config["hidden"], **row), config["base"])
        for row in table[hyper].to_dict("records")
    ]
    table["predicted_period"] = [
        predicted_period(w, s) for w, s in zip(table["width"], table["surround"], strict=True)
    ]
    finite = np.isfinite(table["predicted_period"])
    table["period_ratio"] = (table["grid_period"] / table["predicted_period"]).where(finite)
    return table.reset_index()


def score_maps(maps: xr.Dataset) -> xr.Dataset:
    """Gridness, period and orientation of every unit of a training job's rate maps."""
    scores = unit_scores(maps["rate_map"].values.astype(float), maps.attrs["box"])
    coords = {name: maps[name] for name in ("network", "unit")}
    return xr.Dataset(
        {key: (("network", "unit"), value) for key, value in scores.items()},
        coords=coords,
        attrs={"box": maps.attrs["box"]},
    )


def combine(maps: list[xr.Dataset], scores: list[xr.Dataset]) -> tuple[xr.Dataset, xr.Dataset]:
    """The training jobs' rate maps and scores along one ``network`` dimension."""
    return xr.concat(maps, "network"), xr.concat(scores, "network")


def headline(table: pd.DataFrame, theory_ds: xr.Dataset, config: dict) -> dict:
    """The numbers the README states: how many base networks grow grids, ReLU against its
    controls, and the measured period against 2 pi / k*.

    A network "grows grids" when at least ``grid_network_fraction`` of its units score above the
    gridness threshold.
    """
    fraction = config["grid_network_fraction"]
    base = table[table["factor"] == "base"]
    controls = table[table["factor"] == "activation"]
    gridded = base[base["grid_fraction"] >= fraction]
    return {
        "base_networks": len(base),
        "base_networks_with_grids": len(gridded),
        "grid_network_fraction": fraction,
        "gridness_threshold": config["gridness_threshold"],
        "coherence_threshold": config["coherence_threshold"],
        "base_grid_fraction": base["grid_fraction"].tolist(),
        "base_gridness_only_fraction": base["gridness_only_fraction"].tolist(),
        "base_decoding_error_m": base["decoding_error"].tolist(),
        "chance_error_m": float(table["chance_error"].mean()),
        # means over the control's seeds (one per seed with sweep_every_seed: [activation])
        "control_grid_fraction": controls.groupby("activation")["grid_fraction"].mean().to_dict(),
        "control_decoding_error_m": controls.groupby("activation")["decoding_error"]
        .mean()
        .to_dict(),
        "k_star": theory_ds.attrs["k_star"],
        "measured_k_star": theory_ds.attrs["measured_k_star"],
        "predicted_period_m": theory_ds.attrs["predicted_period"],
        "measured_period_m": float(gridded["grid_period"].median()) if len(gridded) else None,
        "period_ratio": float(gridded["period_ratio"].median()) if len(gridded) else None,
        "theory_gridness": {
            c: float(theory_ds["pattern_gridness"].sel(condition=c).median())
            for c in theory_ds["condition"].values
        },
        "theory_hexagonal_order": {
            c: float(theory_ds["hexagonal_order"].sel(condition=c).median())
            for c in theory_ds["condition"].values
        },
    }
