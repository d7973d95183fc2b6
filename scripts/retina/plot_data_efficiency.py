"""Snakemake adapter: the data-efficiency figure of an experiment."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.retina import plots

log = job_logger(snakemake.log[0])
figure = snakemake.output[0]
datasets = dict(
    zip(snakemake.params.stimuli, map(read_netcdf, snakemake.input.results), strict=True)
)
plots.data_efficiency(datasets, figure)
log.info("wrote %s", figure)
