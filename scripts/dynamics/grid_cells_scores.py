"""Snakemake adapter: gridness, period and orientation of every unit of one training job."""

from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.dynamics.gridcells.analysis import score_maps

log = job_logger(snakemake.log[0])
scores = score_maps(read_netcdf(snakemake.input.maps))
log.info("median gridness per network %s", scores["gridness"].median("unit").values)
write_netcdf(scores, snakemake.output[0])
