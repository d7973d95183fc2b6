"""Snakemake adapter: the run's benchmark files as a per-branch table against the budgets."""

from insilico.core import budgets
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
settings = snakemake.params.budgets
jobs = budgets.read_jobs(snakemake.params.benchmarks)
rows = budgets.budget_table(
    jobs, settings["cpu_seconds"], settings["cores"] * settings["minutes"] * 60
)
budgets.write_jobs(jobs, snakemake.output.jobs)
budgets.write_table(rows, snakemake.output.table)
budgets.plot_table(rows, snakemake.output.figure)
for row in rows:
    log.info("%s", row)
