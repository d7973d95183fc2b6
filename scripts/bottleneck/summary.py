"""Snakemake adapter: indices of every unit and of the simulated retina, the table, trends and
the claims decided over seeds."""

from insilico.bottleneck import summary
from insilico.bottleneck.claims import claims_table
from insilico.core.io import atomic_path, read_netcdf, write_json, write_netcdf
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
measures = summary.collect([read_netcdf(path) for path in snakemake.input.probes])
reference = summary.reference_indices(read_netcdf(snakemake.input.reference))
frame = summary.table(measures, reference)
trends = summary.trends(frame)
log.info("trends: %s", trends)
write_netcdf(measures, snakemake.output.measures)
write_netcdf(reference, snakemake.output.reference)
write_json(trends, snakemake.output.trends)
with atomic_path(snakemake.output.table) as tmp:
    frame.to_csv(tmp, index=False, float_format="%.5g")
claims = claims_table(measures)
log.info("claims:\n%s", claims.to_string())
with atomic_path(snakemake.output.claims) as tmp:
    claims.to_csv(tmp, index=False, float_format="%.5g")
