# Objectives branch helpers (rules/objectives.smk): settings, targets and figures.

OBJECTIVES = config["objectives"]
OBJECTIVES_DIR = "results/objectives"
# The settings the trainers read: a change to the measures' settings does not retrain.
OBJECTIVES_TRAINING = {
    key: OBJECTIVES[key]
    for key in (
        "seeds",
        "model",
        "fit",
        "embed_dim",
        "views",
        "augment",
        "train",
        "waves",
    )
}
# Figure name -> its label in the report (captions: report/objectives_<name>.rst).
OBJECTIVES_FIGURES = {
    "capacity_predictivity": "category capacity, probe accuracy and V4/IT predictivity per objective and layer",
    "robustness": "accuracy under PGD against the attack budget per objective",
    "wave_translation": "translation capacity and invariance: waves against random init and shuffled waves",
    "wave_strip": "frames of a simulated retinal-wave movie",
}


def objectives_targets():
    return [f"{OBJECTIVES_DIR}/claims.csv", f"{OBJECTIVES_DIR}/measures.csv"] + [
        f"{OBJECTIVES_DIR}/figures/{name}.png" for name in OBJECTIVES_FIGURES
    ]
