"""The networks a configuration trains: the population and the sweeps (torch-free: the workflow
names each network's files from it).

A variant is one rule with its metaparameters on one architecture. The population is every rule
at its configured metaparameters on the configured architecture (``<rule>``); the sweeps add
``<rule>@depth<n>`` (``n`` convolutions per block), ``<rule>@a<alpha>_b<beta>`` (the
metaparameter grid, on every grid architecture: ``...@depth<n>`` appended when not the default)
and ``<rule>@noise<level>`` (Gaussian noise on the feedback updates). Every variant trains every
seed.
"""

from __future__ import annotations


def _variant(name: str, rule: str, settings: dict, model: dict, group: str) -> dict:
    return {"name": name, "rule": rule, "settings": settings, "model": model, "group": group}


def variants(section: dict) -> list[dict]:
    """Every variant of the ``learning_rules`` config section, population first."""
    model, all_settings = section["model"], section["settings"]
    out = [
        _variant(rule, rule, dict(all_settings.get(rule, {})), dict(model), "population")
        for rule in section["rules"]
    ]
    sweeps = section["sweeps"]
    for depth in sweeps["depth"]["block_convs"]:
        for rule in sweeps["depth"]["rules"]:
            deeper = {**model, "block_convs": depth}
            out.append(
                _variant(
                    f"{rule}@depth{depth}", rule, dict(all_settings.get(rule, {})), deeper, "depth"
                )
            )
    grid = sweeps["grid"]
    for depth in grid["block_convs"]:
        for rule in grid["rules"]:
            for alpha in grid["alpha"]:
                for beta in grid["beta"]:
                    settings = {**all_settings.get(rule, {}), "alpha": alpha, "beta": beta}
                    suffix = "" if depth == model["block_convs"] else f"@depth{depth}"
                    name = f"{rule}@a{alpha:g}_b{beta:g}{suffix}"
                    arch = {**model, "block_convs": depth}
                    out.append(_variant(name, rule, settings, arch, "grid"))
    for level in sweeps["noise"]["levels"]:
        for rule in sweeps["noise"]["rules"]:
            settings = {**all_settings.get(rule, {}), "noise": level}
            out.append(_variant(f"{rule}@noise{level:g}", rule, settings, dict(model), "noise"))
    names = [v["name"] for v in out]
    if len(set(names)) != len(names):
        raise ValueError(f"learning_rules: variants named twice in {names}")
    return out


def file_name(variant: str) -> str:
    """A variant's name as a path part (``@`` kept, nothing else special in the names)."""
    return variant.replace("/", "_")
