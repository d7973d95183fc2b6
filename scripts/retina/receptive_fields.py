"""Snakemake adapter: STAs of the recorded cells and of the models on the same white noise."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.retina.evaluate import receptive_fields

log = job_logger(snakemake.log[0])
claim_gpu(log)  # one GPU per job on a multi-GPU machine; before CUDA starts
torch.set_num_threads(snakemake.threads)
models = {
    tuple(run): path
    for run, path in zip(snakemake.params.runs, snakemake.input.models, strict=True)
}
result = receptive_fields(
    snakemake.input.recording, models, snakemake.params.cells, device=choose_device(log)
)
log.info(
    "STA similarity with the data (model x training stimulus):\n%s",
    result["similarity"].mean("cell").to_pandas().to_string(),
)
write_netcdf(result, snakemake.output[0])
