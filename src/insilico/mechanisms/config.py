"""The mechanisms branch's configuration: it dissects CNNs that the retina branch trains."""

from __future__ import annotations

from insilico.core.config import ConfigError


def check_config(config: dict) -> None:
    """The CNNs that section ``mechanisms`` dissects must be ones the retina branch trains."""
    cnns = config["mechanisms"]["cnns"]
    strengths = config["mechanisms"]["controls"]["dense_strengths"]
    if len({round(100 * s) for s in strengths}) != len(strengths):
        raise ConfigError(
            f"config key 'mechanisms.controls.dense_strengths': {strengths} must differ by at "
            "least 0.01 (each names its run in percent)"
        )
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
