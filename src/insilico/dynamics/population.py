"""The population of networks and its split into jobs (no torch: the Snakefile imports this).

The population is the Cartesian product task x architecture x hidden size x learning rate x L2 x
seed (config ``dynamics``). Training thousands of networks as thousands of one-minute jobs would
flood a scheduler and spend most of the time starting Python, so the networks of one task are cut
into chunks of ``networks_per_job`` (in a fixed order) and each chunk is one job; with
``networks_per_job: 1`` every network is its own cached job.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class NetworkSpec:
    """One member of the population."""

    task: str
    arch: str
    hidden: int
    learning_rate: float
    l2: float
    seed: int

    @property
    def name(self) -> str:
        return (
            f"{self.task}_{self.arch}_h{self.hidden}_lr{self.learning_rate:g}"
            f"_l2{self.l2:g}_s{self.seed}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def population(dynamics: dict) -> list[NetworkSpec]:
    """Every network of the population, in config order (task, architecture, size, lr, L2, seed)."""
    return [
        NetworkSpec(task, arch, int(hidden), float(lr), float(l2), int(seed))
        for task, arch, hidden, lr, l2, seed in itertools.product(
            dynamics["tasks"],
            dynamics["architectures"],
            dynamics["hidden_sizes"],
            dynamics["learning_rates"],
            dynamics["l2"],
            dynamics["seeds"],
        )
    ]


def chunks(dynamics: dict) -> dict[str, list[list[NetworkSpec]]]:
    """Per task, its networks cut into consecutive chunks of ``networks_per_job`` (one job each)."""
    size = dynamics["networks_per_job"]
    members = population(dynamics)
    result = {}
    for task in dynamics["tasks"]:
        of_task = [spec for spec in members if spec.task == task]
        result[task] = [of_task[i : i + size] for i in range(0, len(of_task), size)]
    return result


def stacks_of(specs: Iterable[NetworkSpec]) -> list[tuple[str, int, list[int]]]:
    """``(arch, hidden, member indices)`` for each group of ``specs`` that can train stacked."""
    groups: dict[tuple[str, int], list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault((spec.arch, spec.hidden), []).append(index)
    return [(arch, hidden, indices) for (arch, hidden), indices in groups.items()]
