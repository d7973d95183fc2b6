"""Snakemake adapter: download one data file into resources/ (params url, checksum), checked by the
reader module params.reader for its params.kind before it gets its final name."""

from insilico.acquire.sources import acquire_remote, validator
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
destination = snakemake.output[0]
acquire_remote(
    snakemake.params.url,
    destination,
    snakemake.params.checksum,
    validate=validator(snakemake.params.reader, snakemake.params.kind),
    retries=snakemake.params.retries,
    timeout=snakemake.params.timeout,
    log=log,
)
log.info("acquired %s", destination)
