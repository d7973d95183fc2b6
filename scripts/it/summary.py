"""Snakemake adapter: all runs in one table, best layer per region chosen on held-out splits."""

from insilico.core.io import atomic_path, read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.it.claims import paper_claims
from insilico.it.protocol.score import summarize

log = job_logger(snakemake.log[0])
scores = {
    tuple(run): read_netcdf(path)
    for run, path in zip(snakemake.params.runs, snakemake.input.scores, strict=True)
}
summary, table = summarize(scores, read_netcdf(snakemake.input.neural), snakemake.params.formula)
log.info("\n%s", table.to_string())
write_netcdf(summary, snakemake.output.scores)
with atomic_path(snakemake.output.table) as tmp:
    table.to_csv(tmp, index=False, float_format="%.4f")
times = (  # absent without a temporal assembly
    read_netcdf(snakemake.input.solution_times)
    if hasattr(snakemake.input, "solution_times")
    else None
)
claims = paper_claims(summary, **snakemake.params.claims, times=times)
log.info("claims:\n%s", claims.to_string())
with atomic_path(snakemake.output.claims) as tmp:
    claims.to_csv(tmp, index=False, float_format="%.4f")
