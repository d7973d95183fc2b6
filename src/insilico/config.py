"""Validate the workflow configuration before any job runs.

Snakemake's own ``validate`` prints the whole JSON schema on a typo; users need one line that names
the key, what was expected and what was found. This module gives exactly that, fills the schema's
defaults, and checks the constraints that span several keys (e.g. that CNN kernels fit the image).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """A configuration value is missing, unknown, of the wrong type or impossible."""


def load_schema(path: str | Path) -> dict:
    with open(path) as handle:
        return yaml.safe_load(handle)


def fill_defaults(instance: dict, schema: Mapping) -> None:
    """Insert ``default`` values of ``properties`` recursively, in place.

    ``$ref`` is deliberately not followed: per-model override blocks refer to the shared training
    schema for validation but must stay sparse, so that only the keys a user sets override.
    """
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if isinstance(instance.get(key), dict):
            fill_defaults(instance[key], sub)


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    """One sentence for the user: the key at fault, what the schema expects and what was found."""
    where = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        keys = ", ".join(f"'{_key([*error.absolute_path, u])}'" for u in unknown)
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown config key {keys}{hint}"
    if error.validator == "required":
        return f"config key '{where}': {error.message}"
    expected = {
        "type": lambda: f"expected {error.validator_value}",
        "enum": lambda: f"expected one of {error.validator_value}",
        "minimum": lambda: f"expected a value >= {error.validator_value}",
        "exclusiveMinimum": lambda: f"expected a value > {error.validator_value}",
        "maximum": lambda: f"expected a value <= {error.validator_value}",
        "exclusiveMaximum": lambda: f"expected a value < {error.validator_value}",
        "minItems": lambda: f"expected at least {error.validator_value} item(s)",
        "maxItems": lambda: f"expected at most {error.validator_value} item(s)",
        "uniqueItems": lambda: "expected no repeated items",
        "pattern": lambda: f"expected a name matching {error.validator_value}",
        "minProperties": lambda: f"expected at least {error.validator_value} entry",
    }.get(error.validator, lambda: error.message)()
    return f"config key '{where}': {expected}, got {error.instance!r}"


def _check_consistency(config: dict) -> None:
    """Constraints that a JSON schema cannot express."""
    retina = config["retina"]
    size = config["data"]["simulated"]["retina"]["size"]
    cnn = retina["models"].get("cnn")
    if cnn is not None and config["data"]["source"] == "simulated":
        k1, k2 = cnn["params"]["kernels"]
        if size - k1 - k2 + 2 < 1:
            raise ConfigError(
                f"config key 'retina.models.cnn.params.kernels': kernels {[k1, k2]} do not fit "
                f"images of data.simulated.retina.size={size} (need k1 + k2 - 2 < size)"
            )
    unknown = sorted(set(config["data"]["retina"]["cells"]) - set(config["data"]["retina"]["experiments"]))
    if unknown:
        raise ConfigError(
            f"config key 'data.retina.cells': experiment(s) {unknown} are not in "
            f"data.retina.experiments {config['data']['retina']['experiments']}"
        )


def validate_config(config: dict, schema: Mapping) -> dict:
    """Return a validated copy of ``config`` with defaults filled; raise ConfigError on the first problem."""
    validated = copy.deepcopy(dict(config))
    fill_defaults(validated, schema)
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(validated))
    if error is not None:
        raise ConfigError(_describe(error))
    _check_consistency(validated)
    return validated


def model_train_params(config: dict, model: str) -> dict[str, Any]:
    """The training settings of one model: the shared block overridden by the model's own keys."""
    return {**config["retina"]["train"], **config["retina"]["models"][model]["train"]}
