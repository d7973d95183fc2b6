"""Config validation: defaults, presets, and one clear message per mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from insilico.branches import validate
from insilico.core.config import ConfigError, layered, load_schema, read_config_file
from insilico.retina.config import model_train_params

REPO = Path(__file__).resolve().parents[3]
SCHEMA = load_schema(REPO / "schemas/config.schema.yaml")
DEFAULTS = read_config_file(REPO / "config.yaml")


def load(*names: str) -> dict:
    """Layer config files as Snakemake does with --configfile (nested dicts merged)."""
    return layered(*(yaml.safe_load((REPO / name).read_text()) for name in names))


@pytest.mark.parametrize(
    "preset",
    [
        (),
        ("config/tiny.yaml",),
        ("config/paper.yaml",),
        ("config/recordings.yaml",),
        ("config/reference.yaml",),
        ("config/reference.yaml", "config/reference_longer.yaml"),
        ("config/output_lr_factor.yaml",),
    ],
)
def test_shipped_configs_are_valid(preset):
    validate(load("config.yaml", *preset), SCHEMA, DEFAULTS)


def schema_defaults(node, where=""):
    """Every ``default`` in the schema (the keys of a ``properties`` block are names, not schemas)."""
    if isinstance(node, list):
        return [found for item in node for found in schema_defaults(item, where)]
    if not isinstance(node, dict):
        return []
    found = [where] if "default" in node else []
    for key, value in node.items():
        inner = value.values() if key == "properties" else [value]
        found += [hit for sub in inner for hit in schema_defaults(sub, f"{where}.{key}")]
    return found


def test_config_yaml_is_the_one_home_of_the_defaults():
    """The schema holds types and limits; a default there would be a second copy to keep equal."""
    assert schema_defaults(SCHEMA) == []
    assert validate({}, SCHEMA, DEFAULTS) == validate(load("config.yaml"), SCHEMA)


# Keys that stay unset unless a user sets them: the model-specific loss, the ablation's factors.
OPTIONAL_KEYS = ("retina.train.loss", "retina.ablation.factors.")


def unset_keys(schema: dict, config: dict, where: str = "") -> list[str]:
    """Keys the schema names (through nested ``properties``) that the config does not set."""
    missing = []
    for key, sub in schema.get("properties", {}).items():
        if key not in config:
            missing.append(where + key)
        elif isinstance(config[key], dict):
            missing += unset_keys(sub, config[key], f"{where}{key}.")
    return missing


def test_config_yaml_sets_every_key_the_schema_names():
    """With no defaults in the schema, a key missing from config.yaml would be missing at run time."""
    assert [key for key in unset_keys(SCHEMA, DEFAULTS) if not key.startswith(OPTIONAL_KEYS)] == []


def test_presets_merge_mappings_and_replace_lists():
    merged = layered({"a": {"b": 1, "c": [1, 2]}, "d": 1}, {"a": {"c": [3]}, "e": 2})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}


def test_model_overrides_only_the_training_keys_it_sets():
    config = load("config.yaml")
    config["retina"]["models"]["cnn"]["train"] = {"learning_rate": 0.01}
    config["retina"]["models"]["ln"]["train"] = {}
    validated = validate(config, SCHEMA)
    assert model_train_params(validated, "cnn")["learning_rate"] == 0.01
    assert (
        model_train_params(validated, "ln")["learning_rate"]
        == validated["retina"]["train"]["learning_rate"]
    )
    assert model_train_params(validated, "cnn")["epochs"] == validated["retina"]["train"]["epochs"]


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (
            {"data": {"it": {"source": "web"}}},
            "config key 'data.it.source': expected one of ['simulated', 'remote', 'local'], got 'web'",
        ),
        (
            {"retina": {"train": {"epochs": "ten"}}},
            "config key 'retina.train.epochs': expected integer, got 'ten'",
        ),
        (
            {"retina": {"train": {"learning_rate": 0}}},
            "config key 'retina.train.learning_rate': expected a value > 0, got 0",
        ),
        (
            {"retina": {"models": {"cnn": {"params": {"chanels": [4, 4]}}}}},
            "unknown config key 'retina.models.cnn.params.chanels'",
        ),
        (
            {"retina": {"fit": ["rnn"]}},
            "config key 'retina.fit.0': expected one of ['ln', 'glm', 'cnn'], got 'rnn'",
        ),
        (
            {"retina": {"models": {"cnn": {"params": {"kernels": [15, 9]}}}}},
            "kernels [15, 9] do not fit images",
        ),
        (
            {"data": {"retina": {"cells": {"other": [1]}}}},
            "config key 'data.retina.cells': experiment(s) ['other']",
        ),
        (
            {"data": {"retina": {"cells": {"sim01": [1, 11]}}}},
            "config key 'data.retina.cells': experiment 'sim01' asks for cell(s) [11], not in the "
            "simulated recordings; available cells: 1-10",
        ),
        (
            {"data": {"source": "local"}},
            "config key 'data.source' is now one per branch: set data.retina.source and/or "
            "data.it.source",
        ),
        (
            {"data": {"retina": {"source": "local"}}},
            "config key 'data.local.retina.root': data.retina.source is 'local'",
        ),
        (
            {"data": {"it": {"source": "local"}, "local": {"it": {"assembly": "a.nc"}}}},
            "config key(s) 'data.local.it.stimuli_csv', 'data.local.it.stimuli_zip': "
            "data.it.source is 'local'",
        ),
        (
            {"branches": ["mechanisms", "dynamics"]},
            "config key 'branches': mechanisms dissects the retina CNNs",
        ),
        (
            {"branches": ["retina", "geometry"]},
            "config key 'branches': geometry analyses the IT branch's layers and recordings, "
            "add ['it']",
        ),
        (
            {"branches": ["it", "factorisation"]},
            "config key 'branches': factorisation decomposes retina and V4/IT recordings, "
            "add ['retina']",
        ),
        (
            {
                "data": {
                    "it": {"source": "local"},
                    "local": {"it": {"assembly": "a", "stimuli_csv": "b", "stimuli_zip": "c"}},
                },
            },
            "config key 'branches': factorisation decomposes the temporal V4/IT assembly",
        ),
        (
            {"retina": {"seeds": []}},
            "config key 'retina.seeds': expected at least 1 item(s), got []",
        ),
    ],
)
def test_mistakes_get_one_message_naming_the_key(update, message):
    with pytest.raises(ConfigError) as error:
        validate(update, SCHEMA, DEFAULTS)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_yaml_booleans_are_not_mistaken_for_cell_types():
    """YAML 1.1 reads a bare `on` as True; the schema must refuse it rather than pass it on."""
    with pytest.raises(ConfigError, match="cell_types.2"):
        validate(
            {"data": {"simulated": {"retina": {"cell_types": ["off_fast", "off_slow", True]}}}},
            SCHEMA,
            DEFAULTS,
        )


def test_nested_command_line_numbers_are_read_as_yaml_scalars():
    """`snakemake --config retina='{train: {epochs: 3}}'` hands over the leaves as strings."""
    from snakemake.cli import parse_config

    update = parse_config(
        [
            "retina={train: {epochs: 3, learning_rate: 1e-3}, seeds: [0, 2]}",
            "data={retina: {experiments: ['1']}, simulated: {retina: {cell_types: ['on']}}}",
        ]
    )
    assert update["retina"]["train"]["epochs"] == "3"  # what Snakemake passes on
    validated = validate(update, SCHEMA, DEFAULTS)
    assert validated["retina"]["train"]["epochs"] == 3
    assert validated["retina"]["train"]["learning_rate"] == 1e-3
    assert validated["retina"]["seeds"] == [0, 2]
    # strings the schema wants stay strings: an experiment named "1", the cell type "on"
    assert validated["data"]["retina"]["experiments"] == ["1"]
    assert validated["data"]["simulated"]["retina"]["cell_types"] == ["on"]


def test_each_branch_checks_only_its_own_source():
    """Local retina recordings and no V4/IT data: the IT paths are not asked for."""
    local_retina = {"retina": {"source": "local"}, "local": {"retina": {"root": "recordings"}}}
    validated = validate(
        {
            "branches": ["retina", "mechanisms", "dynamics"],
            "data": {**local_retina, "it": {"source": "local"}},
        },
        SCHEMA,
        DEFAULTS,
    )
    assert validated["data"]["retina"]["source"] == "local"
    with pytest.raises(ConfigError, match="data.local.it.assembly"):
        validate({"data": {**local_retina, "it": {"source": "local"}}}, SCHEMA, DEFAULTS)
    assert validate({"data": local_retina}, SCHEMA, DEFAULTS)["data"]["it"]["source"] == "simulated"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "retina:\n  seeds: [0, 1\n  epochs: 2\n",
            "line 3, column 9: not valid YAML: expected ','",
        ),
        ("retina:\n\tseeds: [0]\n", "line 2, column 1: not valid YAML: found character '\\t'"),
        ("- retina\n", "holds a list, expected keys at top level"),
    ],
    ids=["unclosed-list", "tab", "not-a-mapping"],
)
def test_a_malformed_config_file_is_named_with_its_line(tmp_path, text, words):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        read_config_file(path)
    assert str(error.value).startswith(f"config file {path}") and words in str(error.value)
    assert "\n" not in str(error.value)


def test_config_files_are_read_as_snakemake_reads_them(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("retina:\n  seeds: [0, 1]\n")
    assert read_config_file(path) == {"retina": {"seeds": [0, 1]}}
    path.write_text("# only a comment\n")
    assert read_config_file(path) == {}
    assert read_config_file(REPO / "config.yaml") == yaml.safe_load(
        (REPO / "config.yaml").read_text()
    )


def test_the_config_checker_names_each_bad_file_in_one_line(tmp_path):
    good, bad, missing = tmp_path / "good.yaml", tmp_path / "bad.yaml", tmp_path / "tiny.yml"
    good.write_text("retina: {seeds: [0]}\n")
    bad.write_text("retina: {seeds: [0]\n")
    done = subprocess.run(
        [sys.executable, "-m", "insilico.core.config", str(good), str(bad), str(missing)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == f"config file {good}: valid YAML with keys at top level"
    assert lines[1].startswith(f"config file {bad}, line 2, column 1: not valid YAML")
    assert lines[2] == f"config file {missing} does not exist"
    assert len(lines) == 3
