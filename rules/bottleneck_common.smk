# Bottleneck branch helpers (rules/bottleneck.smk): settings, targets and the sweep.

BOTTLENECK = config["bottleneck"]
# Figure name -> its label in the report (captions: report/bottleneck_<name>.rst).
BOTTLENECK_FIGURES = {
    "receptive_fields": "example receptive fields across bottleneck widths",
    "indices": "orientedness and centre-surround index against bottleneck width",
    "linearity": "linearity and separability of the retinal output against ventral depth",
}


def bottleneck_targets():
    return ["results/bottleneck/summary.csv"] + [
        f"results/bottleneck/figures/{name}.png" for name in BOTTLENECK_FIGURES
    ]


def bottleneck_runs():
    """The (d_vvs, seed) networks that one bottleneck width's job trains, in output order."""
    sweep = BOTTLENECK["sweep"]
    return [[d, s] for d in sweep["d_vvs"] for s in sweep["seeds"]]


def bottleneck_models(wildcards):
    return [
        f"results/bottleneck/models/nbn{wildcards.n_bn}/dvvs{d}_seed{s}.pt"
        for d, s in bottleneck_runs()
    ]
