"""Snakemake adapter: gather per-run evaluations and the ceiling into one cell x model table."""

from insilico.analysis.retina_eval import collect
from insilico.io import write_netcdf
from insilico.logs import job_logger

log = job_logger(snakemake.log[0])
runs = {
    tuple(run): path
    for run, path in zip(snakemake.params.runs, snakemake.input.evaluations, strict=True)
}
write_netcdf(collect(runs, snakemake.input.ceiling), snakemake.output[0])
