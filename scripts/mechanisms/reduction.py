"""Snakemake adapter: reduced models keeping the top-attributed channels, per stimulus and cell."""

import torch
import xarray as xr

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)

from insilico.mechanisms.experiments import summarise  # noqa: E402
from insilico.mechanisms.reduction import reduce  # noqa: E402
from insilico.retina.inference import load_model  # noqa: E402

device = choose_device(log)
model, meta = load_model(snakemake.input.model)
for phenomenon in snakemake.params.phenomena:
    responses = read_netcdf(snakemake.input[f"responses_{phenomenon}"])
    attribution = read_netcdf(snakemake.input[f"attribution_{phenomenon}"])
    reduction = reduce(
        model,
        meta,
        responses,
        attribution,
        tolerance=snakemake.params.tolerance,
        min_response=snakemake.params.min_response,
        batch_size=snakemake.params.batch_size,
        device=device,
        log=log,
    )
    rate = reduction["reduced_rate"].expand_dims(source=["reduced"])
    rest = responses["rest_rate"].sel(source=["cnn"]).assign_coords(source=["reduced"])
    summary = summarise(rate, rest, responses, snakemake.params.min_response)
    write_netcdf(xr.merge([reduction, summary], compat="override"), snakemake.output[phenomenon])
