"""Snakemake adapter: graph distances between all networks (topology), the population table and
the claims decided by intervals."""

from insilico.core.io import atomic_path, read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.dynamics.claims import claims_table
from insilico.dynamics.comparison import population_topology, summary_table

log = job_logger(snakemake.log[0])
datasets = [read_netcdf(path) for path in snakemake.input.fixed_points]
topology = population_topology(datasets, snakemake.params.topology)
log.info(
    "%d networks, %d graph features; silhouette by task %.3f, by architecture %.3f",
    topology.sizes["network"],
    topology.sizes["feature"],
    topology.attrs["silhouette_task"],
    topology.attrs["silhouette_arch"],
)
write_netcdf(topology, snakemake.output.topology)
table = summary_table(datasets)
with atomic_path(snakemake.output.summary) as tmp:
    table.to_csv(tmp, index=False, float_format="%.6g")
geometry = {
    task: read_netcdf(path)
    for task, path in zip(snakemake.params.tasks, snakemake.input.geometry, strict=True)
}
claims = claims_table(geometry, topology, table, snakemake.params.flipflop_bits)
log.info("claims:\n%s", claims.to_string())
with atomic_path(snakemake.output.claims) as tmp:
    claims.to_csv(tmp, index=False, float_format="%.6g")
