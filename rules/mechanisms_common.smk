# Helpers of the mechanisms branch (rules/mechanisms.smk): settings, paths, input functions and
# targets. code() is in rules/common.smk, experiment_seed() in rules/retina_common.smk.


MECHANISMS = config["mechanisms"]
PHENOMENA = MECHANISMS["phenomena"]
MECHANISM_RUN = "results/mechanisms/{experiment}/{stimulus}/seed{seed}"
GROUND_TRUTH = config["data"]["retina"]["source"] == "simulated"
# The positive control runs as a "stimulus" of its own: it was fitted to no stimulus class.
CONTROL = "control"
CONTROL_RUN = GROUND_TRUTH and MECHANISMS["control"]
MECHANISM_STIMULUS = "whitenoise|naturalscene" + (f"|{CONTROL}" if CONTROL_RUN else "")
MECHANISM_FIGURES = ["attribution", "reduction"] + (
    ["groundtruth"] if GROUND_TRUTH else []
)
MECHANISM_TABLES = ["phenomena", "attribution", "reduction"] + (
    ["groundtruth", "recovery"] if GROUND_TRUTH else []
)


def mechanism_runs():
    """(experiment, stimulus, seed) of every CNN to dissect; the positive control of each
    experiment last, as (experiment, "control", 0), when it runs."""
    cnns = MECHANISMS["cnns"]
    experiments = cnns["experiments"] or config["data"]["retina"]["experiments"]
    fitted = [
        (experiment, stimulus, seed)
        for experiment in experiments
        for stimulus in cnns["stimuli"]
        for seed in cnns["seeds"]
    ]
    if not fitted or not CONTROL_RUN:
        return fitted
    return fitted + [(experiment, CONTROL, 0) for experiment in experiments]


def mechanism_model(wildcards):
    """The CNN a mechanism job dissects: a trained one, or the positive control."""
    if wildcards.stimulus == CONTROL:
        return f"results/mechanisms/{wildcards.experiment}/{CONTROL}/model.pt"
    return f"results/retina/{wildcards.experiment}/{wildcards.stimulus}/models/cnn/seed{wildcards.seed}/model.pt"


def mechanism_files(kind, prefix=""):
    """{name: path} of one stage's per-phenomenon netCDF files (wildcards left in)."""
    return {f"{prefix}{p}": f"{MECHANISM_RUN}/{kind}/{p}.nc" for p in PHENOMENA}


def mechanism_truth_params():
    """The simulator's parameters, or None when the data are not simulated (no ground truth)."""
    return config["data"]["simulated"]["retina"] if GROUND_TRUTH else None


def mechanism_truth_seed(wildcards):
    return experiment_seed(wildcards.experiment) if GROUND_TRUTH else None


def mechanism_targets():
    """Figures of every dissected CNN and the tables over all of them."""
    if not mechanism_runs():
        return []
    figures = [
        f"results/mechanisms/{experiment}/{stimulus}/seed{seed}/figures/{name}.png"
        for experiment, stimulus, seed in mechanism_runs()
        for name in PHENOMENA + MECHANISM_FIGURES
    ]
    return figures + [f"results/mechanisms/{table}.csv" for table in MECHANISM_TABLES]
