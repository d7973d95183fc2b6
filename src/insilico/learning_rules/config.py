"""Cross-key checks of the learning_rules section, run by the Snakefile before any job."""

from __future__ import annotations

from insilico.core.config import ConfigError


def check_config(config: dict) -> None:
    """Backprop in the population (every claim is against it), the architecture fits the IT
    images, the scored layers exist, and the Hessian's rules are trained."""
    if "learning_rules" not in config["branches"]:
        return
    section = config["learning_rules"]
    if "backprop" not in section["rules"]:
        raise ConfigError("config key 'learning_rules.rules': backprop is every claim's reference")
    model = section["model"]
    depth = len(model["channels"])
    if len(model["kernels"]) != depth:
        raise ConfigError(
            "config key 'learning_rules.model': channels and kernels must be equally long"
        )
    size = config["it"]["image_size"]
    if size % 2**depth:
        raise ConfigError(
            f"config key 'learning_rules.model.channels': it.image_size {size} must be divisible "
            f"by 2**{depth} (one pooling per block)"
        )
    layers = {f"conv{i + 1}" for i in range(depth)} | {"avgpool"}
    unknown = sorted(set(section["score"]["layers"]) - layers)
    if unknown:
        raise ConfigError(
            f"config key 'learning_rules.score.layers': {unknown} not among {sorted(layers)}"
        )
    untrained = sorted(set(section["hessian"]["rules"]) - set(section["rules"]))
    if untrained:
        raise ConfigError(
            f"config key 'learning_rules.hessian.rules': {untrained} are not in learning_rules.rules"
        )
