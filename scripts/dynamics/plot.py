"""Snakemake adapter: every figure of the dynamics branch."""

import torch

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.dynamics import plots

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
inputs, output = snakemake.input, snakemake.output
fixed_points = [read_netcdf(path) for path in inputs.fixed_points]
plots.training([read_netcdf(path) for path in inputs.histories], output.training)
plots.fixed_points(inputs.models, fixed_points, snakemake.params.fixed_points, output.fixed_points)
plots.geometry([read_netcdf(path) for path in inputs.geometry], output.geometry)
plots.topology(read_netcdf(inputs.topology), output.topology)
if hasattr(output, "line_attractor"):
    context = [ds for ds in fixed_points if ds.attrs["task"] == "context"]
    models = [
        path
        for path, ds in zip(inputs.models, fixed_points, strict=True)
        if ds.attrs["task"] == "context"
    ]
    plots.line_attractor(
        models,
        context,
        snakemake.params.fixed_points,
        snakemake.params.topology,
        output.line_attractor,
    )
log.info("wrote %s", ", ".join(output))
