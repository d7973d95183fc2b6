"""Snakemake adapter: manifold geometry and spectral prediction of every layer of one model run."""

from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.geometry.layers import GeometryOptions, model_dataset

log = job_logger(snakemake.log[0])
options = GeometryOptions.from_config(snakemake.params.geometry, snakemake.params.score)
activations = {
    layer: read_netcdf(path)
    for layer, path in zip(snakemake.params.layers, snakemake.input.activations, strict=True)
}
dataset = model_dataset(activations, read_netcdf(snakemake.input.neural), options)
log.info(
    "object-manifold capacity per layer (window):\n%s",
    dataset["capacity"].sel(step=-1, manifold="object").to_pandas().round(4).to_string(),
)
write_netcdf(dataset, snakemake.output[0])
