# Shared helpers: config validation, code tracking, input functions. Rules live in the stage files.
import zlib
from pathlib import Path

from snakemake.exceptions import WorkflowError

from insilico.config import (
    ConfigError,
    load_schema,
    model_train_params,
    validate_config,
)

try:
    _validated = validate_config(
        config, load_schema(Path(workflow.basedir) / "schemas" / "config.schema.yaml")
    )
except ConfigError as error:
    raise WorkflowError(f"Invalid configuration: {error}") from None
config.clear()
config.update(_validated)

PACKAGE = Path(workflow.basedir) / "src" / "insilico"
RETINA = config["retina"]
ENV = "../envs/insilico.yaml"
MODEL_MODULES = {"ln": "models.ln", "cnn": "models.retina_cnn"}
TRAINING_MODULES = ["io", "training", "models.__init__", "data.retina_h5"]


def code(*modules):
    """Source files of the package modules a rule runs.

    Snakemake tracks only a rule's script, not what it imports; declaring the modules as inputs
    makes an edit to one of them rerun exactly the rules that run it.
    """
    return [
        str(PACKAGE.joinpath(*module.split(".")).with_suffix(".py"))
        for module in modules
    ]


def model_code(wildcards):
    """Everything that builds, trains and loads the model of ``wildcards.model``."""
    return code(*TRAINING_MODULES, MODEL_MODULES[wildcards.model])


def experiment_seed(experiment):
    """A stable seed per simulated experiment: different experiments are different retinas."""
    base = config["data"]["simulated"]["retina"]["seed"]
    return zlib.crc32(f"{base}:{experiment}".encode())


def retina_cells(wildcards):
    """The 1-based cell ids to model in an experiment; None means all cells in the file."""
    return config["data"]["retina"]["cells"].get(wildcards.experiment)


def model_params(wildcards):
    return RETINA["models"][wildcards.model]["params"]


def train_params(wildcards):
    return model_train_params(config, wildcards.model)


def retina_recordings():
    """(experiment, stimulus) pairs in the order of the configuration."""
    return [
        (experiment, stimulus)
        for experiment in config["data"]["retina"]["experiments"]
        for stimulus in config["data"]["retina"]["stimuli"]
    ]


def retina_runs():
    """(model, seed) pairs fitted on every recording."""
    return [(model, seed) for model in RETINA["fit"] for seed in RETINA["seeds"]]


def retina_evaluations(wildcards):
    return [
        f"results/retina/{wildcards.experiment}/{wildcards.stimulus}/models/{model}/seed{seed}/evaluation.nc"
        for model, seed in retina_runs()
    ]


def retina_targets():
    figures = ["model_comparison", "example_predictions"]
    if "cnn" in RETINA["fit"]:
        figures.append("cnn_filters")
    return [
        f"results/retina/{experiment}/{stimulus}/figures/{figure}.png"
        for experiment, stimulus in retina_recordings()
        for figure in figures
    ] + ["results/retina/summary.csv"]


def retina_file(wildcards):
    """The file name of a recording relative to a data root, as in the public repository."""
    return f"{wildcards.experiment}/{wildcards.stimulus}.h5"


def check_remote_retina_checksums():
    """Refuse, before any job, to download a recording whose checksum the config does not give."""
    checksums = config["data"]["remote"]["retina"]["checksums"]
    missing = [
        f"{experiment}/{stimulus}.h5"
        for experiment, stimulus in retina_recordings()
        if f"{experiment}/{stimulus}.h5" not in checksums
    ]
    if missing:
        raise WorkflowError(
            f"Invalid configuration: config key 'data.remote.retina.checksums' has no entry for {missing}; "
            "every downloaded file is verified, add e.g. '15-10-07/naturalscene.h5': 'sha256:<hex>'"
        )


def remote_retina_url(wildcards):
    return f"{config['data']['remote']['retina']['base_url'].rstrip('/')}/{retina_file(wildcards)}"


def remote_retina_checksum(wildcards):
    return config["data"]["remote"]["retina"]["checksums"][retina_file(wildcards)]


def check_local_retina_root():
    if config["data"]["local"]["retina"]["root"] is None:
        raise WorkflowError(
            "Invalid configuration: data.source is 'local' but config key 'data.local.retina.root' is not set"
        )


def local_retina_file(wildcards):
    return str(Path(config["data"]["local"]["retina"]["root"]) / retina_file(wildcards))


def acquired_files():
    """Every data file the configured run acquires; each has a provenance sidecar (branches add theirs)."""
    return [
        f"resources/retina/{experiment}/{stimulus}.h5"
        for experiment, stimulus in retina_recordings()
    ]
