"""Snakemake adapter: integrated gradients of one CNN's cells to its hidden channels, per stimulus."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)

from insilico.mechanisms.attribution import attribute  # noqa: E402
from insilico.retina.inference import load_model  # noqa: E402

device = choose_device(log)
model, meta = load_model(snakemake.input.model)
for phenomenon in snakemake.params.phenomena:
    stimulus = read_netcdf(snakemake.input[f"responses_{phenomenon}"])
    attribution = attribute(
        model,
        meta,
        stimulus,
        steps=snakemake.params.steps,
        batch_size=snakemake.params.batch_size,
        device=device,
        log=log,
    )
    write_netcdf(attribution, snakemake.output[phenomenon])
