"""Snakemake adapter: convert the user's NWB recording (input source) to the deep-retina layout."""

from pathlib import Path

from insilico.acquire.provenance import write_provenance
from insilico.core.logs import job_logger
from insilico.retina.nwb import convert_nwb

log = job_logger(snakemake.log[0])
info = convert_nwb(snakemake.input.source, snakemake.output.recording, snakemake.params.nwb)
log.info(
    "converted %s: %d cells, %d test repeats, frames %s",
    snakemake.input.source,
    len(info["unit_ids"]),
    info["test_repeats"],
    info["pixels"],
)
write_provenance(
    snakemake.output.recording,
    source="local",
    url_or_path=str(Path(snakemake.input.source).resolve()),
    checksum=None,
    extra={"converted_from": "nwb", **info},
)
