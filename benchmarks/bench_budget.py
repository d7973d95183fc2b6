"""The default run's slowest jobs against their branch's budget, from the run's budget table.

The default DAG ends with ``results/budgets.csv`` (per branch: jobs, wall, CPU, peak memory,
budget, within or over) and ``results/budget_jobs.csv`` (one row per job's benchmark file). This
prints the slowest jobs by CPU time with their share of their branch's budget, then the branch
table, so the job to make cheaper is the first line::

    snakemake --cores 2 && python benchmarks/bench_budget.py --slowest 10 --strict

``--strict`` exits 1 when a branch or the total is over its budget (for CI on a full run).
"""

from __future__ import annotations

import argparse
import math
import sys

from insilico.core import budgets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--table", default="results/budgets.csv")
    parser.add_argument("--jobs", default="results/budget_jobs.csv")
    parser.add_argument("--slowest", type=int, default=10, help="jobs listed")
    parser.add_argument("--strict", action="store_true", help="exit 1 if anything is over")
    args = parser.parse_args(argv)
    table = budgets.read_csv(args.table)
    budget = {row["branch"]: row["budget_cpu_s"] for row in table}
    jobs = [budgets.Job(**_job_fields(row)) for row in budgets.read_csv(args.jobs)]
    print(f"{'cpu_s':>8} {'wall_s':>8} {'of budget':>9}  job")
    for job in budgets.slowest(jobs, args.slowest):
        share = job.cpu_s / budget.get(job.branch, math.nan)
        print(f"{job.cpu_s:8.1f} {job.wall_s:8.1f} {share:9.0%}  {job.branch}/{job.job}")
    print(f"\n{'branch':<16}{'jobs':>5}{'cpu_s':>9}{'budget':>8}{'wall_s':>9}{'MB':>7}  status")
    for row in table:
        print(
            f"{row['branch']:<16}{row['jobs']:5.0f}{row['cpu_s']:9.1f}{row['budget_cpu_s']:8.0f}"
            f"{row['wall_s']:9.1f}{row['peak_memory_mb']:7.0f}  {row['status']}"
        )
    over = [row["branch"] for row in table if row["status"] == "over"]
    if over:
        print(f"\nover budget: {', '.join(over)}")
    return 1 if args.strict and over else 0


def _job_fields(row: dict) -> dict:
    return {name: row[name] for name in budgets.JOB_COLUMNS}


if __name__ == "__main__":
    sys.exit(main())
