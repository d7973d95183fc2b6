"""Snakemake adapter: SVCCA, CKA and Procrustes distances between all networks of each task."""

import torch

from insilico.dynamics.similarity import task_geometry
from insilico.gpus import claim_gpu
from insilico.io import write_netcdf
from insilico.logs import job_logger
from insilico.training import choose_device

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
device = choose_device(log)
for (task, models), path in zip(snakemake.params.models.items(), snakemake.output, strict=True):
    geometry = task_geometry(models, snakemake.params.similarity, device=device, log=log)
    if geometry.attrs["task"] != task:
        raise ValueError(f"{path}: expected task {task!r}, got {geometry.attrs['task']!r}")
    write_netcdf(geometry, path)
