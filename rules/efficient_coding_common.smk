# Efficient-coding branch helpers (rules/efficient_coding.smk): settings, targets and figures.

EFFICIENT_CODING = config["efficient_coding"]
# Figure name -> its label in the report (captions: report/efficient_coding_<name>.rst).
EFFICIENT_CODING_FIGURES = {
    "spectrum": "space-time power spectrum of the natural movies and its 1/(k^a w^b) fit",
    "error_budget": "reconstruction error against budget, one and two types, theory and trained",
    "filters": "the trained pair's filters in space and time",
    "type_ratio": "fine cells per coarse cell against budget and spectral slope",
}


def efficient_coding_targets():
    return [
        "results/efficient_coding/claims.csv",
        "results/efficient_coding/types.csv",
    ] + [
        f"results/efficient_coding/figures/{name}.png"
        for name in EFFICIENT_CODING_FIGURES
    ]
