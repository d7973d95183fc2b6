"""Snakemake adapter: the table of mean test correlations over all recordings and models, and
the claims decided by intervals over cells."""

from insilico.core.io import atomic_path, read_netcdf
from insilico.core.logs import job_logger
from insilico.retina.claims import claims_table
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
with atomic_path(snakemake.output.summary) as tmp:
    table.to_csv(tmp, index=False, float_format="%.4f")
generalizations = {
    path.split("/")[-2]: read_netcdf(path) for path in snakemake.input.generalization
}
claims = claims_table(performances, snakemake.params.targets, generalizations)
log.info("claims:\n%s", claims.to_string())
with atomic_path(snakemake.output.claims) as tmp:
    claims.to_csv(tmp, index=False, float_format="%.4f")
