"""Snakemake adapter: the branch's figures from its netCDF results."""

from insilico.core.io import read_netcdf, save_figure
from insilico.core.logs import job_logger
from insilico.factorisation import plots

log = job_logger(snakemake.log[0])
i, o = snakemake.input, snakemake.output
save_figure(plots.overlap_figure(read_netcdf(i.overlap2)), o.overlap2)
save_figure(plots.overlap_figure(read_netcdf(i.overlap3)), o.overlap3)
save_figure(plots.phase_figure([read_netcdf(i.phase2), read_netcdf(i.phase3)]), o.phase)
save_figure(plots.amp_als_figure(read_netcdf(i.amp_als)), o.amp_als)
save_figure(plots.cnmf_figure(read_netcdf(i.cnmf)), o.cnmf)
log.info("wrote %d figures", len(o))
