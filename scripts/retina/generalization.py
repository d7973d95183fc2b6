"""Snakemake adapter: every model of an experiment tested on every stimulus class."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.retina.evaluate import generalization

log = job_logger(snakemake.log[0])
claim_gpu(log)  # one GPU per job on a multi-GPU machine; before CUDA starts
torch.set_num_threads(snakemake.threads)
models = {
    tuple(run): path
    for run, path in zip(snakemake.params.runs, snakemake.input.models, strict=True)
}
stimuli = snakemake.params.stimuli
result = generalization(
    models,
    dict(zip(stimuli, snakemake.input.recordings, strict=True)),
    dict(zip(stimuli, snakemake.input.ceilings, strict=True)),
    snakemake.params.cells,
    standardise=snakemake.params.standardise,
    device=choose_device(log),
    test_set=snakemake.params.test_set,
    **snakemake.params.closed_loop,
)
for model in result["model"].values:
    table = result["correlation"].sel(model=model).mean(["seed", "cell"]).to_pandas()
    log.info("%s: mean test correlation (train x test stimulus):\n%s", model, table.to_string())
write_netcdf(result, snakemake.output[0])
