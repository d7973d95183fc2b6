"""Snakemake adapter: the figures of the grid-cell analysis."""

import pandas as pd

from insilico.core.io import read_netcdf, save_figure
from insilico.core.logs import job_logger
from insilico.dynamics.gridcells import plots
from insilico.dynamics.gridcells.analysis import combine

log = job_logger(snakemake.log[0])
inputs, output, config = snakemake.input, snakemake.output, snakemake.params.grid
maps, scores = combine(
    [read_netcdf(p) for p in inputs.maps], [read_netcdf(p) for p in inputs.scores]
)
table = pd.read_csv(inputs.table)
threshold = config["gridness_threshold"]
shown = list(table.loc[table["factor"].isin(["base", "activation"]), "network"])
save_figure(plots.theory(read_netcdf(inputs.theory)), output.theory)
save_figure(plots.rate_maps(maps, scores, shown), output.rate_maps)
save_figure(plots.gridness_distributions(scores, table, threshold), output.gridness)
save_figure(plots.sweep(table, threshold), output.sweep)
save_figure(plots.period_vs_theory(table), output.period)
log.info("%d figures from %d networks", len(output), len(table))
