"""The training loop every trainer shares, over the run state of :mod:`insilico.core.checkpoint`.

A trainer builds its model, optimiser and :class:`~insilico.core.checkpoint.RunState`, and hands
:func:`train_loop` one function, ``step(unit)``, that trains one unit (an epoch, a step, a stack
of networks) and returns the values of that unit's curves, or None when it records nothing. The
loop does the rest the same way for every branch: resume from the checkpoint, stop at ``total``
units or when early stopping's patience runs out, record the curves, keep the best weights, step
a schedule, checkpoint, and write one progress line per unit. Because everything that changes
between units lives in the run state and is restored by resume, a killed run ends with exactly
the model of an uninterrupted one.

How the trainers map onto it: the retina models and the bottleneck networks step one epoch at a
time (the retina with early stopping on the validation correlation and a plateau schedule); the
RNN populations one stack of networks per unit (no curves: the stack's results go to
``run.parts``); the IT classifiers, the learning-rule networks, the objectives' networks, the
mechanisms' trained control, the efficient-coding mosaic banks, the grid-cell stacks and the
IT simulator's hidden network fit as one optimisation step per unit that returns values every
so many steps and checkpoints every ``save_every``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from insilico.core.checkpoint import RunState

Values = Mapping[str, Any]


def train_loop(
    run: RunState,
    total: int,
    step: Callable[[int], Values | None],
    *,
    describe: Callable[[Values], str] = lambda values: "",
    patience: int | None = None,
    score: str | None = None,
    after: Callable[[Values], None] | None = None,
    save_every: int = 1,
    label: str = "",
) -> None:
    """Resume ``run``, then train unit after unit until ``total`` (or patience) is reached.

    ``step(unit)`` trains unit ``unit`` (1-based) and returns its values: the run's curves (extra
    keys are for ``describe`` only), or None to record and log nothing for this unit. With
    ``score`` (a key of the values) the run keeps the weights of the best unit, and with
    ``patience`` it stops after that many units without a better score. ``after(values)`` runs
    once the unit is recorded (a learning-rate schedule). The checkpoint is written every
    ``save_every`` units; the progress line reads ``<label><unit> n/total <describe(values)>``.
    """
    run.resume()
    while run.progress < total and (patience is None or run.patience_left(patience)):
        values = step(run.progress + 1)
        run.progress += 1
        if values is not None:
            run.record(**values)
            if score is not None:
                run.keep_if_best(values[score])
            if after is not None:
                after(values)
        if run.progress % save_every == 0:
            run.save()
        if values is not None:
            run.log.info("%s%s %d/%d %s", label, run.unit, run.progress, total, describe(values))
