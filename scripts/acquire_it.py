"""Snakemake adapter: bring one file of the IT experiment into resources/ from the web or a local path."""

from insilico.data.acquire import acquire_local, acquire_remote
from insilico.data.assembly import validator
from insilico.logs import job_logger

log = job_logger(snakemake.log[0])
destination = snakemake.output.data
validate = validator(snakemake.params.kind)
if snakemake.rule == "download_it":
    acquire_remote(
        snakemake.params.url,
        destination,
        snakemake.params.checksum,
        validate=validate,
        retries=snakemake.params.retries,
        timeout=snakemake.params.timeout,
        log=log,
    )
else:
    acquire_local(snakemake.input.source, destination, validate=validate, log=log)
log.info("acquired %s", destination)
