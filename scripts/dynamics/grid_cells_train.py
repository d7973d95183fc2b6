"""Snakemake adapter: train one job's path-integrating networks and map their units."""

from pathlib import Path

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import save_torch, write_netcdf
from insilico.core.logs import job_logger
from insilico.dynamics.gridcells.path_integration import train_chunk
from insilico.dynamics.gridcells.population import GridNetwork

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
networks = [GridNetwork(**spec) for spec in snakemake.params.networks]
checkpoint, maps = train_chunk(
    networks,
    snakemake.params.grid,
    log,
    Path(snakemake.params.checkpoint),
    choose_device(log),
)
save_torch(checkpoint, snakemake.output.model)
write_netcdf(maps, snakemake.output.maps)
