"""Snakemake adapter: receptive fields, linearity and separability of one width's networks."""

import torch

from insilico.bottleneck.probe import probe_group
from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
device = choose_device(log)
paths = {
    tuple(run): path
    for run, path in zip(snakemake.params.runs, snakemake.input.models, strict=True)
}
probed = probe_group(
    paths,
    read_netcdf(snakemake.input.images),
    dict(snakemake.params.probe),
    int(snakemake.wildcards.n_bn),
    device,
)
log.info("separability %s", probed["separability"].values.tolist())
write_netcdf(probed, snakemake.output[0])
