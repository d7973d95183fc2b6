"""Snakemake adapter: the first-layer filters of one recording's CNN."""

from insilico.core.logs import job_logger
from insilico.retina import plots

log = job_logger(snakemake.log[0])
figure = snakemake.output[0]
plots.cnn_filters(snakemake.input.model[0], figure)
log.info("wrote %s", figure)
