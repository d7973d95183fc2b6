"""Snakemake adapter: one table of mean test correlations over all recordings and models."""

from insilico.core.io import atomic_path, read_netcdf
from insilico.core.logs import job_logger
from insilico.retina.evaluate import summarize

log = job_logger(snakemake.log[0])
performances = {
    tuple(recording): read_netcdf(path)
    for recording, path in zip(
        snakemake.params.recordings, snakemake.input.performance, strict=True
    )
}
table = summarize(performances)
log.info("\n%s", table.to_string())
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False, float_format="%.4f")
