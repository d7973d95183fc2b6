"""Snakemake adapter: train one retina model (LN, GLM or CNN) on one recording."""

import torch

from insilico.core.device import claim_gpu
from insilico.core.logs import job_logger
from insilico.retina.recording import read_recording
from insilico.retina.train import train_model

log = job_logger(snakemake.log[0])
claim_gpu(log)  # one GPU per job on a multi-GPU machine; before CUDA starts
torch.set_num_threads(snakemake.threads)
recording = read_recording(snakemake.input.recording, cells=snakemake.params.cells)
train_model(
    recording,
    kind=snakemake.wildcards.model,
    model_params={"history": snakemake.params.history, **snakemake.params.model},
    train_params={**snakemake.params.train, "seed": int(snakemake.wildcards.seed)},
    model_out=snakemake.output.model,
    history_out=snakemake.output.history,
    checkpoint_path=snakemake.params.checkpoint,
    log=log,
)
