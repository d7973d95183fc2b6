"""Snakemake adapter: the generalisation-across-stimulus-classes figure of an experiment."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.retina import plots

log = job_logger(snakemake.log[0])
figure = snakemake.output[0]
plots.generalization(read_netcdf(snakemake.input.results), figure)
log.info("wrote %s", figure)
