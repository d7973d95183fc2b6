"""Snakemake adapter: the ablation figure of an experiment (one panel per stimulus class)."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.retina import plots

log = job_logger(snakemake.log[0])
datasets = dict(
    zip(snakemake.params.stimuli, map(read_netcdf, snakemake.input.results), strict=True)
)
plots.ablation(datasets, snakemake.output[0])
log.info("wrote %s", snakemake.output[0])
