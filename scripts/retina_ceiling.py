"""Snakemake adapter: the reliability ceiling of one recording's repeated test movie."""

from insilico.analysis.retina_eval import reliability
from insilico.io import write_netcdf
from insilico.logs import job_logger

log = job_logger(snakemake.log[0])
ceiling = reliability(
    snakemake.input.recording,
    snakemake.params.cells,
    snakemake.params.n_splits,
    snakemake.params.seed,
)
log.info("mean ceiling %.3f", float(ceiling["ceiling"].mean()))
write_netcdf(ceiling, snakemake.output[0])
