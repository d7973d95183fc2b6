"""Snakemake adapter: evaluate one trained model on the held-out repeated test movie."""

from insilico.analysis.retina_eval import evaluate
from insilico.io import write_netcdf
from insilico.logs import job_logger

log = job_logger(snakemake.log[0])
evaluation = evaluate(snakemake.input.model, snakemake.input.recording, snakemake.params.cells)
log.info("mean test correlation %.3f", float(evaluation["correlation"].mean()))
write_netcdf(evaluation, snakemake.output[0])
