"""Snakemake adapter: the V4 and IT recordings' own manifold geometry (the figures' reference lines)."""

from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.geometry.layers import GeometryOptions, neural_dataset

log = job_logger(snakemake.log[0])
options = GeometryOptions.from_config(snakemake.params.geometry, snakemake.params.score)
dataset = neural_dataset(read_netcdf(snakemake.input.neural), options)
log.info("recordings' capacity:\n%s", dataset["capacity"].to_pandas().round(4).to_string())
write_netcdf(dataset, snakemake.output[0])
