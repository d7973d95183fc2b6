"""Job logs: an unreadable input stops a job with one line naming the file, not a traceback."""

from __future__ import annotations

import subprocess
import sys


def test_an_unreadable_input_stops_the_job_with_one_line(tmp_path):
    bad = tmp_path / "evaluation.nc"
    bad.write_bytes(b"CDF\x01 cut short")
    log = tmp_path / "job.log"
    script = (
        "from insilico.core.io import read_netcdf\n"
        "from insilico.core.logs import job_logger\n"
        f"job_logger({str(log)!r})\n"
        f"read_netcdf({str(bad)!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "delete it and rerun" in lines[0]
    assert str(bad) in log.read_text()
