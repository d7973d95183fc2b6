"""Snakemake adapter: gather per-run evaluations and the ceiling into one cell x model table."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.retina.evaluate import collect

log = job_logger(snakemake.log[0])
runs = {
    tuple(run): path
    for run, path in zip(snakemake.params.runs, snakemake.input.evaluations, strict=True)
}
write_netcdf(collect(runs, snakemake.input.ceiling), snakemake.output[0])
