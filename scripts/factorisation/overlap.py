"""Snakemake adapter: state evolution against AMP over snr and N for one tensor order."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.factorisation.experiments import overlap_vs_snr

log = job_logger(snakemake.log[0])
study = snakemake.params.study
log.info(
    "order %s: %s prior, shape %s, N %s",
    snakemake.wildcards.order,
    study["prior"],
    study["alphas"],
    study["n"],
)
ds = overlap_vs_snr(study, snakemake.params.amp, snakemake.params.seed)
log.info("thresholds: %s", {k: v for k, v in ds.attrs.items() if k.startswith("threshold")})
write_netcdf(ds, snakemake.output[0])
