"""Snakemake adapter: one recording's model comparison (test correlation per cell and model)."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.retina import plots

log = job_logger(snakemake.log[0])
figure = snakemake.output[0]
plots.model_comparison(read_netcdf(snakemake.input.performance), figure)
log.info("wrote %s", figure)
