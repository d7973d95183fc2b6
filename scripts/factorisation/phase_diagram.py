"""Snakemake adapter: easy/hard/impossible phases over snr and shape from state evolution."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.factorisation.experiments import phase_diagram

log = job_logger(snakemake.log[0])
ds = phase_diagram(snakemake.params.study)
log.info(
    "order %s: information thresholds %s", ds.attrs["order"], ds["threshold_information"].values
)
write_netcdf(ds, snakemake.output[0])
