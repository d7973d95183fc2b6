"""Snakemake adapter: CNMF loss against wall-clock time for MU, HALS and ANLS from one start."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.factorisation.experiments import cnmf_benchmark

log = job_logger(snakemake.log[0])
ds = cnmf_benchmark(snakemake.params.cnmf, snakemake.params.seed)
for method in map(str, ds["algorithm"].values):
    sel = ds.sel(algorithm=method)
    log.info(
        "%s: final loss %.4f, %.2f s to MU's final loss (speed-up %.2f)",
        method,
        float(sel["final_loss"]),
        float(sel["time_to_mu_final"]),
        float(sel["speedup_vs_mu"]),
    )
write_netcdf(ds, snakemake.output[0])
