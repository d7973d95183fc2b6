"""Snakemake adapter: Lampinen & Ganguli's studies (learning curves, spectra, width, transfer),
each simulation next to its theory."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.learning_dynamics import teacher

log = job_logger(snakemake.log[0])
cfg, seed = snakemake.params.cfg, snakemake.params.seed
studies = {
    "curves": lambda: teacher.curves(cfg["teacher"], seed),
    "spectra": lambda: teacher.spectra(cfg["spectra"], seed),
    "widths": lambda: teacher.widths(cfg["teacher"], seed),
    "transfer": lambda: teacher.transfer(cfg["teacher"], seed),
}
for name, study in studies.items():
    ds = study()
    log.info("%s: %s", name, dict(ds.sizes))
    write_netcdf(ds, getattr(snakemake.output, name))
