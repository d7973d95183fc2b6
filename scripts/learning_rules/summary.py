"""Snakemake adapter: the population table, the claims table and the figures."""

from insilico.core.claims import log_claims
from insilico.core.io import atomic_path, read_netcdf, save_figure
from insilico.core.logs import job_logger
from insilico.learning_rules import plots, summary

log = job_logger(snakemake.log[0])
settings = snakemake.params.claims
curves = read_netcdf(snakemake.input.curves)
population = summary.population_table(curves, read_netcdf(snakemake.input.predictivity))
hessian = read_netcdf(snakemake.input.hessian)
claims = summary.claims_table(population, hessian, settings["margin"], settings["confidence"])
log_claims(log, claims)
tables = {
    "claims": claims,
    "table": summary.rule_means(population),
    "population": population,
    "hessian_table": summary.hessian_table(hessian),
}
for name, frame in tables.items():
    with atomic_path(snakemake.output[name]) as path:
        frame.to_csv(path, index=False)
figures = {
    "accuracy": lambda: plots.accuracy_per_rule(population, float(curves.attrs["chance"])),
    "predictivity": lambda: plots.predictivity_vs_accuracy(population),
    "hessian": lambda: plots.hessian_spectrum(hessian),
    "depth": lambda: plots.accuracy_vs_depth(read_netcdf(snakemake.input.depth), curves),
    "grid": lambda: plots.grid_heatmaps(read_netcdf(snakemake.input.grid)),
}
for name, figure in figures.items():
    if hasattr(snakemake.output, name):
        save_figure(figure(), snakemake.output[name])
