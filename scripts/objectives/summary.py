"""Snakemake adapter: the claims table, the per-layer measures with intervals, and the figures."""

from insilico.core.claims import log_claims
from insilico.core.io import atomic_path, read_netcdf, save_figure
from insilico.core.logs import job_logger
from insilico.objectives import plots, summary

log = job_logger(snakemake.log[0])
measures, waves = read_netcdf(snakemake.input.measures), read_netcdf(snakemake.input.waves)
table = summary.claims(measures, waves, dict(snakemake.params.settings))
log_claims(log, table)
for name, frame in (("claims", table), ("measures", summary.measures_table(measures))):
    with atomic_path(snakemake.output[name]) as path:
        frame.to_csv(path, index=False)
figures = {
    "capacity_predictivity": plots.capacity_predictivity(measures),
    "robustness": plots.robustness(measures),
    "wave_translation": plots.wave_translation(measures),
    "wave_strip": plots.wave_strip(waves),
}
for name, figure in figures.items():
    save_figure(figure, snakemake.output[name])
