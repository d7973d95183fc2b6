"""Snakemake adapter: bring one retina recording into resources/ from the web or a local folder."""

from insilico.data.acquire import acquire_local, acquire_remote
from insilico.data.retina_h5 import read_recording
from insilico.logs import job_logger

log = job_logger(snakemake.log[0])
destination = snakemake.output.recording
if snakemake.rule == "download_retina":
    acquire_remote(
        snakemake.params.url,
        destination,
        snakemake.params.checksum,
        validate=read_recording,
        retries=snakemake.params.retries,
        timeout=snakemake.params.timeout,
        log=log,
    )
else:
    acquire_local(snakemake.input.source, destination, validate=read_recording, log=log)
log.info("acquired %s", destination)
