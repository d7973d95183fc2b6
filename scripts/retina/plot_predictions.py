"""Snakemake adapter: example predictions of every model on one recording's held-out repeats."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.retina import plots

log = job_logger(snakemake.log[0])
figure = snakemake.output[0]
evaluations = dict(
    zip(snakemake.params.models, map(read_netcdf, snakemake.input.evaluations), strict=True)
)
plots.example_predictions(evaluations, figure)
log.info("wrote %s", figure)
