# Settings, input functions and targets of the retina branch (rules/retina.smk).
import math
import zlib
from functools import partial
from types import SimpleNamespace

from insilico.retina.config import model_train_params
from insilico.retina import ablation
from insilico.retina.models import model_module

RETINA = config["retina"]
# The reader that checks an acquired recording (validator(kind)), loaded by name by acquisition.
RETINA_READER = "insilico.retina.recording"


def retina_code(script, models):
    """The code of ``script`` running the models ``models`` (each model's module is loaded by name)."""
    return code(script, *(model_module(model) for model in models))


def wildcard_model_code(script):
    """Input function: the code of ``script`` running the model of ``wildcards.model``."""
    return lambda wildcards: retina_code(script, [wildcards.model])


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
    return (
        [
            f"results/retina/{experiment}/{stimulus}/figures/{figure}.png"
            for experiment, stimulus in retina_recordings()
            for figure in figures
        ]
        + ["results/retina/summary.csv"]
        + ablation_targets()
    )


def retina_file(wildcards, suffix=".h5"):
    """The file name of a recording relative to a data root, as in the public repository."""
    return f"{wildcards.experiment}/{wildcards.stimulus}{suffix}"


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


def local_retina_file(wildcards):
    """The user's file: <root>/<experiment>/<stimulus>.h5, or .nwb with format: nwb."""
    local = config["data"]["local"]["retina"]
    suffix = ".nwb" if local["format"] == "nwb" else ".h5"
    return str(Path(local["root"]) / retina_file(wildcards, suffix))


def check_local_retina_files():
    """Open every local recording before any job (metadata only: layout, shapes, the requested
    cells), so that a fault stops the run in one line naming the file, before anything runs.
    NWB files are checked for what their conversion needs (insilico.retina.nwb.check_nwb).
    """
    from insilico.retina.nwb import check_nwb
    from insilico.retina.recording import check_recording

    local = config["data"]["local"]["retina"]
    nwb = local["format"] == "nwb"
    cells = config["data"]["retina"]["cells"]
    checks = []
    for experiment, stimulus in retina_recordings():
        path = local_retina_file(
            SimpleNamespace(experiment=experiment, stimulus=stimulus)
        )
        wanted = cells.get(experiment)
        if nwb:
            check = partial(check_nwb, settings=local["nwb"], cells=wanted)
            checks.append(("data.local.retina.root", path, check))
            continue
        checks.append(("data.local.retina.root", path, check_recording))
        if wanted is not None:
            checks.append(
                ("data.retina.cells", path, partial(check_recording, cells=wanted))
            )
    check_local_data(checks)


def retina_acquired_files():
    """The recordings the configured run acquires (simulated, downloaded or linked)."""
    return [
        f"resources/retina/{experiment}/{stimulus}.h5"
        for experiment, stimulus in retina_recordings()
    ]


DATA_EFFICIENCY = RETINA["data_efficiency"]


def fraction_label(fraction):
    """A training fraction as the per cent in run paths: 0.1 -> "10", 0.025 -> "2.5"."""
    return f"{100 * fraction:g}"


def fraction_train_params(wildcards):
    """Training on the first part of the data, allowed as many updates as a full-data run.

    An epoch is one pass over the run's windows, so the epoch cap grows as 1 / fraction; the
    patience stays in passes, which lets a small-data run stop as soon as it overfits.
    """
    params = train_params(wildcards)
    fraction = float(wildcards.fraction) / 100
    return {
        **params,
        "train_fraction": fraction,
        "epochs": math.ceil(params["epochs"] / fraction),
    }


def closed_loop_params_for(models):
    """Closed-loop simulation settings when one of ``models`` needs them (the GLM), else none.

    Passing them only then keeps a change of these settings from rerunning other models' jobs.
    """
    return RETINA["models"]["glm"]["closed_loop"] if "glm" in models else {}


def closed_loop_params(wildcards):
    return closed_loop_params_for([wildcards.model])


def retina_model_path(experiment, stimulus, model, seed, fraction=1.0):
    """A model file; the full-data run of a seed is the main fit, smaller fractions their own."""
    run = (
        f"seed{seed}"
        if fraction == 1
        else f"fraction{fraction_label(fraction)}/seed{seed}"
    )
    return f"results/retina/{experiment}/{stimulus}/models/{model}/{run}/model.pt"


def data_efficiency_runs():
    """(model, fraction, seed) of every data-efficiency run of a recording."""
    labels = [fraction_label(fraction) for fraction in DATA_EFFICIENCY["fractions"]]
    if len(set(labels)) != len(labels):
        raise WorkflowError(
            "Invalid configuration: config key 'retina.data_efficiency.fractions' has fractions "
            f"that round to the same per cent {labels}; runs are stored per per cent"
        )
    return [
        (model, float(fraction), seed)
        for model in DATA_EFFICIENCY["models"]
        for fraction in sorted(DATA_EFFICIENCY["fractions"])
        for seed in DATA_EFFICIENCY["seeds"]
    ]


def data_efficiency_models(wildcards):
    return [
        retina_model_path(
            wildcards.experiment, wildcards.stimulus, model, seed, fraction
        )
        for model, fraction, seed in data_efficiency_runs()
    ]


def generalization_runs():
    """(model, training stimulus, seed) of every model tested across stimulus classes."""
    return [
        (model, stimulus, seed)
        for model, seed in retina_runs()
        for stimulus in config["data"]["retina"]["stimuli"]
    ]


def generalization_models(wildcards):
    return [
        retina_model_path(wildcards.experiment, stimulus, model, seed)
        for model, stimulus, seed in generalization_runs()
    ]


def receptive_field_runs():
    """(model, training stimulus) whose STAs are compared with the data (first seed)."""
    return [
        (model, stimulus)
        for model in RETINA["receptive_fields"]["models"]
        for stimulus in config["data"]["retina"]["stimuli"]
    ]


def receptive_field_models(wildcards):
    return [
        retina_model_path(wildcards.experiment, stimulus, model, RETINA["seeds"][0])
        for model, stimulus in receptive_field_runs()
    ]


def retina_generalization_files():
    """The generalisation results the claims table reads (none with a single stimulus class)."""
    if len(config["data"]["retina"]["stimuli"]) < 2:
        return []
    return [
        f"results/retina/{experiment}/generalization.nc"
        for experiment in config["data"]["retina"]["experiments"]
    ]


def retina_paper_targets():
    """The figures of McIntosh et al. 2016 that the configuration allows, per experiment."""
    stimuli = config["data"]["retina"]["stimuli"]
    figures = ["model_comparison"]
    if DATA_EFFICIENCY["fractions"] and DATA_EFFICIENCY["models"]:
        figures.append("data_efficiency")
    if len(stimuli) > 1:
        figures.append("generalization")
    if "whitenoise" in stimuli and RETINA["receptive_fields"]["models"]:
        figures.append("receptive_fields")
    trend = (
        ["results/retina/data_trend.csv"]
        if DATA_EFFICIENCY["targets"] and len(DATA_EFFICIENCY["fractions"]) > 1
        else []
    )
    return trend + [
        f"results/retina/{experiment}/figures/{figure}.png"
        for experiment in config["data"]["retina"]["experiments"]
        for figure in figures
    ]


# --- ablation: one factor of the default CNN changed at a time (insilico.retina.ablation) ------

ABLATION = RETINA["ablation"]


def ablation_factors():
    """The configured factors; on recorded data without training-data multiples above 1, which
    only a simulation can provide (a recording holds no more than itself)."""
    factors = dict(ABLATION["factors"])
    if config["data"]["retina"]["source"] != "simulated" and "data" in factors:
        factors["data"] = [multiple for multiple in factors["data"] if multiple <= 1]
    return factors


ABLATION_VARIANTS = ablation.variants(ablation_factors())
ABLATION_MULTIPLE = ablation.recording_multiple(ablation_factors())
ABLATION_RUN = (
    "results/retina/{experiment}/{stimulus}/ablation/{model}/{variant}/seed{seed}"
)


def ablation_experiment():
    return ABLATION["experiment"] or config["data"]["retina"]["experiments"][0]


def ablation_recordings():
    """(experiment, stimulus) pairs the ablation runs on; none when it is switched off (no
    stimulus class, or no variant besides the baseline)."""
    if len(ABLATION_VARIANTS) == 1 or not ABLATION["stimuli"]:
        return []
    missing = sorted(
        set(ABLATION["stimuli"]) - set(config["data"]["retina"]["stimuli"])
    )
    if missing or ablation_experiment() not in config["data"]["retina"]["experiments"]:
        raise WorkflowError(
            "Invalid configuration: config key 'retina.ablation' names experiment "
            f"{ablation_experiment()!r} and stimuli {ABLATION['stimuli']}, which must be among "
            f"data.retina.experiments and data.retina.stimuli"
        )
    return [(ablation_experiment(), stimulus) for stimulus in ABLATION["stimuli"]]


def ablation_recording(wildcards):
    """The recording the ablation trains on: a longer simulation of the same retina when a data
    multiple above 1 is asked for, else the experiment's own recording."""
    if ABLATION_MULTIPLE > 1:
        return (
            f"resources/retina/ablation/{wildcards.experiment}/{wildcards.stimulus}.h5"
        )
    return f"resources/retina/{wildcards.experiment}/{wildcards.stimulus}.h5"


def ablation_settings(wildcards):
    return ablation.variant_settings(
        ABLATION_VARIANTS[wildcards.variant],
        history=RETINA["history"],
        model_params=RETINA["models"]["cnn"]["params"],
        train_params={**model_train_params(config, "cnn"), **ABLATION["train"]},
        multiple=ABLATION_MULTIPLE,
    )


def ablation_runs(wildcards, name):
    """One file ``name`` of every variant's run on the recording of ``wildcards``."""
    return [
        f"{ABLATION_RUN}/{name}".format(
            experiment=wildcards.experiment,
            stimulus=wildcards.stimulus,
            model="cnn",
            variant=variant,
            seed=ABLATION["seed"],
        )
        for variant in ABLATION_VARIANTS
    ]


def ablation_targets():
    recordings = ablation_recordings()
    if not recordings:
        return []
    return [
        f"results/retina/{ablation_experiment()}/figures/ablation.png",
        "results/retina/ablation.csv",
    ]
