"""Snakemake adapter: test, training and validation correlation of every data-fraction run."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.retina.evaluate import data_efficiency

log = job_logger(snakemake.log[0])
claim_gpu(log)  # one GPU per job on a multi-GPU machine; before CUDA starts
torch.set_num_threads(snakemake.threads)
runs = {
    tuple(run): path
    for run, path in zip(snakemake.params.runs, snakemake.input.models, strict=True)
}
result = data_efficiency(
    runs,
    snakemake.input.recording,
    snakemake.params.cells,
    device=choose_device(log),
    test_set=snakemake.params.test_set,
    **snakemake.params.closed_loop,
)
log.info(
    "mean test correlation (model x fraction):\n%s",
    result["test_correlation"].mean(["seed", "cell"]).to_pandas().to_string(),
)
write_netcdf(result, snakemake.output[0])
