"""Snakemake adapter: the per-network table of the grid-cell sweep, its headline numbers and the
claims decided by intervals."""

from insilico.core.io import atomic_path, read_netcdf, write_json
from insilico.core.logs import job_logger
from insilico.dynamics.gridcells.analysis import combine, headline, network_table
from insilico.dynamics.gridcells.claims import claims_table

log = job_logger(snakemake.log[0])
config = snakemake.params.grid
maps, scores = combine(
    [read_netcdf(p) for p in snakemake.input.maps], [read_netcdf(p) for p in snakemake.input.scores]
)
table = network_table(scores, maps, config)
theory = read_netcdf(snakemake.input.theory)
numbers = headline(table, theory, config)
log.info("%s", numbers)
with atomic_path(snakemake.output.table) as tmp:
    table.to_csv(tmp, index=False, float_format="%.6g")
write_json(numbers, snakemake.output.headline)
claims = claims_table(table, theory, config)
log.info("claims:\n%s", claims.to_string())
with atomic_path(snakemake.output.claims) as tmp:
    claims.to_csv(tmp, index=False, float_format="%.6g")
