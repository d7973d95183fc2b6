"""Snakemake adapter: model vs data receptive fields (STAs) of an experiment."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.retina import plots

log = job_logger(snakemake.log[0])
figure = snakemake.output[0]
plots.receptive_fields(read_netcdf(snakemake.input.results), figure)
log.info("wrote %s", figure)
