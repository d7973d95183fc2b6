"""The workflow's branches as a whole: which branches read another's outputs, and the cross-key
configuration checks of every branch, run by the Snakefile before any job."""

from __future__ import annotations

from collections.abc import Mapping

from insilico.core.config import ConfigError, layered, validate_config
from insilico.dynamics import config as dynamics
from insilico.efficient_coding import config as efficient_coding
from insilico.it import config as it
from insilico.learning_dynamics import config as learning_dynamics
from insilico.learning_rules import config as learning_rules
from insilico.mechanisms import config as mechanisms
from insilico.objectives import config as objectives
from insilico.retina import config as retina

# (branch, the branches it reads the outputs of, why)
BRANCH_NEEDS = (
    ("mechanisms", ("retina",), "mechanisms dissects the retina CNNs"),
    ("geometry", ("it",), "geometry analyses the IT branch's layers and recordings"),
    ("factorisation", ("retina", "it"), "factorisation decomposes retina and V4/IT recordings"),
    ("objectives", ("it",), "objectives trains on the IT branch's images and scores V4/IT"),
    (
        "learning_rules",
        ("it",),
        "learning_rules trains on the IT branch's task images and scores against its V4/IT data",
    ),
)


def check_branches(config: dict) -> None:
    """A branch runs only with the branches it reads; factorisation needs IT responses per bin.

    Each branch's data are checked only when it runs, so local retina recordings with no V4/IT
    data need ``branches: [retina, mechanisms, dynamics]``, nothing about IT.
    """
    branches = config["branches"]
    for branch, needed, why in BRANCH_NEEDS:
        missing = [name for name in needed if name not in branches]
        if branch in branches and missing:
            raise ConfigError(f"config key 'branches': {why}, add {missing} to {branches}")
    if "factorisation" in branches and not it.has_temporal_it(config):
        raise ConfigError(
            "config key 'branches': factorisation decomposes the temporal V4/IT assembly, which "
            "the IT data do not give ('data.local.it.temporal_assembly', or the chosen "
            "data.remote.it.assembly's files); add it or leave factorisation out"
        )


# Each branch's own files and keys first, then how the branches fit together.
CONFIG_CHECKS = (
    retina.check_config,
    dynamics.check_config,
    it.check_config,
    check_branches,
    mechanisms.check_config,
    learning_dynamics.check_config,
    efficient_coding.check_config,
    objectives.check_config,
    learning_rules.check_config,
)


def validate(config: dict, schema: dict, defaults: Mapping | None = None) -> dict:
    """The validated config of the whole workflow (every branch's checks); ``config`` is layered
    on ``defaults`` (config.yaml's settings) first, as Snakemake layers a ``--configfile``."""
    return validate_config(layered(defaults or {}, config), schema, CONFIG_CHECKS)
