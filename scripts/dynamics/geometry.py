"""Snakemake adapter: SVCCA, CKA and Procrustes distances between all networks of each task."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.dynamics.similarity import task_geometry

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
device = choose_device(log)
for (task, models), path in zip(snakemake.params.models.items(), snakemake.output, strict=True):
    geometry = task_geometry(models, snakemake.params.similarity, device=device, log=log)
    if geometry.attrs["task"] != task:
        raise ValueError(f"{path}: expected task {task!r}, got {geometry.attrs['task']!r}")
    write_netcdf(geometry, path)
