"""Snakemake adapter: bring the user's local data file (input source) into resources/, checked by
the reader module params.reader for its params.kind first."""

from insilico.acquire.sources import acquire_local, validator
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
destination = snakemake.output[0]
acquire_local(
    snakemake.input.source,
    destination,
    validate=validator(snakemake.params.reader, snakemake.params.kind),
    log=log,
)
log.info("acquired %s", destination)
