"""Snakemake adapter: the geometry branch's five figures from its summary files."""

import json
from pathlib import Path

import pandas as pd

from insilico.core.io import read_netcdf, save_figure
from insilico.core.logs import job_logger
from insilico.geometry import plots

log = job_logger(snakemake.log[0])
geometry = read_netcdf(snakemake.input.geometry)
neural = read_netcdf(snakemake.input.neural)
frame = pd.read_csv(snakemake.input.table)
trends = json.loads(Path(snakemake.input.trends).read_text())
out = snakemake.output
save_figure(plots.layer_geometry(geometry, neural), out.layers)
save_figure(
    plots.capacity_against_predictivity(
        frame,
        trends.get("rho_capacity_it_object", float("nan")),
        trends.get("p_capacity_it_object", float("nan")),
    ),
    out.capacity_vs_predictivity,
)
save_figure(plots.learning_curves(geometry), out.learning_curves)
save_figure(plots.error_mode_geometry(geometry), out.error_modes)
save_figure(
    plots.theory_against_simulation(read_netcdf(snakemake.input.simulation)), out.simulation
)
log.info("figures written: %s", ", ".join(out))
