"""Cross-key checks of the objectives section, run by the Snakefile before any job."""

from __future__ import annotations

from insilico.core.config import ConfigError


def check_config(config: dict) -> None:
    """The wave grid and the model input must divide; the claims' layer and budget must exist."""
    if "objectives" not in config["branches"]:
        return
    settings = config["objectives"]
    size, grid = config["it"]["image_size"], settings["waves"]["grid"]
    if grid % size and size % grid:
        raise ConfigError(
            f"config key 'objectives.waves.grid': {grid} cells and it.image_size = {size} do not "
            "divide (the movie is rendered at the model's input size)"
        )
    layers = [f"conv{i + 1}" for i in range(len(settings["model"].get("channels", [0] * 4)))]
    if settings["claims_layer"] not in [*layers, "avgpool"]:
        raise ConfigError(
            f"config key 'objectives.claims_layer': {settings['claims_layer']!r} is not one of "
            f"the model's layers {[*layers, 'avgpool']}"
        )
    if settings["pgd"]["claim_epsilon"] not in settings["pgd"]["epsilons"]:
        raise ConfigError("config key 'objectives.pgd.claim_epsilon': not one of pgd.epsilons")
    if sorted(settings["fit"]) != sorted(["supervised", "simclr", "mmcr"]):
        raise ConfigError("config key 'objectives.fit': the claims compare all three objectives")
