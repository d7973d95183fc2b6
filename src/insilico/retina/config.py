"""The retina branch's configuration: constraints across keys, and each model's training settings."""

from __future__ import annotations

from typing import Any

from insilico.core.config import ConfigError


def check_config(config: dict) -> None:
    """CNN kernels fit the simulated images; cell lists name configured experiments; local data
    name their folder."""
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
    _check_simulated_cells(config)
    local = config["data"]["retina"]["source"] == "local"
    if (
        "retina" in config["branches"]
        and local
        and config["data"]["local"]["retina"]["root"] is None
    ):
        raise ConfigError(
            "config key 'data.local.retina.root': data.retina.source is 'local' but no folder "
            "of <experiment>/<stimulus>.h5 is given"
        )


def _check_simulated_cells(config: dict) -> None:
    """Simulated recordings hold ``cells_per_type`` cells of each type: a cell id beyond them
    is refused here, before any job (recorded files are checked when the workflow is read)."""
    if config["data"]["retina"]["source"] != "simulated":
        return
    sim = config["data"]["simulated"]["retina"]
    available = list(range(1, len(sim["cell_types"]) * sim["cells_per_type"] + 1))
    for experiment, cells in config["data"]["retina"]["cells"].items():
        unknown = [cell for cell in cells if cell not in available]
        if unknown:
            raise ConfigError(
                f"config key 'data.retina.cells': experiment {experiment!r} asks for cell(s) "
                f"{unknown}, not in the simulated recordings; available cells: "
                f"{available[0]}-{available[-1]} (data.simulated.retina.cell_types x cells_per_type)"
            )


def model_train_params(config: dict, model: str) -> dict[str, Any]:
    """The training settings of one model: the shared block overridden by the model's own keys."""
    return {**config["retina"]["train"], **config["retina"]["models"][model]["train"]}
