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


def _check_consistency(config: dict) -> None:
    """Constraints that a JSON schema cannot express."""
    retina = config["retina"]
    size = config["data"]["simulated"]["retina"]["size"]
    cnn = retina["models"].get("cnn")
    if cnn is not None and config["data"]["retina"]["source"] == "simulated":
        k1, k2 = cnn["params"]["kernels"]
        if size - k1 - k2 + 2 < 1:
            raise ConfigError(
                f"config key 'retina.models.cnn.params.kernels': kernels {[k1, k2]} do not fit "
                f"images of data.simulated.retina.size={size} (need k1 + k2 - 2 < size)"
            )
    unknown = sorted(
        set(config["data"]["retina"]["cells"]) - set(config["data"]["retina"]["experiments"])
    )
    if unknown:
        raise ConfigError(
            f"config key 'data.retina.cells': experiment(s) {unknown} are not in "
            f"data.retina.experiments {config['data']['retina']['experiments']}"
        )
    _check_dynamics(config["dynamics"])
    _check_branches(config)
    _check_mechanisms(config)
    _check_it(config)


# The local IT files a run needs; the temporal assembly is optional (the per-bin analyses need it).
LOCAL_IT_REQUIRED = ("assembly", "stimuli_csv", "stimuli_zip")
# (branch, the branches it reads the outputs of, why)
BRANCH_NEEDS = (
    ("mechanisms", ("retina",), "mechanisms dissects the retina CNNs"),
    ("geometry", ("it",), "geometry analyses the IT branch's layers and recordings"),
    ("factorisation", ("retina", "it"), "factorisation decomposes retina and V4/IT recordings"),
)


def _check_branches(config: dict) -> None:
    """Mechanisms dissect retina CNNs; a branch that runs on local data needs their paths.

    Each branch's source is checked only when the branch runs, so local retina recordings with no
    V4/IT data need ``branches: [retina, mechanisms, dynamics]``, nothing about IT.
    """
    branches = config["branches"]
    for branch, needed, why in BRANCH_NEEDS:
        missing = [name for name in needed if name not in branches]
        if branch in branches and missing:
            raise ConfigError(f"config key 'branches': {why}, add {missing} to {branches}")
    local = config["data"]["local"]
    retina_local = "retina" in branches and config["data"]["retina"]["source"] == "local"
    if retina_local and local["retina"]["root"] is None:
        raise ConfigError(
            "config key 'data.local.retina.root': data.retina.source is 'local' but no folder "
            "of <experiment>/<stimulus>.h5 is given"
        )
    if "it" in branches and config["data"]["it"]["source"] == "local":
        missing = [
            f"'data.local.it.{name}'" for name in LOCAL_IT_REQUIRED if local["it"][name] is None
        ]
        if missing:
            raise ConfigError(
                f"config key(s) {', '.join(missing)}: data.it.source is 'local' but these files "
                "are not given (or leave IT out of 'branches')"
            )
    if "factorisation" in branches and not has_temporal_it(config):
        raise ConfigError(
            "config key 'branches': factorisation decomposes the temporal V4/IT assembly, which "
            "'data.local.it.temporal_assembly' does not give; add it or leave factorisation out"
        )


def _check_it(config: dict) -> None:
    """IT branch: models fit the images, the unroll covers the recorded bins, enough fit images."""
    it = config["it"]
    size = it["image_size"]
    for model, block in it["models"].items():
        params = block["params"]
        depth = len(params["channels"])
        if len(params["kernels"]) != depth:
            raise ConfigError(
                f"config key 'it.models.{model}.params.kernels': {len(params['kernels'])} kernels "
                f"for {depth} channel entries"
            )
        if size % 2**depth:
            raise ConfigError(
                f"config key 'it.image_size': {size} px must be divisible by 2**{depth} "
                f"(one 2x2 pooling per layer of it.models.{model})"
            )
        if model == "convrnn":
            bad = [layer for layer in params["recurrent_layers"] if layer > depth]
            if bad:
                raise ConfigError(
                    f"config key 'it.models.convrnn.params.recurrent_layers': {bad} exceed the "
                    f"{depth} layers"
                )
            if params["train_steps"] < depth:
                raise ConfigError(
                    f"config key 'it.models.convrnn.params.train_steps': {params['train_steps']} "
                    f"steps cannot reach the top of {depth} layers"
                )
    temporal = it["temporal"]
    if temporal["image_on_steps"] > temporal["n_steps"]:
        raise ConfigError(
            f"config key 'it.temporal.image_on_steps': {temporal['image_on_steps']} > n_steps "
            f"{temporal['n_steps']}"
        )
    sim = config["data"]["simulated"]["it"]
    end = max(sim["time_bins_ms"][1], sim["window_ms"][1], it["activations"]["pca_window_ms"][1])
    if config["data"]["it"]["source"] == "simulated" and end > 10 * temporal["n_steps"]:
        raise ConfigError(
            f"config key 'it.temporal.n_steps': {temporal['n_steps']} steps of 10 ms end before "
            f"{end} ms, the last recorded bin (data.simulated.it.time_bins_ms / window_ms)"
        )
    for key in ("time_bins_ms", "window_ms"):
        low, high = sim[key]
        if high <= low or low % 10 or high % 10:
            raise ConfigError(
                f"config key 'data.simulated.it.{key}': {[low, high]} must be increasing multiples of 10 ms"
            )
    if it["activations"]["n_fit"] > it["task"]["n_train"]:
        raise ConfigError(
            f"config key 'it.activations.n_fit': {it['activations']['n_fit']} PCA fit images but "
            f"only it.task.n_train={it['task']['n_train']} task images"
        )


def has_temporal_it(config: dict) -> bool:
    """Whether the V4/IT data have responses per time bin (simulated and remote data always do)."""
    local = config["data"]["it"]["source"] == "local"
    return not local or config["data"]["local"]["it"]["temporal_assembly"] is not None


def _check_mechanisms(config: dict) -> None:
    """The CNNs that section ``mechanisms`` dissects must be ones the retina branch trains."""
    cnns = config["mechanisms"]["cnns"]
    if not cnns["stimuli"]:
        return
    if "cnn" not in config["retina"]["fit"]:
        raise ConfigError(
            "config key 'mechanisms.cnns.stimuli': dissecting CNNs needs cnn in retina.fit "
            f"{config['retina']['fit']} (or set mechanisms.cnns.stimuli: [] to skip)"
        )
    for key, available in (
        ("experiments", config["data"]["retina"]["experiments"]),
        ("stimuli", config["data"]["retina"]["stimuli"]),
        ("seeds", config["retina"]["seeds"]),
    ):
        missing = [value for value in cnns[key] if value not in available]
        if missing:
            raise ConfigError(
                f"config key 'mechanisms.cnns.{key}': {missing} not among the trained ones "
                f"{available}"
            )


def _check_dynamics(dynamics: dict) -> None:
    """Cross-key constraints of the recurrent-network population (section ``dynamics``)."""
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


def validate_config(config: dict, schema: Mapping) -> dict:
    """Return a validated copy of ``config`` with defaults filled; raise ConfigError on the first problem."""
    if "source" in config.get("data", {}):
        raise ConfigError(
            "config key 'data.source' is now one per branch: set data.retina.source and/or "
            "data.it.source instead"
        )
    validated = coerce_strings(copy.deepcopy(dict(config)), schema)
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
