"""The device a job computes on: one GPU per job on a machine with several, CUDA or CPU,
bf16 autocast and deterministic kernels.

GPU claims.

Snakemake counts GPUs locally (``--resources gpu=N``) but never says *which* GPU a job should use,
so every job would pick device 0. :func:`claim_gpu`, called by a job before anything touches CUDA,
takes one free device: it holds an exclusive ``flock`` on ``<lock dir>/gpu<id>.lock`` and sets
``CUDA_VISIBLE_DEVICES`` to that id. The kernel drops the lock when the job's process (and every
child that inherited the descriptor) exits, so a crashed or killed job never leaves a GPU claimed.

Under a scheduler that assigns devices (SLURM sets ``CUDA_VISIBLE_DEVICES`` for ``--gpus``) the
variable is already set: it is left alone and logged.

Environment:

- ``INSILICO_GPUS``: the device ids to share out, comma-separated (``"0,1,2"``; ``""`` for none).
  Overrides detection with ``nvidia-smi -L``; use it to keep jobs off some GPUs, or in tests.
- ``INSILICO_GPU_LOCK_DIR``: folder of the lock files. Default ``<tmp>/insilico-gpu-locks``, one per
  machine, so that separate workflow copies on one workstation share the GPUs correctly too.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICES_ENV = "INSILICO_GPUS"
LOCK_DIR_ENV = "INSILICO_GPU_LOCK_DIR"
VISIBLE_ENV = "CUDA_VISIBLE_DEVICES"

_LOG = logging.getLogger(__name__)
# Device id -> open lock file descriptor, for the devices this process holds.
_held: dict[str, int] = {}


def default_lock_dir() -> Path:
    return Path(os.environ.get(LOCK_DIR_ENV) or Path(tempfile.gettempdir()) / "insilico-gpu-locks")


def available_gpus() -> list[str]:
    """Ids of the GPUs of this machine: ``INSILICO_GPUS`` if set, else from ``nvidia-smi -L``.

    Without ``nvidia-smi`` the machine has no NVIDIA GPU driver: no GPUs. Detection deliberately
    does not ask torch, because counting devices through CUDA fixes ``CUDA_VISIBLE_DEVICES`` for
    the rest of the process.
    """
    override = os.environ.get(DEVICES_ENV)
    if override is not None:
        return [device.strip() for device in override.split(",") if device.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        result = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError) as error:
        _LOG.warning("nvidia-smi -L failed (%s): using no GPU", error)
        return []
    return re.findall(r"^GPU (\d+):", result.stdout, flags=re.MULTILINE)


def _cuda_initialised() -> bool:
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_initialized())


def _try_lock(lock_dir: Path, device: str) -> int | None:
    path = lock_dir / f"gpu{device}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:  # another user's lock file: locking needs only read access
        fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    try:  # who holds it, for people looking at the folder; not used for locking
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass
    return fd


def claim_gpu(
    log: logging.Logger | None = None,
    lock_dir: str | Path | None = None,
    poll_seconds: float = 2.0,
    timeout: float | None = None,
) -> str | None:
    """Make this process use one GPU nobody else on the machine is using; return its id.

    - ``CUDA_VISIBLE_DEVICES`` already set (SLURM, or the user): left as it is, logged, returned.
    - no GPU: nothing set, ``None`` returned (the job runs on the CPU).
    - otherwise: the first free device is locked and made the only visible one. When every device
      is taken the call waits (polling every ``poll_seconds``) until one is released, or raises
      ``TimeoutError`` after ``timeout`` seconds. Run at most N GPU jobs at once with
      ``--resources gpu=N`` and it never waits.

    Call it before anything initialises CUDA; the lock is released when the process exits (or by
    :func:`release_gpu`). Calling it again in the same process returns the same device.
    """
    log = log or _LOG
    if _held:
        return next(iter(_held))
    visible = os.environ.get(VISIBLE_ENV)
    if visible is not None:
        job = os.environ.get("SLURM_JOB_ID")
        source = f"by SLURM job {job}" if job else "in the environment"
        log.info("GPU: %s=%r set %s; left as it is", VISIBLE_ENV, visible, source)
        return visible
    devices = available_gpus()
    if not devices:
        log.info("GPU: none found; %s not set", VISIBLE_ENV)
        return None
    if _cuda_initialised():
        raise RuntimeError(f"claim_gpu() must run before CUDA is initialised ({VISIBLE_ENV})")
    folder = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        folder.chmod(0o1777)  # shared by every user of the machine, like /tmp
    deadline = None if timeout is None else time.monotonic() + timeout
    waiting_logged = False
    while True:
        for device in devices:
            fd = _try_lock(folder, device)
            if fd is not None:
                _held[device] = fd
                os.environ[VISIBLE_ENV] = device
                log.info(
                    "GPU: claimed device %s of %s (lock %s); %s=%s",
                    device,
                    ",".join(devices),
                    folder / f"gpu{device}.lock",
                    VISIBLE_ENV,
                    device,
                )
                return device
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(f"no free GPU among {devices} after {timeout} s (locks in {folder})")
        if not waiting_logged:
            log.info("GPU: all of %s are in use; waiting for one to be released", devices)
            waiting_logged = True
        time.sleep(poll_seconds)


def release_gpu() -> None:
    """Give back the device this process claimed (also done automatically at exit)."""
    while _held:
        device, fd = _held.popitem()
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if os.environ.get(VISIBLE_ENV) == device:
            del os.environ[VISIBLE_ENV]


atexit.register(release_gpu)


# -- the device a job computes on (torch is imported on use: claim_gpu runs before it) --------


def choose_device(log: logging.Logger) -> torch.device:
    """CUDA when available (respecting ``CUDA_VISIBLE_DEVICES``), else CPU; log the choice."""
    import torch

    if torch.cuda.is_available():
        device = torch.device("cuda")
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "all")
        log.info(
            "device: cuda (%s; CUDA_VISIBLE_DEVICES=%s)", torch.cuda.get_device_name(0), visible
        )
    else:
        device = torch.device("cpu")
        log.info("device: cpu (%d threads)", torch.get_num_threads())
    return device


@contextlib.contextmanager
def deterministic(device: torch.device) -> Iterator[None]:
    """Deterministic CUDA kernels during training, restoring the global flags after.

    The ops used here are deterministic on CPU already, and switching the flag on costs a 2 s
    import of torch's compiler there, so this only acts on CUDA.
    """
    import torch

    if device.type != "cuda":
        yield
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = previous[2:]


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA GPUs that support it; full precision otherwise (CPU stays exact)."""
    import torch

    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
