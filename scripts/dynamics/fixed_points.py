"""Snakemake adapter: fixed points and transitions of one training job's networks."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.logs import job_logger
from insilico.dynamics.analysis import analyse_chunk

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
analyse_chunk(
    snakemake.input.model,
    snakemake.params.fixed_points,
    snakemake.params.topology,
    snakemake.output[0],
    device=choose_device(log),
    log=log,
)
