"""Snakemake adapter: train every (d_vvs, seed) network of one bottleneck width."""

import torch

from insilico.bottleneck.model import train_model
from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
device = choose_device(log)
images = read_netcdf(snakemake.input.images)
for (d_vvs, seed), model_out, checkpoint in zip(
    snakemake.params.runs, snakemake.output, snakemake.params.checkpoints, strict=True
):
    meta = train_model(
        architecture=dict(snakemake.params.model),
        train=dict(snakemake.params.train),
        n_bn=int(snakemake.wildcards.n_bn),
        d_vvs=d_vvs,
        seed=seed,
        images=images,
        device=device,
        model_out=model_out,
        checkpoint_path=checkpoint,
        log=log,
    )
    log.info("d_vvs %d seed %d: test accuracy %.3f", d_vvs, seed, meta["test_accuracy"])
