# Geometry branch helpers (rules/geometry.smk): settings, targets and input functions.

GEOMETRY = config["geometry"]
# Figure name -> its label in the report (captions: report/geometry_<name>.rst).
GEOMETRY_FIGURES = {
    "layers": "capacity, radius and dimension against layer",
    "capacity_vs_predictivity": "capacity against IT predictivity",
    "learning_curves": "ridge learning curves, theory and empirical",
    "error_modes": "error-mode geometry against layer",
    "simulation": "replica capacity against simulated capacity",
}


def geometry_targets():
    return ["results/geometry/summary.csv"] + [
        f"results/geometry/figures/{name}.png" for name in GEOMETRY_FIGURES
    ]


def geometry_analysis_params():
    """The settings a layer's analysis depends on (not the simulation's: editing those must not
    rerun every layer)."""
    return {key: GEOMETRY[key] for key in ("capacity", "spectral")}


def geometry_simulation_activations():
    """The cached activations of the one layer whose capacity is also simulated."""
    sim = GEOMETRY["simulation"]
    if sim["model"] not in IT["fit"] or sim["layer"] not in it_layers(sim["model"]):
        raise ValueError(
            f"geometry.simulation: {sim['model']}/{sim['layer']} is not a scored layer of it.fit"
        )
    layers = it_activation_files(sim["model"], sim["state"], IT["seeds"][0])
    return layers[it_layers(sim["model"]).index(sim["layer"])]
