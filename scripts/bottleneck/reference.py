"""Snakemake adapter: the simulated retina's ganglion-cell receptive fields (retina STA code)."""

from insilico.bottleneck.reference import ganglion_fields
from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
retina = dict(snakemake.params.retina)
settings = dict(snakemake.params.reference)
fields = ganglion_fields(retina, retina["seed"], settings["n_frames"], settings["history"])
log.info("%d ganglion cells, peak lags %s s", fields.sizes["cell"], fields["peak_lag_s"].values)
write_netcdf(fields, snakemake.output[0])
