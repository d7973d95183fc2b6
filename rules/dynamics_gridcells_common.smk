# Helpers of the grid-cell rules (rules/dynamics_gridcells.smk): the population's jobs, the
# output paths and the figures.
from insilico.dynamics.gridcells.population import chunks, population

GRID = config["dynamics"]["grid_cells"]
GRID_JOBS = chunks(population(GRID), GRID["networks_per_job"])
GRID_DIR = "results/dynamics/grid_cells"
GRID_FIGURES = {
    "theory": "theory: spectrum, k*, pattern formation",
    "rate_maps": "rate maps of the most grid-like units",
    "gridness": "gridness distributions by activation",
    "sweep": "population sweep",
    "period": "grid period against theory",
}


def grid_chunk_files(kind, ext="nc"):
    return expand(
        f"{GRID_DIR}/{kind}/chunk{{chunk}}.{ext}", chunk=range(len(GRID_JOBS))
    )


def grid_cells_targets():
    """Plain paths: report() resolves captions against the file it is called from (the Snakefile)."""
    return [f"{GRID_DIR}/summary.csv"] + [
        f"{GRID_DIR}/figures/{name}.png" for name in GRID_FIGURES
    ]


def grid_figures():
    return {
        name: report(
            f"{GRID_DIR}/figures/{name}.png",
            caption=f"../report/dynamics_grid_cells_{name}.rst",
            category="Dynamics",
            subcategory="Grid cells",
            labels={"figure": label},
        )
        for name, label in GRID_FIGURES.items()
    }
