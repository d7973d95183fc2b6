"""Snakemake adapter: the pattern-formation theory of grid cells (spectra, k*, patterns)."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.dynamics.gridcells.analysis import theory

log = job_logger(snakemake.log[0])
ds = theory(snakemake.params.grid)
log.info(
    "k* %.3f rad/m (measured on the code %.3f), 2 pi / k* = %.3f m; median pattern gridness %s",
    ds.attrs["k_star"],
    ds.attrs["measured_k_star"],
    ds.attrs["predicted_period"],
    ds["pattern_gridness"].median("map").values,
)
write_netcdf(ds, snakemake.output[0])
