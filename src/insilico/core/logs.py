"""Setup every pipeline job shares: its ``log:`` file, and a clean stop when the scheduler ends it.

Everything a job says goes to its rule's ``log:`` file. SLURM ends a job at its time limit or on
``scancel`` with SIGTERM (SIGKILL follows after its KillWait); Python's default would die at once
and leave the temporary file of a write in progress (``.name.xxxx.part``) behind, so SIGTERM is
turned into an exit that runs every ``finally`` block, :func:`insilico.core.io.atomic_path`'s
clean-up among them.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from insilico.core.io import WRITE_FAILURES, DataFileError, OutputWriteError, UnreadableFileError


def job_logger(log_path: str | Path, name: str = "insilico") -> logging.Logger:
    """Send log records to ``log_path``; an uncaught exception is logged there before it propagates.

    The traceback also still reaches stderr, so Snakemake shows the error next to the failed rule;
    for the user's own faults (an unusable data file, an unreadable input, a full disk, no
    permission to write) only their one-line message does (a traceback would bury the name of the file at fault). Also installs
    the SIGTERM handler of the module docstring.
    """
    previous_hook = sys.excepthook

    def log_exception(kind, value, traceback):
        if _one_line(value):
            if logging.getLogger().handlers:  # else the log itself could not be opened
                logging.getLogger(name).error("job failed: %s", value)
            print(f"{kind.__name__}: {value}", file=sys.stderr)
            return
        logging.getLogger(name).error("job failed", exc_info=(kind, value, traceback))
        previous_hook(kind, value, traceback)

    # Installed first: a log folder that cannot be written is such a fault too.
    sys.excepthook = log_exception
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    return logging.getLogger(name)


def _one_line(error: BaseException) -> bool:
    """Errors whose message says all the user needs (it names the file): no traceback.

    Writes outside :func:`insilico.core.io.atomic_path` give a plain ``OSError``, whose message
    names its file when it has one.
    """
    if isinstance(error, UnreadableFileError | OutputWriteError | DataFileError):
        return True
    return (
        isinstance(error, OSError) and error.errno in WRITE_FAILURES and error.filename is not None
    )


def _exit_on_sigterm(signum: int, frame) -> None:
    """Leave through ``SystemExit`` (status 128 + 15, as the default would) so clean-ups run."""
    logging.getLogger("insilico").error("job stopped by SIGTERM (a time limit or scancel)")
    raise SystemExit(128 + signum)
