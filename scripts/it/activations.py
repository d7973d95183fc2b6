"""Snakemake adapter: layer activations of one model on the stimulus set, cached by content."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.it.activations import extract_activations
from insilico.it.assembly import read_stimulus_set
from insilico.it.cache_keys import file_sha256

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
preprocessing = dict(snakemake.params.preprocessing)
stimuli = read_stimulus_set(
    snakemake.input.stimuli_csv,
    snakemake.input.stimuli_zip,
    size=preprocessing["image_size"],
    stratify_by=snakemake.params.stratify_by,
)
fit_images = read_netcdf(snakemake.input.fit_images)["train_images"].values
inputs = {
    name: file_sha256(snakemake.input[name])
    for name in ("model", "stimuli_csv", "stimuli_zip", "fit_images")
}
extract_activations(
    model_path=snakemake.input.model,
    stimuli=stimuli.metadata,
    images=stimuli.images,
    fit_images=fit_images,
    layers=list(snakemake.params.layers),
    out_paths=list(snakemake.output),
    preprocessing=preprocessing,
    inputs=inputs,
    device=choose_device(log),
    batch_size=snakemake.params.batch_size,
    log=log,
)
