"""Snakemake adapter: the reliability ceiling of one recording's repeated test movie."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.retina.evaluate import reliability

log = job_logger(snakemake.log[0])
ceiling = reliability(
    snakemake.input.recording,
    snakemake.params.cells,
    snakemake.params.n_splits,
    snakemake.params.seed,
)
log.info("mean ceiling %.3f", float(ceiling["ceiling"].mean()))
write_netcdf(ceiling, snakemake.output[0])
