"""Snakemake adapter: V4/IT predictivity of every network of the population (IT protocol)."""

import tempfile
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.it.assembly import read_stimulus_set
from insilico.it.cache_keys import file_sha256
from insilico.learning_rules.predictivity import score_network

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
preprocessing = dict(snakemake.params.preprocessing)
stimuli = read_stimulus_set(
    snakemake.input.stimuli_csv, snakemake.input.stimuli_zip, size=preprocessing["image_size"]
)
neural = read_netcdf(snakemake.input.neural)
fit_images = read_netcdf(snakemake.input.images)["train_images"].values
inputs = {
    name: file_sha256(snakemake.input[name]) for name in ("stimuli_csv", "stimuli_zip", "images")
}
runs = list(snakemake.params.runs)  # (rule, seed) per model file, in order
layers = list(snakemake.params.layers)
best = np.full((len(runs), 2), np.nan)
chosen = None
with tempfile.TemporaryDirectory() as workdir:
    for i, ((rule, seed), path) in enumerate(zip(runs, snakemake.input.models, strict=True)):
        scores, layer_choice, regions = score_network(
            model_path=path,
            neural=neural,
            stimuli=stimuli,
            fit_images=fit_images,
            layers=layers,
            preprocessing=preprocessing,
            score=dict(snakemake.params.score),
            seed=int(seed),
            workdir=Path(workdir),
            inputs=inputs,
            device=choose_device(log),
            log=log,
        )
        if chosen is None:
            best = np.full((len(runs), len(regions)), np.nan)
            chosen = np.zeros((len(runs), len(regions), layer_choice.shape[1]), int)
        best[i], chosen[i] = scores, layer_choice
        log.info(
            "%s seed %s: best-layer r %s",
            rule,
            seed,
            dict(zip(regions, scores.round(3), strict=True)),
        )
result = xr.Dataset(
    {
        "predictivity": (("run", "region"), best),
        "best_layer": (("run", "region", "split"), np.asarray(layers)[chosen]),
    },
    coords={
        "rule": ("run", [r for r, _ in runs]),
        "seed": ("run", [int(s) for _, s in runs]),
        "region": regions,
    },
    attrs={
        "layers": layers,
        "protocol": "IT branch: PLS, stratified splits, held-out layer choice",
    },
)
write_netcdf(result, snakemake.output[0])
