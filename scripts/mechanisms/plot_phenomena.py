"""Snakemake adapter: one figure per phenomenon of one dissected CNN (model, reduced model and
simulated retina)."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.mechanisms import plots

log = job_logger(snakemake.log[0])
phenomena = snakemake.params.phenomena
label = plots.run_label(**snakemake.wildcards)


def load(kind):
    return {p: read_netcdf(snakemake.input[f"{kind}_{p}"]) for p in phenomena}


responses, reductions = load("responses"), load("reduction")
for phenomenon in phenomena:
    plots.phenomenon_figure(
        responses[phenomenon], reductions[phenomenon], snakemake.output[phenomenon], label
    )
log.info("wrote %d figures", len(snakemake.output))
