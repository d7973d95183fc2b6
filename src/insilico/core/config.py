"""Validate the workflow configuration before any job runs.

Snakemake's own ``validate`` prints the whole JSON schema on a typo; users need one line that names
the key, what was expected and what was found. This module gives exactly that; the constraints that
span several keys (e.g. that CNN kernels fit the image) belong to the branches and are passed in
as checks (:mod:`insilico.branches`). The defaults live in config.yaml only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """A configuration value is missing, unknown, of the wrong type or impossible."""


def read_config_file(path: str | Path) -> dict:
    """A config file's settings, or one line naming the file and, for bad YAML, the line.

    Snakemake's own message for a malformed config file names neither.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            settings = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"config file {path} is not text ({error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context = getattr(error, "context", None)
        raise ConfigError(
            f"config file {path}{where}: not valid YAML: {problem}"
            + (f" ({context})" if context else "")
        ) from None
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise ConfigError(
            f"config file {path} holds a {type(settings).__name__}, expected keys at top level"
        )
    return settings


def load_schema(path: str | Path) -> dict:
    with open(path) as handle:
        return yaml.safe_load(handle)


def layered(*configs: Mapping) -> dict:
    """The configs merged in order as Snakemake layers ``--configfile`` files: nested mappings
    merge key by key, any other value (lists included) replaces the earlier one."""
    merged: dict = {}
    for config in configs:
        for key, value in config.items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = layered(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
    return merged


def _resolve(schema: Mapping, root: Mapping) -> Mapping:
    """Follow a local ``$ref`` ("#/$defs/name"), merging the referring block's own keys."""
    while "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _takes_string(schema: Mapping) -> bool:
    """Whether the schema accepts a string here (or says nothing about the type)."""
    if "enum" in schema:
        return any(isinstance(value, str) for value in schema["enum"])
    kinds = schema.get("type")
    if kinds is None:
        return "properties" not in schema and "items" not in schema
    return "string" in ([kinds] if isinstance(kinds, str) else kinds)


def _scalar(text: str) -> Any:
    """``text`` as YAML reads a scalar, or as a float (YAML 1.1 reads ``1e-3`` as a string)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(text)
        except ValueError:
            return text
    return text if isinstance(value, (dict, list)) else value


def coerce_strings(instance: Any, schema: Mapping, root: Mapping | None = None) -> Any:
    """``instance`` with string leaves read as YAML scalars where the schema wants no string.

    Snakemake passes the leaves of a nested ``--config`` value as strings
    (``--config retina='{train: {epochs: 3}}'`` gives ``'3'``); read as YAML they are the numbers,
    booleans and nulls the user typed. A string the schema accepts is left alone, so names such as
    experiment ``"1"`` stay names.
    """
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if isinstance(instance, str):
        if _takes_string(schema):
            return instance
        return _scalar(instance)
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            key: coerce_strings(
                value, properties.get(key, extra if isinstance(extra, Mapping) else {}), root
            )
            for key, value in instance.items()
        }
    if isinstance(instance, list):
        items = schema.get("items")
        return [
            coerce_strings(value, items if isinstance(items, Mapping) else {}, root)
            for value in instance
        ]
    return instance


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


def validate_config(
    config: dict, schema: Mapping, checks: Sequence[Callable[[dict], None]] = ()
) -> dict:
    """Return a validated copy of ``config``; raise ConfigError on the first problem.

    The defaults have one home, config.yaml, on which Snakemake layers every ``--configfile``
    (the schema holds types and limits only); ``config`` is such a layered config.

    ``checks`` are the cross-key constraints a JSON schema cannot express (each branch keeps its
    own, :data:`insilico.branches.CONFIG_CHECKS`); each gets the filled config and raises
    ConfigError.
    """
    if "source" in config.get("data", {}):
        raise ConfigError(
            "config key 'data.source' is now one per branch: set data.retina.source and/or "
            "data.it.source instead"
        )
    validated = coerce_strings(copy.deepcopy(dict(config)), schema)
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(validated))
    if error is not None:
        raise ConfigError(_describe(error))
    for check in checks:
        check(validated)
    return validated


def main(paths: Sequence[str]) -> int:
    """``python -m insilico.core.config FILE...``: check config files before a run, one line each.

    Snakemake reads ``--configfile`` files itself before the workflow's code runs, and names
    neither the file nor the line of a YAML error (a missing file gives a traceback).
    """
    failed = 0
    for path in paths:
        try:
            read_config_file(path)
        except ConfigError as error:
            print(error)
            failed += 1
        else:
            print(f"config file {path}: valid YAML with keys at top level")
    return 1 if failed else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
