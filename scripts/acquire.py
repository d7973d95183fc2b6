"""Snakemake adapter: bring one data file into resources/, downloaded (params url, checksum) or
linked from a local path (input source), checked by the reader of its params.kind first."""

from insilico.data.acquire import acquire_local, acquire_remote, validator
from insilico.logs import job_logger

log = job_logger(snakemake.log[0])
destination = snakemake.output[0]
validate = validator(snakemake.params.kind)
if hasattr(snakemake.input, "source"):
    acquire_local(snakemake.input.source, destination, validate=validate, log=log)
else:
    acquire_remote(
        snakemake.params.url,
        destination,
        snakemake.params.checksum,
        validate=validate,
        retries=snakemake.params.retries,
        timeout=snakemake.params.timeout,
        log=log,
    )
log.info("acquired %s", destination)
