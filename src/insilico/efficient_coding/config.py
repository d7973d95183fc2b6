"""Cross-key checks of the efficient_coding section, run by the Snakefile before any job."""

from __future__ import annotations

from insilico.core.config import ConfigError


def check_config(config: dict) -> None:
    """Every mosaic stride must divide the patch length (a mosaic tiles the periodic patch)."""
    if "efficient_coding" not in config["branches"]:
        return
    settings = config["efficient_coding"]
    size = settings["movie"]["size"]
    bad = [s for s in settings["strides"] if size % s]
    if bad:
        raise ConfigError(
            f"config key 'efficient_coding.strides': {bad} do not divide movie.size = {size}"
        )
    if settings["spectrum"]["block_frames"] > settings["movie"]["n_frames"]:
        raise ConfigError(
            "config key 'efficient_coding.spectrum.block_frames': longer than movie.n_frames"
        )
