"""Snakemake adapter: the branch's figures and claims.csv from the studies' netCDF files."""

from insilico.core.io import atomic_path, read_netcdf, save_figure
from insilico.core.logs import job_logger
from insilico.learning_dynamics import claims, plots

log = job_logger(snakemake.log[0])
ds = {name: read_netcdf(path) for name, path in snakemake.input.items() if name != "code"}
figures = {
    "mode_trajectories": lambda: plots.mode_trajectories(ds["decoupled"], ds["hierarchy"]),
    "hierarchy": lambda: plots.hierarchy(ds["hierarchy"]),
    "relu": lambda: plots.relu(ds["hierarchy"]),
    "random_tree": lambda: plots.random_tree(ds["random_tree"]),
    "teacher_curves": lambda: plots.teacher_curves(ds["curves"]),
    "spectra": lambda: plots.spectra(ds["spectra"]),
    "width": lambda: plots.width(ds["widths"]),
    "transfer": lambda: plots.transfer(ds["transfer"]),
}
for name, draw in figures.items():
    save_figure(draw(), getattr(snakemake.output, name))
tol = snakemake.params.tolerances
rows = (
    claims.decoupled_rows(ds["decoupled"], tol["decoupled"])
    + claims.hierarchy_rows(ds["hierarchy"], tol)
    + claims.random_tree_rows(ds["random_tree"], tol)
    + claims.teacher_rows(ds["curves"], ds["spectra"], ds["widths"], ds["transfer"], tol)
)
table = claims.table(rows)
with atomic_path(snakemake.output.claims) as tmp:
    table.to_csv(tmp, index=False)
log.info("\n%s", table.drop(columns="measure").to_string())
