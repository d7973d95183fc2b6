"""The population of grid-cell networks: the sweep from config and its split into jobs.

No torch here, so the workflow can plan jobs without it. The sweep varies one factor at a time
around a base network (activation, place-cell width, surround scale, weight decay), the base at
every seed and each variant at the first seed (at every seed for the factors of
``sweep_every_seed``), so every variant has a base network that differs from it in that factor
only (same initial weights, same trajectories).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from insilico.dynamics.gridcells import place_cells as pc

FACTORS = ("activation", "width", "surround", "weight_decay")


@dataclass(frozen=True)
class GridNetwork:
    """One network of the population: its activation, size, place-cell code, decay and seed."""

    activation: str
    hidden: int
    width: float
    surround: float
    weight_decay: float
    seed: int

    @property
    def name(self) -> str:
        return (
            f"{self.activation}_h{self.hidden}_w{self.width:g}_s{self.surround:g}"
            f"_wd{self.weight_decay:g}_seed{self.seed}"
        )

    def cells(self, n_place: int, box: float) -> pc.PlaceCells:
        return pc.PlaceCells(n_place, self.width, self.surround, box, seed=self.seed)

    def as_dict(self) -> dict:
        return asdict(self)


def stacks_of(networks: list[GridNetwork]) -> list[tuple[str, int, list[int]]]:
    """Indices of the networks that train together: one stack per (activation, hidden)."""
    keys = sorted({(n.activation, n.hidden) for n in networks})
    return [
        (act, hid, [i for i, n in enumerate(networks) if (n.activation, n.hidden) == (act, hid)])
        for act, hid in keys
    ]


def population(config: dict) -> list[GridNetwork]:
    """Base networks at every seed, then each sweep value at the first seed, or at every seed for
    the factors in ``sweep_every_seed`` (their claims pair each value with the base per seed; no
    duplicates)."""
    base = dict(config["base"], hidden=config["hidden"])
    networks = [GridNetwork(**base, seed=seed) for seed in config["seeds"]]
    every_seed = set(config.get("sweep_every_seed", []))
    for factor in FACTORS:
        seeds = config["seeds"] if factor in every_seed else config["seeds"][:1]
        for value in config["sweep"].get(factor, []):
            for seed in seeds:
                candidate = GridNetwork(**{**base, factor: value}, seed=seed)
                if candidate not in networks:
                    networks.append(candidate)
    return networks


def chunks(networks: list[GridNetwork], per_job: int) -> list[list[GridNetwork]]:
    """Jobs of at most ``per_job`` networks, each job of one activation (so one stack)."""
    jobs = []
    for _, _, indices in stacks_of(networks):
        for start in range(0, len(indices), per_job):
            jobs.append([networks[i] for i in indices[start : start + per_job]])
    return jobs


def varied_factor(network: GridNetwork, base: dict) -> str:
    """Which factor a sweep network changes from the base ("base" for the base itself)."""
    changed = [f for f in FACTORS if getattr(network, f) != base[f]]
    return changed[0] if changed else "base"
