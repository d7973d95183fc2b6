"""Snakemake adapter: every branch's claims.csv in one table, verdict counts, one file per branch."""

from pathlib import Path

from insilico.core.claims import gather, verdict_counts
from insilico.core.io import atomic_path
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
claims = gather(dict(snakemake.params.tables))
counts = verdict_counts(claims)
for frame, path in ((claims, snakemake.output.table), (counts, snakemake.output.counts)):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.4g")
folder = Path(snakemake.output.branches)
folder.mkdir(parents=True, exist_ok=True)
for branch, rows in claims.groupby("branch", sort=False):
    with atomic_path(folder / f"{branch}.csv") as tmp:
        rows.drop(columns="branch").to_csv(tmp, index=False, float_format="%.4g")
log.info("%d claims from %d branches:\n%s", len(claims), len(counts), counts.to_string())
