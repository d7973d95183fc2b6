"""Snakemake adapter: movie spectra, power-law fits and water-filling optima (numpy)."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.efficient_coding.theory import theory

log = job_logger(snakemake.log[0])
write_netcdf(
    theory(dict(snakemake.params.settings), dict(snakemake.params.retina), log), snakemake.output[0]
)
