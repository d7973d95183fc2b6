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
MODEL_MODULES = {"ln": "models.ln", "glm": "models.glm", "cnn": "models.retina_cnn"}
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
    return code(*TRAINING_MODULES, "gpus", MODEL_MODULES[wildcards.model])


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
    ] + it_acquired_files()


# --- IT branch (rules/it.smk): the four acquired files, needed here by acquired_files() ----------

# Name in resources/it/ of each file of a Brain-Score style experiment, whatever its source.
IT_FILES = {
    "assembly": "assembly.nc",
    "temporal_assembly": "assembly_temporal.nc",
    "stimuli_csv": "stimuli.csv",
    "stimuli_zip": "stimuli.zip",
}


def it_acquired_files():
    return [f"resources/it/{name}" for name in IT_FILES.values()]


# -- Dynamics branch (rules/dynamics.smk) -----------------------------------------------------------
from insilico.dynamics.population import chunks as dynamics_chunks

DYNAMICS = config["dynamics"]
DYNAMICS_CHUNKS = dynamics_chunks(DYNAMICS)
DYNAMICS_MODULES = ["io", "logs", "gpus", "training", "dynamics.population"]
DYNAMICS_TRAIN = ["dynamics.tasks", "dynamics.cells", "dynamics.train"]


def dynamics_networks(wildcards):
    """The networks (as dicts) of one training job; params, so a change reruns that job."""
    members = DYNAMICS_CHUNKS[wildcards.dyn_task][int(wildcards.chunk)]
    return [spec.as_dict() for spec in members]


def dynamics_chunk_files(kind, task):
    """Every chunk's file of ``kind`` for ``task`` (models/chunkN.pt, fixed_points/chunkN.nc, ...)."""
    suffix = {"models": ".pt", "history": "_history.nc", "fixed_points": ".nc"}[kind]
    folder = "models" if kind == "history" else kind
    return [
        f"results/dynamics/{task}/{folder}/chunk{index}{suffix}"
        for index in range(len(DYNAMICS_CHUNKS[task]))
    ]


def dynamics_all_chunk_files(kind):
    return [
        path for task in DYNAMICS["tasks"] for path in dynamics_chunk_files(kind, task)
    ]


def dynamics_targets():
    figures = ["training", "fixed_points", "geometry", "topology"]
    if "context" in DYNAMICS["tasks"]:
        figures.append("line_attractor")
    return [f"results/dynamics/figures/{figure}.png" for figure in figures] + [
        "results/dynamics/summary.csv"
    ]


def dynamics_figures():
    """The figures of the branch (the line attractor only when the context task is trained)."""
    labels = {
        "training": "training",
        "fixed_points": "fixed points",
        "geometry": "geometry (SVCCA, CKA, Procrustes)",
        "topology": "topology",
        "line_attractor": "line attractor (context task)",
    }
    if "context" not in DYNAMICS["tasks"]:
        del labels["line_attractor"]
    return {
        name: report(
            f"results/dynamics/figures/{name}.png",
            caption=f"../report/dynamics_{name}.rst",
            category="Dynamics",
            labels={"figure": label},
        )
        for name, label in labels.items()
    }


def limit_gpu_jobs_to_this_machine():
    """Locally, run at most one GPU job per GPU of this machine at once (each job claims a device
    of its own, see insilico.gpus), unless `--resources gpu=N` is given. Without a GPU there is no
    limit (GPU rules then run on the CPU, limited by cores); on a cluster the scheduler hands out
    the GPUs."""
    if (
        not workflow.is_main_process
        or not workflow.local_exec
        or "gpu" in workflow.global_resources
    ):
        return
    from insilico.gpus import available_gpus

    gpus = available_gpus()
    if gpus:
        workflow.register_resource("gpu", len(gpus))
        logger.info(
            f"insilico: {len(gpus)} GPU(s) found ({', '.join(gpus)}): at most {len(gpus)} GPU "
            "jobs at once; --resources gpu=N overrides"
        )


limit_gpu_jobs_to_this_machine()
