"""The run state every trainer shares: fingerprint, seeds, checkpoint, resume, early stopping.

Every trainer steps through :func:`insilico.core.training.train_loop`; what makes its run
reproducible and resumable is one code, here:

- :func:`fingerprint` hashes everything that defines a run (model, training settings, a digest
  of the data); a checkpoint is resumed only by the run that wrote it;
- :func:`seeded` runs the training with deterministic kernels (on CUDA) and the global torch RNG
  seeded, and gives the run its own seeded generator for shuffling or batch draws;
- :class:`RunState` holds everything that changes while a run trains: the modules, optimisers and
  schedulers (anything with ``state_dict``), the generators it draws from (torch or numpy), its
  progress (epochs,
  steps or finished parts), its curves, and the early-stopping record. :meth:`RunState.save`
  writes all of it with the global torch and CUDA RNG states, atomically, so a run killed at any
  moment (even by ``kill -9``) leaves either the previous checkpoint or the new one; restored by
  :meth:`RunState.resume`, the run ends with exactly the model of an uninterrupted one.

A checkpoint that cannot be read, or that comes from another run, is ignored with a log line and
the run starts fresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import pickle
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insilico.core.device import deterministic
from insilico.core.io import load_torch, save_torch

if TYPE_CHECKING:
    import numpy as np
    import torch


def fingerprint(**parts: Any) -> str:
    """Hash of everything that defines a run (JSON-serialisable parts, key order irrelevant)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def digest(array) -> str:
    """Hash of an array's bytes: the data part of a fingerprint, without storing the data."""
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


@contextlib.contextmanager
def seeded(device: torch.device, seed: int) -> Iterator[torch.Generator]:
    """A training run's random state: deterministic kernels (CUDA), the global torch RNG seeded
    with ``seed`` (initialisation, dropout), and a CPU generator seeded the same way, yielded, for
    the run's own draws (shuffling, batches)."""
    import torch

    with deterministic(device):
        torch.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)


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


def _cpu_copy(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in state.items()}


def _state(generator) -> Any:
    """A torch generator's state tensor, or a numpy generator's bit-generator state (a dict)."""
    return (
        generator.get_state() if hasattr(generator, "get_state") else generator.bit_generator.state
    )


def _restore(generator, state) -> None:
    if hasattr(generator, "set_state"):
        generator.set_state(state)
    else:
        generator.bit_generator.state = state


class RunState:
    """Everything a training run must save to be resumed exactly (see the module docstring).

    ``path``: the checkpoint file, or None for a run that trains in memory only (it neither
    saves nor resumes: a short run inside another job).
    ``components``: name -> object with ``state_dict`` / ``load_state_dict`` (None entries are
    skipped: an optimiser a run without steps never builds). ``generators``: name -> the
    ``torch.Generator`` or ``numpy.random.Generator`` objects the loop draws from. ``progress``
    counts what the loop has done (epochs, steps, finished parts); ``curves``: the names of the
    values it records as it goes. ``best_of``: the module whose weights early stopping keeps (its weights
    now, until a score improves on them). ``parts``: results the loop stores as it goes (finished
    parts of a job), saved and restored with the rest. ``unit``: what progress counts (the log).
    """

    def __init__(
        self,
        path: str | Path | None,
        fingerprint: str,
        device: torch.device,
        log: logging.Logger,
        *,
        components: Mapping[str, Any],
        generators: Mapping[str, torch.Generator | np.random.Generator] | None = None,
        curves: tuple[str, ...] = (),
        best_of: torch.nn.Module | None = None,
        unit: str = "step",
    ) -> None:
        self.path = None if path is None else Path(path)
        self.fingerprint, self.device, self.log = fingerprint, device, log
        self.unit = unit  # what progress counts, for the log
        self.components = {name: obj for name, obj in components.items() if obj is not None}
        self.generators = dict(generators or {})
        self.progress = 0
        self.curves: dict[str, list] = {name: [] for name in curves}
        self.parts: dict[str, Any] = {}
        self.best_of = best_of
        self.best_progress = 0
        self.best_score = -math.inf
        self.best_state = _cpu_copy(best_of.state_dict()) if best_of is not None else None

    # -- progress and early stopping ------------------------------------------------------------

    def record(self, **values: Any) -> None:
        """Append one value to each curve (the loop advances :attr:`progress` itself)."""
        for name in self.curves:
            self.curves[name].append(values[name])

    def keep_if_best(self, score: float) -> bool:
        """Keep the ``best_of`` weights if ``score`` beats every earlier one (nan never does)."""
        if not score > self.best_score:
            return False
        self.best_progress, self.best_score = self.progress, score
        self.best_state = _cpu_copy(self.best_of.state_dict())
        return True

    def patience_left(self, patience: int) -> bool:
        """Whether fewer than ``patience`` units of progress passed since the best score."""
        return self.progress - self.best_progress < patience

    # -- checkpoint -----------------------------------------------------------------------------

    def save(self) -> None:
        """Write the checkpoint (atomically: a kill leaves the previous one or this one)."""
        import torch

        if self.path is None:
            return
        save_torch(
            {
                "fingerprint": self.fingerprint,
                "progress": self.progress,
                "curves": self.curves,
                "parts": self.parts,
                "best": {
                    "progress": self.best_progress,
                    "score": self.best_score,
                    "state": self.best_state,
                },
                "components": {name: obj.state_dict() for name, obj in self.components.items()},
                "generators": {name: _state(g) for name, g in self.generators.items()},
                "rng": {
                    "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state() if self.device.type == "cuda" else None,
                },
            },
            self.path,
        )

    def resume(self) -> bool:
        """Restore the state from this run's checkpoint, if there is one; True if resumed."""
        import torch

        if self.path is None:
            return False
        checkpoint = read_checkpoint(self.path, self.fingerprint, self.log)
        if checkpoint is None:
            return False
        for name, obj in self.components.items():
            obj.load_state_dict(checkpoint["components"][name])
        for name, generator in self.generators.items():
            _restore(generator, checkpoint["generators"][name])
        torch.set_rng_state(checkpoint["rng"]["torch"])
        if self.device.type == "cuda" and checkpoint["rng"]["cuda"] is not None:
            torch.cuda.set_rng_state(checkpoint["rng"]["cuda"])
        self.progress, self.curves, self.parts = (
            checkpoint["progress"],
            checkpoint["curves"],
            checkpoint["parts"],
        )
        best = checkpoint["best"]
        self.best_progress, self.best_score, self.best_state = (
            best["progress"],
            best["score"],
            best["state"],
        )
        self.log.info("resuming from %s %d (checkpoint %s)", self.unit, self.progress, self.path)
        return True

    def finish(self) -> None:
        """The run's outputs are written: its checkpoint is no longer needed."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)
