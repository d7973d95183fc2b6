"""The IT branch's configuration: models fit the images, the unroll covers the recorded bins,
enough fit images, local data name their files, a remote assembly is one of the named entries;
and the settings of the data's source (stratification column, averaging window)."""

from __future__ import annotations

from insilico.core.config import ConfigError
from insilico.it.models import model_kind

# The local IT files a run needs; the temporal assembly is optional (the per-bin analyses need it).
LOCAL_IT_REQUIRED = ("assembly", "stimuli_csv", "stimuli_zip")


def check_config(config: dict) -> None:
    it = config["it"]
    for model, block in it["models"].items():
        _check_model(model, block["params"], it["image_size"], it["temporal"]["n_steps"])
    _check_bins(config)
    if it["activations"]["n_fit"] > it["task"]["n_train"]:
        raise ConfigError(
            f"config key 'it.activations.n_fit': {it['activations']['n_fit']} PCA fit images but "
            f"only it.task.n_train={it['task']['n_train']} task images"
        )
    _check_local_files(config)
    if "it" in config["branches"] and config["data"]["it"]["source"] == "remote":
        remote_it_assembly(config)


def _check_model(model: str, params: dict, size: int, n_steps: int) -> None:
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
    if model_kind(model) != "convrnn":
        return
    bad = [layer for layer in params["recurrent_layers"] if layer > depth]
    if bad:
        raise ConfigError(
            f"config key 'it.models.{model}.params.recurrent_layers': {bad} exceed the "
            f"{depth} layers"
        )
    if n_steps < depth:
        raise ConfigError(
            f"config key 'it.temporal.n_steps': {n_steps} steps (the ConvRNNs' training and "
            f"scoring schedule) cannot reach the top of it.models.{model}'s {depth} layers"
        )


def _check_bins(config: dict) -> None:
    """The image is on within the unroll, and the unroll reaches the last simulated 10 ms bin."""
    it = config["it"]
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


def _check_local_files(config: dict) -> None:
    if "it" not in config["branches"] or config["data"]["it"]["source"] != "local":
        return
    local = config["data"]["local"]["it"]
    missing = [f"'data.local.it.{name}'" for name in LOCAL_IT_REQUIRED if local[name] is None]
    if missing:
        raise ConfigError(
            f"config key(s) {', '.join(missing)}: data.it.source is 'local' but these files "
            "are not given (or leave IT out of 'branches')"
        )


def remote_it_assembly(config: dict) -> dict:
    """The entry of ``data.remote.it.assemblies`` that ``data.remote.it.assembly`` names."""
    remote = config["data"]["remote"]["it"]
    entries = remote.get("assemblies", {})
    if remote["assembly"] not in entries:
        raise ConfigError(
            f"config key 'data.remote.it.assembly': {remote['assembly']!r} is not one of the "
            f"named assemblies in data.remote.it.assemblies {sorted(entries)}"
        )
    return entries[remote["assembly"]]


def it_data_settings(config: dict) -> dict:
    """``stratify_by`` and ``window_ms`` of the IT data's source (simulated: object_name, all bins)."""
    source = config["data"]["it"]["source"]
    if source == "simulated":
        return {"stratify_by": "object_name", "window_ms": None}
    block = remote_it_assembly(config) if source == "remote" else config["data"]["local"]["it"]
    return {
        "stratify_by": block.get("stratify_by", "object_name"),
        "window_ms": block.get("window_ms"),
    }


def has_temporal_it(config: dict) -> bool:
    """Whether the IT data have responses per time bin: simulated data always do, remote ones
    when the chosen assembly has a temporal file, local ones when it is given."""
    source = config["data"]["it"]["source"]
    if source == "remote":
        return "temporal_assembly" in remote_it_assembly(config)["files"]
    return source == "simulated" or config["data"]["local"]["it"]["temporal_assembly"] is not None
