# Factorisation branch settings and input functions (its rules are in rules/factorisation.smk).

FACTORISATION = config["factorisation"]
FACT_DIR = "results/factorisation"
FACT_FIGURES = {
    "overlap2": ("overlap_order2", "overlap vs SNR, order 2"),
    "overlap3": ("overlap_order3", "overlap vs SNR, order 3"),
    "phase": ("phase_diagram", "phase diagram"),
    "amp_als": ("amp_vs_als", "AMP vs ALS"),
    "cnmf": ("cnmf_loss_time", "CNMF loss vs time"),
}


def factorisation_targets():
    return [f"{FACT_DIR}/figures/{name}.png" for name, _ in FACT_FIGURES.values()] + [
        f"{FACT_DIR}/summary.csv"
    ]
