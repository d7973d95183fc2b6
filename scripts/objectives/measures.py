"""Snakemake adapter: probe, predictivity, geometry, invariance and PGD of every trained network."""

import torch

from insilico.core.io import load_torch, read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.it.assembly import read_stimulus_set
from insilico.objectives.measures import measure_all

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
neural = read_netcdf(snakemake.input.neural)
stimuli = read_stimulus_set(
    snakemake.input.stimuli_csv, snakemake.input.stimuli_zip, size=snakemake.params.size
)
order = stimuli.metadata.reset_index(drop=True).reset_index().set_index("stimulus_id")["index"]
images = stimuli.images[order.loc[neural["stimulus_id"].values.astype(str)].to_numpy()]
payloads = [load_torch(snakemake.input.images), load_torch(snakemake.input.waves)]
measures = measure_all(
    payloads,
    read_netcdf(snakemake.input.task),
    neural,
    images,
    dict(snakemake.params.settings),
    log,
)
write_netcdf(measures, snakemake.output[0])
