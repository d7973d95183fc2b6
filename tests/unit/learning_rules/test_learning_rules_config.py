"""The learning_rules section's cross-key checks."""

import copy
from pathlib import Path

import pytest
import yaml

from insilico.core.config import ConfigError
from insilico.learning_rules.config import check_config

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[3] / "config.yaml").read_text())


def edited(**changes):
    config = copy.deepcopy(CONFIG)
    for key, value in changes.items():
        config["learning_rules"][key] = value
    return config


def test_the_default_passes_and_each_bad_key_is_named():
    check_config(CONFIG)
    with pytest.raises(ConfigError, match="backprop"):
        check_config(edited(rules=["feedback_alignment"], hessian={"rules": []}))
    with pytest.raises(ConfigError, match="score.layers"):
        check_config(edited(score={"layers": ["conv9"]}))
    with pytest.raises(ConfigError, match="hessian.rules"):
        check_config(edited(rules=["backprop"], hessian={**CONFIG["learning_rules"]["hessian"]}))
    with pytest.raises(ConfigError, match="divisible"):
        check_config(edited(model={"channels": [2] * 6, "kernels": [3] * 6, "block_convs": 1}))
    check_config({**CONFIG, "branches": ["it"], "learning_rules": {}})  # not run: not checked
