"""Snakemake adapter: train one job's networks of the recurrent-network population."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.logs import job_logger
from insilico.dynamics.population import NetworkSpec
from insilico.dynamics.train import train_chunk

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
train_chunk(
    [NetworkSpec(**spec) for spec in snakemake.params.networks],
    task_params=snakemake.params.task,
    train_params=snakemake.params.train,
    model_out=snakemake.output.model,
    history_out=snakemake.output.history,
    device=choose_device(log),
    log=log,
    checkpoint_path=snakemake.params.checkpoint,
)
