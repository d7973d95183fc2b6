# Learning-rules branch helpers (rules/learning_rules.smk): settings, the networks, targets.

from insilico.learning_rules.variants import variants as learning_rules_variants

LEARNING_RULES = config["learning_rules"]
LR_VARIANTS = learning_rules_variants(LEARNING_RULES)
LR_GROUPS = sorted({v["group"] for v in LR_VARIANTS} - {"population"})
# Figure name -> its label in the report (captions: report/learning_rules_<name>.rst); depth and
# grid only when their sweeps run (config/reference.yaml).
LEARNING_RULES_FIGURES = {
    "accuracy": "held-out test accuracy per learning rule",
    "predictivity": "V4 and IT predictivity against task accuracy per rule",
    "hessian": "top Hessian eigenvalues with the C-outlier line",
    **(
        {"depth": "test accuracy against depth per rule"}
        if "depth" in LR_GROUPS
        else {}
    ),
    **({"grid": "accuracy over the metaparameter grid"} if "grid" in LR_GROUPS else {}),
}


def lr_population():
    """(variant, seed) of every network of the population, in the order its files are listed."""
    return [
        (v["name"], seed)
        for v in LR_VARIANTS
        if v["group"] == "population"
        for seed in LEARNING_RULES["seeds"]
    ]


def lr_model(variant, seed):
    return f"results/learning_rules/models/{variant}/seed{seed}/model.pt"


def lr_group_variants(group):
    return [v for v in LR_VARIANTS if v["group"] == group]


def lr_hessian_runs():
    return [
        (rule, seed)
        for rule in LEARNING_RULES["hessian"]["rules"]
        for seed in LEARNING_RULES["seeds"]
    ]


def lr_summary_inputs():
    """The sweeps' curves (config/reference.yaml), by group."""
    return {group: f"results/learning_rules/train/{group}.nc" for group in LR_GROUPS}


def learning_rules_targets():
    return [
        "results/learning_rules/claims.csv",
        "results/learning_rules/summary.csv",
    ] + [
        f"results/learning_rules/figures/{name}.png" for name in LEARNING_RULES_FIGURES
    ]
