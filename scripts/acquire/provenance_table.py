"""Snakemake adapter: the provenance of every acquired data file, as one table for the report."""

from insilico.acquire.provenance import provenance_table
from insilico.core.io import atomic_path
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
table = provenance_table(list(snakemake.params.data_files))
log.info("\n%s", table.to_string())
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
