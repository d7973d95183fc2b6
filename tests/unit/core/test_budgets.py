"""The budget table from synthetic Snakemake benchmark files: sums, peaks, verdicts, edge cases."""

from __future__ import annotations

import math

import pytest

from insilico.core import budgets

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def bench(root, relative, *rows):
    """A benchmark TSV with one line per (wall s, max_rss MB, cpu s) row, as Snakemake writes."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{s}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n" for s, rss, cpu in rows]
    path.write_text(HEADER + "".join(lines))
    return path


@pytest.fixture
def run(tmp_path):
    bench(tmp_path, "retina/train/sim01_cnn_seed0.tsv", (100.0, 500.0, 180.0))
    bench(tmp_path, "retina/train/sim01_ln_seed0.tsv", (10.0, 300.0, 12.5))
    bench(tmp_path, "dynamics/grid_cells/train_chunk0.tsv", (20.0, 800.0, 30.0))
    bench(tmp_path, "newbranch/job.tsv", (2.0, 50.0, "NA"))
    return tmp_path


def test_jobs_are_read_with_their_branch_and_name(run):
    jobs = {job.job: job for job in budgets.read_jobs(run)}
    assert set(jobs) == {
        "train/sim01_cnn_seed0",
        "train/sim01_ln_seed0",
        "grid_cells/train_chunk0",
        "job",
    }
    cnn = jobs["train/sim01_cnn_seed0"]
    assert (cnn.branch, cnn.wall_s, cnn.cpu_s, cnn.peak_memory_mb) == ("retina", 100, 180, 500)
    assert jobs["grid_cells/train_chunk0"].branch == "dynamics"
    assert math.isnan(jobs["job"].cpu_s)


def test_table_sums_per_branch_and_judges_against_the_budget(run):
    rows = budgets.budget_table(budgets.read_jobs(run), {"dynamics": 20, "retina": 200}, 1800)
    by = {row["branch"]: row for row in rows}
    assert [row["branch"] for row in rows] == ["dynamics", "retina", "newbranch", "total"]
    assert by["retina"]["jobs"] == 2 and by["retina"]["cpu_s"] == 192.5
    assert by["retina"]["wall_s"] == 110 and by["retina"]["peak_memory_mb"] == 500
    assert by["retina"]["status"] == "within" and by["retina"]["share_of_budget"] == 0.96
    assert by["dynamics"]["status"] == "over" and by["dynamics"]["share_of_budget"] == 1.5
    # a branch without a budget is listed, not judged; its unmeasured CPU time counts as zero
    assert by["newbranch"]["status"] == "no budget" and by["newbranch"]["cpu_s"] == 0
    assert by["total"]["jobs"] == 4 and by["total"]["cpu_s"] == 222.5
    assert by["total"]["peak_memory_mb"] == 800 and by["total"]["status"] == "within"


def test_total_over_the_run_budget(run):
    rows = budgets.budget_table(budgets.read_jobs(run), {"retina": 1000}, 100)
    assert rows[-1]["branch"] == "total" and rows[-1]["status"] == "over"


def test_repeated_measurements_are_averaged(tmp_path):
    bench(tmp_path, "it/train.tsv", (10.0, 100.0, 8.0), (14.0, 300.0, 12.0))
    (job,) = budgets.read_jobs(tmp_path)
    assert (job.wall_s, job.cpu_s, job.peak_memory_mb) == (12.0, 10.0, 300.0)


def test_no_benchmarks_give_an_empty_table(tmp_path):
    assert budgets.budget_table(budgets.read_jobs(tmp_path), {"retina": 1}, 1) == []


def test_a_file_that_is_not_a_benchmark_is_named(tmp_path):
    (tmp_path / "retina").mkdir()
    (tmp_path / "retina" / "notes.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="notes.tsv is not a Snakemake benchmark"):
        budgets.read_jobs(tmp_path)


def test_a_benchmark_outside_a_branch_folder_is_refused(tmp_path):
    bench(tmp_path, "loose.tsv", (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="results/benchmarks/<branch>/"):
        budgets.read_jobs(tmp_path)


def test_tables_round_trip_and_slowest_jobs(run, tmp_path):
    jobs = budgets.read_jobs(run)
    budgets.write_jobs(jobs, tmp_path / "jobs.csv")
    budgets.write_table(budgets.budget_table(jobs, {"retina": 200}, 1800), tmp_path / "t.csv")
    table = budgets.read_csv(tmp_path / "t.csv")
    assert table[0]["branch"] == "retina" and table[0]["cpu_s"] == 192.5
    assert math.isnan(table[1]["budget_cpu_s"])  # dynamics has no budget here
    assert [job.job for job in budgets.slowest(jobs, 2)] == [
        "train/sim01_cnn_seed0",
        "grid_cells/train_chunk0",
    ]
    assert budgets.slowest(jobs, 10)[-1].job == "job"  # unmeasured last


def test_the_figure_is_drawn(run, tmp_path):
    rows = budgets.budget_table(budgets.read_jobs(run), {"retina": 200, "dynamics": 20}, 1800)
    budgets.plot_table(rows, tmp_path / "budgets.png")
    assert (tmp_path / "budgets.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
