"""Snakemake adapter: tables of phenomena, attribution, reduction and ground truth over all CNNs."""

from insilico.core.io import atomic_path, read_netcdf
from insilico.core.logs import job_logger
from insilico.mechanisms import plots, summary

log = job_logger(snakemake.log[0])
runs = [tuple(run) for run in snakemake.params.runs]
phenomena = snakemake.params.phenomena


def load(kind):
    paths = iter(snakemake.input[kind])
    return {run: {p: read_netcdf(next(paths)) for p in phenomena} for run in runs}


controls = snakemake.params.controls
responses, reductions = load("responses"), load("reduction")
tables = {
    "phenomena": summary.phenomena_table(
        responses, reductions, snakemake.params.agreement, snakemake.params.margin, controls
    ),
    "attribution": summary.attribution_table(load("attribution"), controls),
    "reduction": summary.reduction_table(reductions, controls),
}
if snakemake.params.ground_truth:
    groundtruths = load("groundtruth")
    tables["groundtruth"] = summary.groundtruth_table(groundtruths, controls)
    tables["recovery"] = summary.recovery_table(groundtruths, controls)
    if controls:
        plots.power_curve_figure(tables["recovery"], snakemake.output.power_curve)
for name, table in tables.items():
    log.info("%s:\n%s", name, table.to_string())
    with atomic_path(snakemake.output[name]) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4g")
