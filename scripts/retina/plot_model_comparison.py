"""Snakemake adapter: LN vs GLM vs CNN on both stimulus classes of an experiment."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.retina import plots

log = job_logger(snakemake.log[0])
figure = snakemake.output[0]
performances = dict(
    zip(snakemake.params.stimuli, map(read_netcdf, snakemake.input.performance), strict=True)
)
plots.model_comparison_classes(performances, figure)
log.info("wrote %s", figure)
