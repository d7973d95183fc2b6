"""Snakemake adapter: train one IT-branch model on categorisation (0 steps: the untrained control)."""

import torch

from insilico.core.device import claim_gpu
from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.it.train import train_classifier

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
images = read_netcdf(snakemake.input.images)
train_classifier(
    kind=snakemake.wildcards.it_model,
    model_params=dict(snakemake.params.model),
    train_params=dict(snakemake.params.train),
    train_images=images["train_images"].values,
    train_labels=images["train_labels"].values,
    test_images=images["test_images"].values,
    test_labels=images["test_labels"].values,
    n_classes=int(images.attrs["n_categories"]),
    model_out=snakemake.output.model,
    history_out=snakemake.output.history,
    checkpoint_path=snakemake.params.checkpoint,
    log=log,
)
