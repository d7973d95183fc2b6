"""Job logs: an unreadable input, a full disk or a folder that may not be written stops a job with
one line naming the file, not a traceback; SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest


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
    assert len(lines) == 1 and str(bad) in lines[0] and f"`snakemake --forcerun {bad}`" in lines[0]
    assert str(bad) in log.read_text()


def test_an_unusable_data_file_stops_the_job_with_one_line(tmp_path):
    """A recording in another layout (its copy in resources/ changed after the check before the
    run): the reader's message names the file and the dataset, and is all that is printed."""
    bad = tmp_path / "whitenoise.h5"
    bad.write_text("not HDF5\n")
    script = (
        "from insilico.core.logs import job_logger\n"
        "from insilico.retina.recording import read_recording\n"
        f"job_logger({str(tmp_path / 'job.log')!r})\n"
        f"read_recording({str(bad)!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"RetinaFileError: {bad} is not a readable HDF5 file ({_h5py_message(bad)})"
    ]


def _h5py_message(path) -> str:
    import h5py

    try:
        h5py.File(path, "r")
    except OSError as error:
        return str(error)
    raise AssertionError(f"{path} opened")


# Job scripts in which the disk is full or the log folder may not be written (simulated: the tests
# may run as root, whom permissions do not stop).
FULL_DISK = (
    "import errno, pathlib\n"
    "def full(*args, **kwargs):\n"
    "    raise OSError(errno.ENOSPC, 'No space left on device')\n"
    "pathlib.Path.write_text = full\n"
)
NO_LOG_FOLDER = (
    "import errno, logging\n"
    "def denied(self, path, *args, **kwargs):\n"
    "    raise PermissionError(errno.EACCES, 'Permission denied', path)\n"
    "logging.FileHandler.__init__ = denied\n"
)


@pytest.mark.parametrize(
    ("setup", "output", "words"),
    [
        (FULL_DISK, "summary.json", "cannot write {output}: the disk is full"),
        (NO_LOG_FOLDER, "job.log", "[Errno 13] Permission denied: '{output}'"),
    ],
    ids=["disk-full", "log-folder-denied"],
)
def test_a_write_failure_stops_the_job_with_one_line_naming_the_path(
    tmp_path, setup, output, words
):
    log, output = tmp_path / "job.log", tmp_path / output
    script = setup + (
        "from insilico.core.io import write_json\n"
        "from insilico.core.logs import job_logger\n"
        f"job_logger({str(log)!r})\n"
        f"write_json({{}}, {str(tmp_path / 'summary.json')!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words.format(output=output) in lines[0], done.stderr


def test_sigterm_mid_write_leaves_no_temporary_file(tmp_path):
    """As SLURM's scancel or time limit: SIGTERM while an atomic write is open."""
    log = tmp_path / "job.log"
    script = (
        "import time\n"
        "from insilico.core.io import atomic_path\n"
        "from insilico.core.logs import job_logger\n"
        f"job_logger({str(log)!r})\n"
        f"with atomic_path({str(tmp_path / 'checkpoint.pt')!r}) as tmp:\n"
        "    tmp.write_bytes(b'half a checkpoint')\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
    )
    job = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert job.stdout.readline() == "writing\n"
    job.send_signal(signal.SIGTERM)
    assert job.wait(timeout=30) == 128 + signal.SIGTERM
    assert sorted(path.name for path in tmp_path.iterdir()) == ["job.log"]
    assert "stopped by SIGTERM" in log.read_text()
