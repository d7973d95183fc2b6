# Learning-dynamics branch settings and targets (its rules are in rules/learning_dynamics.smk).

LEARNDYN = config["learning_dynamics"]
LEARNDYN_DIR = "results/learning_dynamics"
LEARNDYN_SEMANTIC = ("decoupled", "hierarchy", "random_tree")
LEARNDYN_TEACHER = ("curves", "spectra", "widths", "transfer")
# Figure name -> its label in the report (captions: report/learning_dynamics_<name>.rst).
LEARNDYN_FIGURES = {
    "mode_trajectories": "mode strengths against s(t)",
    "hierarchy": "hierarchical domain: similarity, illusory correlation, stages",
    "relu": "ReLU network against the linear theory",
    "random_tree": "random tree: modes and typicality",
    "teacher_curves": "training and test error against time",
    "spectra": "noisy singular values and Marchenko-Pastur",
    "width": "early-stopped test error against width",
    "transfer": "transfer benefit against alignment",
}


def learning_dynamics_targets():
    return [f"{LEARNDYN_DIR}/claims.csv"] + [
        f"{LEARNDYN_DIR}/figures/{name}.png" for name in LEARNDYN_FIGURES
    ]
