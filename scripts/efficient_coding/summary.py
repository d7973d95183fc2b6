"""Snakemake adapter: claims table, learned against simulated types, and the figures."""

from insilico.core.claims import log_claims
from insilico.core.io import atomic_path, read_netcdf, save_figure
from insilico.core.logs import job_logger
from insilico.efficient_coding import plots, summary

log = job_logger(snakemake.log[0])
theory, trained = read_netcdf(snakemake.input.theory), read_netcdf(snakemake.input.trained)
table = summary.claims(theory, trained)
log_claims(log, table)
for name, frame in (
    ("claims", table),
    ("types", summary.types_table(trained, read_netcdf(snakemake.input.retina))),
):
    with atomic_path(snakemake.output[name]) as path:
        frame.to_csv(path, index=False)
figures = {
    "spectrum": plots.spectrum_fit(theory),
    "error_budget": plots.error_budget(theory, trained),
    "filters": plots.learned_filters(trained),
    "type_ratio": plots.ratio_budget(theory),
}
for name, figure in figures.items():
    save_figure(figure, snakemake.output[name])
