# Helpers of the mechanisms branch (rules/mechanisms.smk): settings, paths, input functions and
# targets. code() is in rules/common.smk, experiment_seed() in rules/retina_common.smk.


MECHANISMS = config["mechanisms"]
PHENOMENA = MECHANISMS["phenomena"]
MECHANISM_RUN = "results/mechanisms/{experiment}/{stimulus}/seed{seed}"
GROUND_TRUTH = config["data"]["retina"]["source"] == "simulated"
# The controls run as "stimuli" of their own: they were fitted to no stimulus class. The circuit
# control ("control"), the dense controls at each distractor strength (percent of the fitted CNN's
# level in the name) and the untrained CNN.
CONTROL = "control"
CONTROL_RUN = GROUND_TRUTH and MECHANISMS["control"]
TRAINED = "trained"
CONTROLS = (
    {
        CONTROL: {"model": "control", "strength": 0.0},
        **{
            f"dense{round(100 * s)}": {"model": "dense_control", "strength": s}
            for s in MECHANISMS["controls"]["dense_strengths"]
        },
        **(
            {"untrained": {"model": "untrained", "strength": None}}
            if MECHANISMS["controls"]["untrained"]
            else {}
        ),
        **(
            {TRAINED: {"model": "trained_control", "strength": None}}
            if MECHANISMS["controls"]["trained"]["seeds"]
            else {}
        ),
    }
    if CONTROL_RUN
    else {}
)
# The controls written down from the circuit or a fitted CNN (one model file per experiment); the
# trained control is trained, one model per seed (rule mechanism_trained_control).
WRITTEN_CONTROLS = [name for name in CONTROLS if name != TRAINED]
MECHANISM_STIMULUS = "|".join(["whitenoise", "naturalscene", *CONTROLS])
MECHANISM_FIGURES = ["attribution", "reduction"] + (
    ["groundtruth"] if GROUND_TRUTH else []
)
MECHANISM_TABLES = ["phenomena", "attribution", "reduction"] + (
    ["groundtruth", "recovery"] if GROUND_TRUTH else []
)


def mechanism_seeds():
    """The training seeds whose CNNs are dissected: mechanisms.cnns.seeds, or every retina seed."""
    return MECHANISMS["cnns"]["seeds"] or config["retina"]["seeds"]


def mechanism_experiments():
    return MECHANISMS["cnns"]["experiments"] or config["data"]["retina"]["experiments"]


def mechanism_runs():
    """(experiment, stimulus, seed) of every CNN to dissect; the controls of each experiment
    last, as (experiment, control name, 0), when they run."""
    experiments = mechanism_experiments()
    fitted = [
        (experiment, stimulus, seed)
        for experiment in experiments
        for stimulus in MECHANISMS["cnns"]["stimuli"]
        for seed in mechanism_seeds()
    ]
    if not fitted:
        return fitted
    return fitted + [
        (e, name, seed)
        for e in experiments
        for name in CONTROLS
        for seed in (control_seeds() if name == TRAINED else [0])
    ]


def control_seeds():
    """The trained control's training seeds (one dissected model each)."""
    return MECHANISMS["controls"]["trained"]["seeds"]


def trained_control_recording(wildcards):
    """The recording the trained control learns from: the one of the control reference CNN."""
    stimulus = MECHANISMS["cnns"]["stimuli"][0]
    return f"resources/retina/{wildcards.experiment}/{stimulus}.h5"


def trained_control_settings():
    """The fitted CNN's training settings, with the trained control's epochs and hidden weight."""
    settings = MECHANISMS["controls"]["trained"]
    return {
        **model_train_params(config, "cnn"),
        "epochs": settings["epochs"],
        "hidden_weight": settings["hidden_weight"],
    }


def fitted_cnn(experiment, stimulus, seed):
    return f"results/retina/{experiment}/{stimulus}/models/cnn/seed{seed}/model.pt"


def control_reference(wildcards):
    """The fitted CNN that sets the dense controls' distractor level and the untrained CNN's
    architecture: the first dissected stimulus class at the first seed."""
    stimulus = MECHANISMS["cnns"]["stimuli"][0]
    return fitted_cnn(wildcards.experiment, stimulus, mechanism_seeds()[0])


def mechanism_model(wildcards):
    """The CNN a mechanism job dissects: a trained one, or a control."""
    if wildcards.stimulus == TRAINED:
        return f"results/mechanisms/{wildcards.experiment}/{TRAINED}/seed{wildcards.seed}/model.pt"
    if wildcards.stimulus in CONTROLS:
        return (
            f"results/mechanisms/{wildcards.experiment}/{wildcards.stimulus}/model.pt"
        )
    return fitted_cnn(wildcards.experiment, wildcards.stimulus, wildcards.seed)


def mechanism_null_model(wildcards):
    """The null model of a fitted CNN's phenomena: the LN model of the same data and seed."""
    if wildcards.stimulus in CONTROLS or "ln" not in config["retina"]["fit"]:
        return []
    return f"results/retina/{wildcards.experiment}/{wildcards.stimulus}/models/ln/seed{wildcards.seed}/model.pt"


def mechanism_files(kind, prefix=""):
    """{name: path} of one stage's per-phenomenon netCDF files (wildcards left in)."""
    return {f"{prefix}{p}": f"{MECHANISM_RUN}/{kind}/{p}.nc" for p in PHENOMENA}


def mechanism_truth_params():
    """The simulator's parameters, or None when the data are not simulated (no ground truth)."""
    return config["data"]["simulated"]["retina"] if GROUND_TRUTH else None


def mechanism_elements(wildcards):
    """{phenomenon: element} of the element nulls, computed in the circuit control's run."""
    return MECHANISMS["element_nulls"] if wildcards.stimulus == CONTROL else {}


def mechanism_truth_seed(wildcards):
    return experiment_seed(wildcards.experiment) if GROUND_TRUTH else None


def mechanism_targets():
    """Figures of every dissected CNN and the tables over all of them."""
    if not mechanism_runs():
        return []
    figures = [
        f"results/mechanisms/{experiment}/{stimulus}/seed{seed}/figures/{name}.png"
        for experiment, stimulus, seed in mechanism_runs()
        if stimulus
        in (CONTROL, *MECHANISMS["cnns"]["stimuli"])  # the other controls: tables
        for name in PHENOMENA + MECHANISM_FIGURES
    ]
    power = ["results/mechanisms/power_curve.png"] if CONTROLS else []
    return (
        figures
        + power
        + [f"results/mechanisms/{table}.csv" for table in MECHANISM_TABLES]
    )
