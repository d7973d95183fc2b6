"""Snakemake adapter: evaluate one trained model on the held-out repeated test movie."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.retina.evaluate import evaluate

log = job_logger(snakemake.log[0])
claim_gpu(log)  # one GPU per job on a multi-GPU machine; before CUDA starts
torch.set_num_threads(snakemake.threads)
evaluation = evaluate(
    snakemake.input.model,
    snakemake.input.recording,
    snakemake.params.cells,
    device=choose_device(log),
    test_set=snakemake.params.test_set,
    **snakemake.params.closed_loop,
)
log.info("mean test correlation %.3f", float(evaluation["correlation"].mean()))
write_netcdf(evaluation, snakemake.output[0])
