"""The learning-dynamics branch's configuration: constraints across keys of its section."""

from __future__ import annotations

from insilico.core.config import ConfigError


def _require(ok: bool, key: str, expected: str, got) -> None:
    if not ok:
        raise ConfigError(f"config key 'learning_dynamics.{key}': expected {expected}, got {got!r}")


def check_config(config: dict) -> None:
    """One horizon and learning rate per depth; modes fit the layers; ranks fit the teacher;
    the tree has the groups compared; alignments increase (the transfer claim compares ends)."""
    cfg = config["learning_dynamics"]
    dec = cfg["decoupled"]
    for key in ("horizons", "lrs"):
        _require(
            len(dec[key]) == len(dec["depths"]),
            f"decoupled.{key}",
            f"one value per depth {dec['depths']}",
            dec[key],
        )
    _require(
        dec["modes"] <= min(dec["dim"], dec["hidden"]),
        "decoupled.modes",
        f"at most dim and hidden ({dec['dim']}, {dec['hidden']})",
        dec["modes"],
    )
    tree = cfg["hierarchy"]
    _require(
        tree["groups"] <= tree["levels"] + 1,
        "hierarchy.groups",
        f"at most levels + 1 = {tree['levels'] + 1}",
        tree["groups"],
    )
    teacher = cfg["teacher"]
    ranks = teacher["ranks"] + [teacher["width_rank"]]
    _require(max(ranks) <= teacher["n"], "teacher.ranks", f"ranks up to n = {teacher['n']}", ranks)
    alignments = teacher["alignments"]
    _require(
        alignments == sorted(alignments), "teacher.alignments", "increasing values", alignments
    )
