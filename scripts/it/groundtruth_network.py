"""Snakemake adapter: train the hidden ground-truth network of the simulated IT experiment (cached)."""

from pathlib import Path

import torch

from insilico.core.io import save_torch
from insilico.core.logs import job_logger
from insilico.it.brain import train_hidden_network

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
checkpoint = train_hidden_network(dict(snakemake.params.it), Path(snakemake.params.checkpoint))
log.info("held-out category accuracy per iteration: %s", checkpoint["accuracy"])
save_torch(checkpoint, snakemake.output[0])
