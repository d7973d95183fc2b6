"""Checkpoints of a training run, shared by the trainers of every branch.

A checkpoint carries the fingerprint of the run that wrote it (a hash of everything that defines
the run); one from another run, or one that cannot be read, is ignored and the run starts fresh.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

from insilico.core.io import load_torch


def read_checkpoint(path: Path, fingerprint: str, log: logging.Logger) -> dict | None:
    """The checkpoint at ``path`` if it is readable and from the run with ``fingerprint``, else None."""
    if not path.exists():
        return None
    try:
        checkpoint = load_torch(path)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
        log.warning("checkpoint %s unreadable (%s); starting fresh", path, error)
        return None
    if checkpoint.get("fingerprint") != fingerprint:
        log.info(
            "checkpoint %s is from a different run (fingerprint mismatch); starting fresh", path
        )
        return None
    return checkpoint
