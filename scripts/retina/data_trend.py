"""Snakemake adapter: the data each model would need to reach its target fraction of the ceiling."""

from insilico.core.io import atomic_path, read_netcdf
from insilico.core.logs import job_logger
from insilico.retina.trend import data_trend

log = job_logger(snakemake.log[0])
recordings = [tuple(recording) for recording in snakemake.params.recordings]
efficiencies = {
    r: read_netcdf(p) for r, p in zip(recordings, snakemake.input.efficiency, strict=True)
}
ceilings = {r: read_netcdf(p) for r, p in zip(recordings, snakemake.input.ceiling, strict=True)}
table = data_trend(efficiencies, ceilings, snakemake.params.targets, snakemake.params.n_points)
log.info("\n%s", table.to_string())
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False, float_format="%.4f")
