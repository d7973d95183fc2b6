"""Snakemake adapter: stack every run's geometry, join the IT scores, write the table and trends."""

from insilico.core.io import atomic_path, read_netcdf, write_json, write_netcdf
from insilico.core.logs import job_logger
from insilico.geometry import summary

log = job_logger(snakemake.log[0])
runs = {
    tuple(run): read_netcdf(path)
    for run, path in zip(snakemake.params.runs, snakemake.input.runs, strict=True)
}
geometry = summary.collect(runs)
frame = summary.table(
    geometry, read_netcdf(snakemake.input.neural), read_netcdf(snakemake.input.scores)
)
trends = summary.trends(frame)
log.info("trends: %s", trends)
write_netcdf(geometry, snakemake.output.geometry)
write_json(trends, snakemake.output.trends)
with atomic_path(snakemake.output.table) as tmp:
    frame.to_csv(tmp, index=False, float_format="%.5g")
