"""Snakemake adapter: the bottleneck branch's figures."""

import pandas as pd

from insilico.bottleneck import plots
from insilico.core.io import read_netcdf, save_figure
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
frame = pd.read_csv(snakemake.input.table)
figures = {
    "receptive_fields": plots.example_fields(
        read_netcdf(snakemake.input.measures), read_netcdf(snakemake.input.reference)
    ),
    "indices": plots.indices_against_width(frame),
    "linearity": plots.linearity_against_depth(frame),
}
for name, figure in figures.items():
    save_figure(figure, snakemake.output[name])
