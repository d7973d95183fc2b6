"""Snakemake adapter: simulate each seed's retinal-wave movie and its statistics (no torch)."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.objectives.waves import wave_dataset

log = job_logger(snakemake.log[0])
waves = wave_dataset(
    dict(snakemake.params.waves), list(snakemake.params.seeds), snakemake.params.size
)
for name in ("speed_um_s", "interval_s", "size_mm2", "n_waves"):
    log.info("%s per seed: %s", name, waves[name].values.round(3))
log.info(
    "deterministic front %.1f um/s, analytic %.1f um/s",
    waves.attrs["front_speed_um_s"],
    waves.attrs["analytic_speed_um_s"],
)
write_netcdf(waves, snakemake.output[0])
