"""The shared training loop: a run killed in any unit resumes to exactly the uninterrupted run,
early stopping keeps the best weights and stops on patience, a schedule steps after each recorded
unit, checkpoints follow ``save_every``, and every recorded unit writes one progress line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from insilico.core.checkpoint import RunState, fingerprint, seeded  # noqa: E402
from insilico.core.training import train_loop  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LOG = logging.getLogger("test.training")
CPU = torch.device("cpu")


class Interrupted(Exception):
    pass


def fit(path: Path, total: int, *, kill_in=None, patience=None, targets=None, **loop) -> dict:
    """A tiny regression trained through train_loop; ``targets`` per unit make the score move."""
    with seeded(CPU, 5) as generator:
        model = torch.nn.Linear(3, 1)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.9)
        run = RunState(
            path,
            fingerprint(total=total),
            CPU,
            LOG,
            components={"model": model, "optimizer": optimizer, "scheduler": scheduler},
            generators={"data": generator},
            curves=("loss", "score"),
            best_of=model,
            unit="epoch",
        )

        def step(unit: int) -> dict:
            x = torch.randn(16, 3, generator=generator) + 0.1 * torch.randn(16, 3)
            loss = (model(x) - x.sum(1, keepdim=True)).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if unit == kill_in:
                raise Interrupted
            score = targets[unit - 1] if targets else -loss.item()
            return {"loss": loss.item(), "score": score}

        train_loop(
            run,
            total,
            step,
            describe=lambda v: f"loss {v['loss']:.4f}",
            patience=patience,
            score="score",
            after=lambda v: scheduler.step(),
            **loop,
        )
    return {"run": run, "model": model.state_dict(), "lr": optimizer.param_groups[0]["lr"]}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[name], b[name]) for name in a)


@pytest.mark.parametrize("kill_in", [1, 3, 6])
def test_a_run_killed_in_any_unit_resumes_to_the_uninterrupted_run(tmp_path, kill_in):
    reference = fit(tmp_path / "reference.pt", 6)
    with pytest.raises(Interrupted):
        fit(tmp_path / "run.pt", 6, kill_in=kill_in)
    resumed = fit(tmp_path / "run.pt", 6)
    assert same(resumed["model"], reference["model"])
    assert resumed["run"].curves == reference["run"].curves
    assert same(resumed["run"].best_state, reference["run"].best_state)
    assert resumed["lr"] == reference["lr"] == pytest.approx(0.1 * 0.9**6)


def test_early_stopping_keeps_the_best_unit_and_stops_on_patience(tmp_path):
    scores = [0.1, 0.5, 0.4, 0.3, 0.2, 0.9]
    out = fit(tmp_path / "run.pt", 6, patience=2, targets=scores)
    run = out["run"]
    assert run.progress == 4  # unit 2 was best; units 3 and 4 did not improve
    assert (run.best_progress, run.best_score) == (2, 0.5)
    assert run.curves["score"] == scores[:4]
    assert not same(run.best_state, out["model"])  # the best weights, not the last ones


def test_units_without_values_are_neither_recorded_nor_logged(tmp_path, caplog):
    """The IT classifiers' shape: values every 2nd step, a checkpoint every 3rd."""
    saves = []
    run = RunState(tmp_path / "run.pt", "f", CPU, LOG, components={}, curves=("x",))
    run.save = lambda: saves.append(run.progress)
    with caplog.at_level(logging.INFO, logger=LOG.name):
        train_loop(
            run,
            7,
            lambda unit: {"x": unit} if unit % 2 == 0 else None,
            describe=lambda v: f"x {v['x']}",
            save_every=3,
            label="net a: ",
        )
    assert run.curves == {"x": [2, 4, 6]}
    assert saves == [3, 6]
    lines = [r.getMessage() for r in caplog.records if r.name == LOG.name]
    assert lines == ["net a: step 2/7 x 2", "net a: step 4/7 x 4", "net a: step 6/7 x 6"]
