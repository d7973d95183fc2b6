"""The shared run state: a resumed run continues the random streams, the optimiser and the
early-stopping record exactly; foreign or broken checkpoints are ignored; kill -9 at any moment
leaves a checkpoint that resumes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from insilico.core.checkpoint import RunState, fingerprint, seeded  # noqa: E402
from insilico.core.io import save_torch  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LOG = logging.getLogger("test")
CPU = torch.device("cpu")
SRC = Path(__file__).resolve().parents[3] / "src"


def train(path: Path, total: int, *, stop_after: int | None = None) -> tuple[list, dict]:
    """A tiny run of ``total`` steps with every kind of state: weights, Adam moments, a schedule,
    global noise, its own shuffling generator (torch) and jitter generator (numpy), curves and
    early stopping; checkpointed per step."""
    jitter = np.random.default_rng(5)
    with seeded(CPU, 3) as generator:
        model = torch.nn.Linear(4, 1)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        run = RunState(
            path,
            fingerprint(total=total),
            CPU,
            LOG,
            components={"model": model, "optimizer": optimizer, "scheduler": scheduler},
            generators={"shuffle": generator, "jitter": jitter},
            curves=("loss",),
            best_of=model,
        )
        run.resume()
        while run.progress < total:
            x = torch.randn(8, 4, generator=generator) + 0.1 * torch.randn(8, 4)
            x = x + torch.from_numpy(jitter.normal(0.0, 0.1, (8, 4))).float()
            loss = (model(x) - x.sum(1, keepdim=True)).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            run.progress += 1
            run.record(loss=loss.item())
            run.keep_if_best(-loss.item())
            run.save()
            if run.progress == stop_after:
                raise KeyboardInterrupt
    return run.curves["loss"], {"best": run.best_state, "last": model.state_dict()}


def same_state(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k][name], b[k][name]) for k in a for name in a[k])


def test_a_resumed_run_ends_exactly_as_an_uninterrupted_one(tmp_path):
    losses, state = train(tmp_path / "reference.pt", 6)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "run.pt", 6, stop_after=4)
    resumed_losses, resumed_state = train(tmp_path / "run.pt", 6)
    assert resumed_losses == losses and same_state(resumed_state, state)


def test_a_checkpoint_of_another_run_or_an_unreadable_one_is_ignored(tmp_path, caplog):
    losses, state = train(tmp_path / "reference.pt", 3)
    save_torch({"fingerprint": "another run"}, tmp_path / "foreign.pt")
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with caplog.at_level(logging.INFO, logger=LOG.name):
        for name in ("foreign.pt", "broken.pt"):
            again_losses, again_state = train(tmp_path / name, 3)
            assert again_losses == losses and same_state(again_state, state)
    assert "fingerprint mismatch" in caplog.text and "unreadable" in caplog.text
    assert "resuming" not in caplog.text


KILLED = """
import sys, torch
from insilico.core.checkpoint import RunState
import logging
model = torch.nn.Linear(200, 200)
run = RunState(sys.argv[1], "f", torch.device("cpu"), logging.getLogger(), components={"m": model})
while True:
    run.progress += 1
    with torch.no_grad():
        model.weight.fill_(run.progress)
    run.save()
"""


def test_kill_9_while_checkpointing_leaves_a_checkpoint_that_resumes(tmp_path):
    path = tmp_path / "checkpoint.pt"
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-c", KILLED, str(path)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # many saves later, most likely in the middle of one
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    model = torch.nn.Linear(200, 200)
    run = RunState(path, "f", CPU, LOG, components={"m": model})
    assert run.resume() and run.progress >= 1
    assert torch.equal(model.weight, torch.full_like(model.weight, run.progress))
