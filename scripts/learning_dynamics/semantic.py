"""Snakemake adapter: Saxe et al.'s studies (decoupled starts, the 8-item tree with its ReLU twin,
the random tree), each simulation next to its theory."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.learning_dynamics import semantic

log = job_logger(snakemake.log[0])
cfg, seed = snakemake.params.cfg, snakemake.params.seed
studies = {
    "decoupled": lambda: semantic.decoupled(cfg["decoupled"], seed),
    "hierarchy": lambda: semantic.hierarchy(cfg["hierarchy"], seed),
    "random_tree": lambda: semantic.random_tree(cfg["random_tree"], seed),
}
for name, study in studies.items():
    ds = study()
    log.info("%s: %s", name, dict(ds.sizes))
    write_netcdf(ds, getattr(snakemake.output, name))
