# Input functions and targets of the retina branch (rules/retina.smk); shared helpers such as
# code(), retina_runs() and train_params() live in rules/common.smk.
import math

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
    return [
        f"results/retina/{experiment}/figures/{figure}.png"
        for experiment in config["data"]["retina"]["experiments"]
        for figure in figures
    ]
