"""Snakemake adapter: the simulated retina's ganglion types by the retina branch's STA code."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.efficient_coding.retina_types import ganglion_types

log = job_logger(snakemake.log[0])
retina, settings = dict(snakemake.params.retina), dict(snakemake.params.settings)
types = ganglion_types(retina, retina["seed"], settings["n_frames"], settings["history"])
log.info(
    "%d ganglion cells, sizes %s px", types.sizes["cell"], types["size"].values.round(2).tolist()
)
write_netcdf(types, snakemake.output[0])
