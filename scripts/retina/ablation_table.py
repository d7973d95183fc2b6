"""Snakemake adapter: the ablation table over the ablated recordings (means over cells, s.e.m.)."""

from insilico.core.io import atomic_path, read_netcdf
from insilico.core.logs import job_logger
from insilico.retina import ablation

log = job_logger(snakemake.log[0])
results = {
    tuple(recording): read_netcdf(path)
    for recording, path in zip(snakemake.params.recordings, snakemake.input.results, strict=True)
}
table = ablation.table(results)
log.info("\n%s", table.to_string())
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False, float_format="%.4f")
