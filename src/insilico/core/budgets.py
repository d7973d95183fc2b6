"""The measured cost of a run, per branch, against each branch's budget.

Every rule writes a Snakemake benchmark file under ``results/benchmarks/<branch>/...`` (one TSV per
job: wall seconds ``s``, peak resident memory ``max_rss`` in MB, ``cpu_time`` in seconds of user
plus system time of the job's processes). The CPU time is the budget's unit: on a shared machine
wall times are inflated by other work, CPU times are not. A branch's budget is its share of the
default run (config key ``budgets``); the table says whether the measured jobs fit in it.

numpy-free and torch-free: the table job costs a Python start-up and a few file reads.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from pathlib import Path

JOB_COLUMNS = ("branch", "job", "wall_s", "cpu_s", "peak_memory_mb")
TABLE_COLUMNS = (
    "branch",
    "jobs",
    "wall_s",
    "cpu_s",
    "peak_memory_mb",
    "budget_cpu_s",
    "share_of_budget",
    "status",
)
TOTAL = "total"


@dataclass(frozen=True)
class Job:
    """One job's benchmark: its branch (first folder), its name (the rest of the path)."""

    branch: str
    job: str
    wall_s: float
    cpu_s: float
    peak_memory_mb: float


def _number(text: str) -> float:
    """A benchmark field; Snakemake writes ``NA`` (or nothing) where it measured nothing."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return math.nan
    return value


def _mean(values: list[float]) -> float:
    finite = [value for value in values if math.isfinite(value)]
    return sum(finite) / len(finite) if finite else math.nan


def read_job(path: Path, root: Path) -> Job:
    """One benchmark TSV; repeated measurements (``benchmark: repeat(...)``) are averaged."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if not rows or "s" not in rows[0]:
        raise ValueError(f"{path} is not a Snakemake benchmark file (no 's' column)")
    relative = path.relative_to(root)
    if len(relative.parts) < 2:
        raise ValueError(f"{path}: benchmarks belong in results/benchmarks/<branch>/")
    return Job(
        branch=relative.parts[0],
        job=str(relative.with_suffix("").relative_to(relative.parts[0])),
        wall_s=_mean([_number(row.get("s")) for row in rows]),
        cpu_s=_mean([_number(row.get("cpu_time")) for row in rows]),
        peak_memory_mb=max(
            (_number(row.get("max_rss")) for row in rows), key=_finite_key, default=math.nan
        ),
    )


def _finite_key(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def read_jobs(root: str | Path) -> list[Job]:
    """Every benchmark file under ``root`` (results/benchmarks), in path order."""
    root = Path(root)
    return [read_job(path, root) for path in sorted(root.rglob("*.tsv"))]


def _nansum(values) -> float:
    return sum(value for value in values if math.isfinite(value))


def _row(branch: str, jobs: list[Job], budget: float | None) -> dict:
    cpu = _nansum(job.cpu_s for job in jobs)
    share = cpu / budget if budget else math.nan
    status = "no budget" if budget is None else "within" if cpu <= budget else "over"
    return {
        "branch": branch,
        "jobs": len(jobs),
        "wall_s": round(_nansum(job.wall_s for job in jobs), 1),
        "cpu_s": round(cpu, 1),
        "peak_memory_mb": round(max((job.peak_memory_mb for job in jobs), key=_finite_key), 1),
        "budget_cpu_s": budget if budget is not None else math.nan,
        "share_of_budget": round(share, 2),
        "status": status,
    }


def budget_table(jobs: list[Job], budgets: dict[str, float], total_budget: float) -> list[dict]:
    """One row per branch that ran (in the order of ``budgets``, then unbudgeted branches), then
    the total against ``total_budget`` (CPU seconds of the whole run: cores x minutes)."""
    by_branch: dict[str, list[Job]] = {}
    for job in jobs:
        by_branch.setdefault(job.branch, []).append(job)
    order = [b for b in budgets if b in by_branch] + sorted(set(by_branch) - set(budgets))
    rows = [_row(branch, by_branch[branch], budgets.get(branch)) for branch in order]
    if jobs:
        rows.append(_row(TOTAL, jobs, total_budget))
    return rows


def slowest(jobs: list[Job], n: int) -> list[Job]:
    """The ``n`` jobs with the most CPU time (unmeasured ones last)."""
    return sorted(jobs, key=lambda job: _finite_key(job.cpu_s), reverse=True)[:n]


def _write_csv(rows: list[dict], columns: tuple[str, ...], path: str | Path) -> None:
    from insilico.core.io import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_table(rows: list[dict], path: str | Path) -> None:
    _write_csv(rows, TABLE_COLUMNS, path)


def write_jobs(jobs: list[Job], path: str | Path) -> None:
    _write_csv([asdict(job) for job in jobs], JOB_COLUMNS, path)


def read_csv(path: str | Path) -> list[dict]:
    """A table written by :func:`write_table` or :func:`write_jobs`, numbers as floats."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    numeric = {"jobs", "wall_s", "cpu_s", "peak_memory_mb", "budget_cpu_s", "share_of_budget"}
    return [{k: _number(v) if k in numeric else v for k, v in row.items()} for row in rows]


def plot_table(rows: list[dict], path: str | Path) -> None:
    """Bars of each branch's CPU seconds with its budget as a tick, and the run's total, so a
    branch over its share shows at a glance (red bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from insilico.core.io import save_figure

    branches = [row for row in rows if row["branch"] != TOTAL]
    total = next((row for row in rows if row["branch"] == TOTAL), None)
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(branches) + 1.6))
    names = [f"{row['branch']} ({row['jobs']:.0f} jobs)" for row in branches]
    y = list(range(len(branches)))
    colours = ["tab:red" if row["status"] == "over" else "tab:blue" for row in branches]
    ax.barh(y, [row["cpu_s"] for row in branches], color=colours, label="measured CPU s")
    ax.scatter(
        [row["budget_cpu_s"] for row in branches], y, marker="|", s=400, color="k", label="budget"
    )
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("CPU seconds of the branch's jobs")
    if total is not None:
        ax.set_title(
            f"total {total['cpu_s']:.0f} CPU s of {total['budget_cpu_s']:.0f} "
            f"({total['status']}); {total['jobs']:.0f} jobs, {total['wall_s']:.0f} s summed wall"
        )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="small")
    save_figure(fig, path)
