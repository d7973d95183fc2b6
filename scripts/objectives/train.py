"""Snakemake adapter: train the IT CNN by every objective (images) or pre-train it on waves."""

from pathlib import Path

import torch

from insilico.core.device import claim_gpu
from insilico.core.io import read_netcdf, save_torch
from insilico.core.logs import job_logger
from insilico.objectives.train import train_image_networks, train_wave_networks

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
settings = dict(snakemake.params.settings)
checkpoints = Path(snakemake.params.checkpoints)
if snakemake.wildcards.source == "images":
    payload = train_image_networks(read_netcdf(snakemake.input.data), settings, log, checkpoints)
else:
    movies = read_netcdf(snakemake.input.data)["movie"].values
    payload = train_wave_networks(movies, settings, log, checkpoints)
save_torch(payload, snakemake.output[0])
