"""Snakemake adapter: the figures of one dissected CNN (one rule for the phenomena, one for the
attribution, reduction and ground-truth figures)."""

from insilico.io import read_netcdf
from insilico.logs import job_logger
from insilico.plots import mechanisms

log = job_logger(snakemake.log[0])
phenomena = snakemake.params.phenomena
label = "({experiment}, CNN trained on {stimulus}, seed {seed})".format(**snakemake.wildcards)


def load(kind):
    return {p: read_netcdf(snakemake.input[f"{kind}_{p}"]) for p in phenomena}


responses, reductions = load("responses"), load("reduction")
if snakemake.rule == "plot_mechanism_phenomena":
    for phenomenon in phenomena:
        mechanisms.phenomenon_figure(
            responses[phenomenon], reductions[phenomenon], snakemake.output[phenomenon], label
        )
elif snakemake.rule == "plot_mechanism_dissection":
    mechanisms.attribution_figure(
        load("attribution"), responses, snakemake.output.attribution, label
    )
    mechanisms.reduction_figure(reductions, responses, snakemake.output.reduction, label)
    if snakemake.params.ground_truth:
        mechanisms.groundtruth_figure(load("groundtruth"), snakemake.output.groundtruth, label)
else:
    raise ValueError(f"plot_mechanisms.py does not know rule {snakemake.rule!r}")
log.info("wrote %d figures", len(snakemake.output))
