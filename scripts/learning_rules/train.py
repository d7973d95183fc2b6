"""Snakemake adapter: train a group of networks (every variant x seed) with their learning rules."""

from pathlib import Path

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.learning_rules.train import train_group

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
variants = list(snakemake.params.variants)
seeds = list(snakemake.params.seeds)
models = list(snakemake.output.get("models", []))
paths = None
if models:
    keys = [(v["name"], s) for v in variants for s in seeds]
    paths = dict(zip(keys, models, strict=True))
curves = train_group(
    variants=variants,
    seeds=seeds,
    images=read_netcdf(snakemake.input.images),
    train=dict(snakemake.params.train),
    model_paths=paths,
    device=choose_device(log),
    log=log,
    checkpoints=Path(snakemake.params.checkpoints),
)
write_netcdf(curves, snakemake.output.curves)
