"""The dynamics branch's configuration: constraints across keys of section ``dynamics``."""

from __future__ import annotations

from insilico.core.config import ConfigError


def check_config(config: dict) -> None:
    """The sine task's frequency range is increasing; a fixed point's q lies below the kept ones."""
    dynamics = config["dynamics"]
    sine = dynamics["task_params"]["sine"]
    if sine["omega_min"] >= sine["omega_max"]:
        raise ConfigError(
            "config key 'dynamics.task_params.sine.omega_min': expected a value below "
            f"omega_max={sine['omega_max']}, got {sine['omega_min']!r}"
        )
    points = dynamics["fixed_points"]
    if points["tol_q"] >= points["keep_q"]:
        raise ConfigError(
            "config key 'dynamics.fixed_points.tol_q': expected a value below "
            f"keep_q={points['keep_q']}, got {points['tol_q']!r}"
        )
