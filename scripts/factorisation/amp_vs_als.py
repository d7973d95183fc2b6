"""Snakemake adapter: signal-tensor MSE of AMP and of tensorly's ALS on the same planted tensors."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.factorisation.experiments import amp_vs_als

log = job_logger(snakemake.log[0])
p = snakemake.params
ds = amp_vs_als(p.study, p.amp, p.als, p.seed)
log.info(
    "MSE gap (ALS - AMP) per snr: %s",
    dict(zip(ds["snr"].values.round(3), ds["mse_gap"].values.round(3), strict=True)),
)
write_netcdf(ds, snakemake.output[0])
