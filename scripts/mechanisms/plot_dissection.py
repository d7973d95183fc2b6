"""Snakemake adapter: the attribution, reduction and (on simulated data) ground-truth figures of
one dissected CNN."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.mechanisms import plots

log = job_logger(snakemake.log[0])
phenomena = snakemake.params.phenomena
label = plots.run_label(**snakemake.wildcards)


def load(kind):
    return {p: read_netcdf(snakemake.input[f"{kind}_{p}"]) for p in phenomena}


responses, reductions = load("responses"), load("reduction")
plots.attribution_figure(load("attribution"), responses, snakemake.output.attribution, label)
plots.reduction_figure(reductions, responses, snakemake.output.reduction, label)
if snakemake.params.ground_truth:
    plots.groundtruth_figure(load("groundtruth"), snakemake.output.groundtruth, label)
log.info("wrote %d figures", len(snakemake.output))
