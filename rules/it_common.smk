# IT branch helpers (rules/it.smk): settings, paths and input functions of the IT rules.

import re

from insilico.it.config import has_temporal_it, it_data_settings
from insilico.it.cache_keys import network_key, preprocessing_key
from insilico.it.models import model_kind as it_model_kind
from insilico.it.models import model_module as it_model_module

IT = config["it"]
IT_DIR = "resources/it"
# The reader that checks each acquired IT file (validator(kind)), loaded by name by acquisition.
IT_READER = "insilico.it.assembly"
# Name in resources/it/ of each file of a Brain-Score style experiment, whatever its source.
IT_FILES = {
    "assembly": "assembly.nc",
    "temporal_assembly": "assembly_temporal.nc",
    "stimuli_csv": "stimuli.csv",
    "stimuli_zip": "stimuli.zip",
}
# The hidden ground-truth network of the simulated experiment, named by its content key (the
# version is the simulator's: read from the module's source without importing torch).
IT_SIMULATOR_VERSION = re.search(
    r'^SIMULATOR_VERSION = "([^"]+)"',
    (SRC / "insilico" / "it" / "simulator.py").read_text(),
    re.M,
).group(1)
IT_NETWORK = (
    f"{IT_DIR}/groundtruth_network/"
    f"{network_key(config['data']['simulated']['it'], IT_SIMULATOR_VERSION)}.pt"
)
# Local data may lack the temporal assembly: the per-bin analyses are then left out (the report
# says so), the time-averaged ones run.
IT_TEMPORAL = has_temporal_it(config)
if not IT_TEMPORAL:
    del IT_FILES["temporal_assembly"]
# The data source's stimulus-set column for the stratified splits and its averaging window.
IT_DATA = it_data_settings(config)


def it_solution_times_input():
    """Per-image solution times need time bins: without a temporal assembly there are none."""
    return {"solution_times": "results/it/solution_times.nc"} if IT_TEMPORAL else {}


def it_acquired_files():
    return [f"resources/it/{name}" for name in IT_FILES.values()]


# resources/it/<file> -> the kind of file, which decides how a downloaded/local copy is validated
IT_FILE_KINDS = {file: name for name, file in IT_FILES.items()}


def it_code(script, model):
    """The code of ``script`` running the IT network ``model`` (its module is loaded by name)."""
    return code(script, it_model_module(model))


def it_model_params(wildcards):
    """A model's hyperparameters; a ConvRNN is trained on the schedule it is scored on."""
    params = dict(IT["models"][wildcards.it_model]["params"])
    if it_model_kind(wildcards.it_model) == "convrnn":
        params["train_steps"] = IT["temporal"]["n_steps"]
        params["image_on_steps"] = IT["temporal"]["image_on_steps"]
    return params


def it_score_params(wildcards):
    """Scoring settings of one run: training seed s draws its splits with ``score.seed + s``
    (seed 0 gets Brain-Score's own draw), so intervals over seeds include split variability.
    """
    return {**IT["score"], "seed": IT["score"]["seed"] + int(wildcards.seed)}


def it_object_params():
    """The simulated experiment's objects and renderer settings (task images use them for any source)."""
    return config["data"]["simulated"]["it"]


def it_groundtruth():
    """Noiseless rates and exact reliabilities exist only for simulated data."""
    return (
        [f"{IT_DIR}/groundtruth.nc"]
        if config["data"]["it"]["source"] == "simulated"
        else []
    )


def it_layers(model):
    """Scored layers of a model, bottom to top: each convolutional block, then the global pool."""
    depth = len(IT["models"][model]["params"]["channels"])
    return [f"conv{i + 1}" for i in range(depth)] + ["avgpool"]


def it_preprocessing():
    """Everything between a checkpoint and its cached activations except the input files."""
    return {
        "image_size": IT["image_size"],
        "reduction": IT["activations"]["reduction"],
        "max_features": IT["activations"]["max_features"],
        "n_fit": IT["activations"]["n_fit"],
        "n_steps": IT["temporal"]["n_steps"],
        "image_on_steps": IT["temporal"]["image_on_steps"],
        "pca_window_ms": IT["activations"]["pca_window_ms"],
    }


IT_PREP = preprocessing_key(it_preprocessing())


def it_activation_files(model, state="{it_state}", seed="{seed}"):
    return [
        f"results/it/activations/{IT_PREP}/{model}/{state}/seed{seed}/{layer}.nc"
        for layer in it_layers(model)
    ]


def it_activation_inputs(wildcards):
    return it_activation_files(wildcards.it_model, wildcards.it_state, wildcards.seed)


def it_train_params(wildcards):
    """Training settings of a run; an untrained control gets fixed placeholders (0 steps), so
    changing the training settings never reruns it."""
    seed = int(wildcards.seed)
    if wildcards.it_state == "untrained":
        return {
            "steps": 0,
            "batch_size": 1,
            "learning_rate": 0.0,
            "weight_decay": 0.0,
            "eval_every": 1,
            "checkpoint_every": 1,
            "seed": seed,
        }
    return {**IT["train"], **IT["models"][wildcards.it_model]["train"], "seed": seed}


def it_runs():
    """(model, state, seed) of every scored network."""
    return [
        (model, state, seed)
        for model in IT["fit"]
        for state in IT["states"]
        for seed in IT["seeds"]
    ]


def remote_it_entry(wildcards):
    """The chosen remote assembly's entry for one file (data.remote.it.assembly)."""
    remote = config["data"]["remote"]["it"]
    files = remote["assemblies"][remote["assembly"]]["files"]
    return files[IT_FILE_KINDS[wildcards.it_file]]


def remote_it_url(wildcards):
    base = config["data"]["remote"]["it"]["base_url"].rstrip("/")
    return f"{base}/{remote_it_entry(wildcards)['name']}"


def remote_it_checksum(wildcards):
    return remote_it_entry(wildcards)["checksum"]


def local_it_file(wildcards):
    return config["data"]["local"]["it"][IT_FILE_KINDS[wildcards.it_file]]


def check_local_it_files():
    """Check every local V4/IT file with its acquisition's reader before any job (an assembly is
    opened lazily: its coordinates are checked, its data not read), and that the stimulus set has
    the column data.local.it.stratify_by names, and the temporal assembly the regions that the
    solution times and factorisation read (it_temporal_regions)."""
    from functools import partial

    from insilico.acquire.sources import validator
    from insilico.it.assembly import read_stimulus_metadata, region_validator

    local = config["data"]["local"]["it"]
    check_local_data(
        [
            *(
                (f"data.local.it.{kind}", local[kind], validator(IT_READER, kind))
                for kind in IT_FILES
            ),
            (
                "data.local.it.stratify_by",
                local["stimuli_csv"],
                partial(read_stimulus_metadata, stratify_by=IT_DATA["stratify_by"]),
            ),
            # per-image solution times (and factorisation) read one region of the temporal assembly
            *(
                (key, local["temporal_assembly"], region_validator(region))
                for key, region in it_temporal_regions()
            ),
        ]
    )


def it_temporal_regions():
    """(config key, region) of each analysis that reads one region of the temporal assembly."""
    if not IT_TEMPORAL:
        return []
    regions = [("it.solution_times.region", IT["solution_times"]["region"])]
    if "factorisation" in config["branches"]:
        key = "factorisation.applications.it_region"
        regions.append((key, config["factorisation"]["applications"]["it_region"]))
    return regions


def it_targets():
    solution_times = ["results/it/stimuli_solution_times.csv"] if IT_TEMPORAL else []
    return ["results/it/summary.csv", *solution_times] + [
        f"results/it/figures/{name}.png"
        for name in (
            "predictivity_by_layer",
            "performance_vs_predictivity",
            *(
                [
                    "temporal_predictivity",
                    "late_solved",
                    "late_predictivity",
                    "solution_times",
                ]
                if IT_TEMPORAL
                else []
            ),
            "stimuli",
        )
    ]
