# Geometry branch (issue 16): replica manifold capacity (Chung et al. 2018; Cohen et al. 2020) and
# the spectral theory of ridge prediction (Canatar et al. 2023) for every layer the IT branch caches
# and for the V4/IT recordings, with theory checked against simulation. `snakemake geometry` runs it.
# Reads the IT branch's files only (activations, neural targets, scores); imports no torch.

GEOMETRY = config["geometry"]
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


def geometry_simulation_activations():
    sim = GEOMETRY["simulation"]
    if sim["model"] not in IT["fit"] or sim["layer"] not in it_layers(sim["model"]):
        raise ValueError(
            f"geometry.simulation: {sim['model']}/{sim['layer']} is not a scored layer of it.fit"
        )
    return (
        f"results/it/activations/{IT_PREP}/{sim['model']}/{sim['state']}/seed{IT['seeds'][0]}"
        f"/{sim['layer']}.nc"
    )


rule geometry:
    input:
        geometry_targets(),


GEOMETRY_CODE = ["io", "logs", "geometry.layers", "geometry.capacity", "geometry.qp"]
GEOMETRY_SPECTRAL_CODE = [
    "geometry.spectral",
    "geometry.ridge",
    "analysis.predictivity",
]


rule geometry_layers:
    input:
        neural="results/it/neural.nc",
        activations=it_activation_inputs,
        code=code(*GEOMETRY_CODE, *GEOMETRY_SPECTRAL_CODE),
    output:
        "results/geometry/layers/{it_model}/{it_state}/seed{seed}.nc",
    log:
        "results/logs/geometry/layers/{it_model}_{it_state}_seed{seed}.log",
    benchmark:
        "results/benchmarks/geometry/layers/{it_model}_{it_state}_seed{seed}.tsv"
    conda:
        ENV
    threads: 1
    params:
        layers=lambda wildcards: it_layers(wildcards.it_model),
        geometry={key: GEOMETRY[key] for key in ("capacity", "spectral")},
        score=IT["score"],
    script:
        "../scripts/geometry/geometry_layers.py"


rule geometry_neural:
    input:
        neural="results/it/neural.nc",
        code=code(*GEOMETRY_CODE, *GEOMETRY_SPECTRAL_CODE),
    output:
        "results/geometry/neural.nc",
    log:
        "results/logs/geometry/neural.log",
    benchmark:
        "results/benchmarks/geometry/neural.tsv"
    conda:
        ENV
    params:
        geometry={key: GEOMETRY[key] for key in ("capacity", "spectral")},
        score=IT["score"],
    script:
        "../scripts/geometry/geometry_neural.py"


rule geometry_simulation:
    input:
        neural="results/it/neural.nc",
        activations=geometry_simulation_activations(),
        code=code(
            *GEOMETRY_CODE,
            *GEOMETRY_SPECTRAL_CODE,
            "geometry.separability",
            "geometry.simulation",
            "geometry.synthetic",
        ),
    output:
        "results/geometry/simulation.nc",
    log:
        "results/logs/geometry/simulation.log",
    benchmark:
        "results/benchmarks/geometry/simulation.tsv"
    conda:
        ENV
    params:
        simulation=GEOMETRY["simulation"],
        capacity=GEOMETRY["capacity"],
        label="{model} {state} {layer}, {max_manifolds} {manifold} manifolds".format(
            **GEOMETRY["simulation"]
        ),
    script:
        "../scripts/geometry/geometry_simulation.py"


rule geometry_summary:
    input:
        runs=[
            f"results/geometry/layers/{model}/{state}/seed{seed}.nc"
            for model, state, seed in it_runs()
        ],
        neural="results/geometry/neural.nc",
        scores="results/it/scores.nc",
        code=code("io", "logs", "geometry.summary", "geometry.layers"),
    output:
        geometry="results/geometry/geometry.nc",
        trends="results/geometry/trends.json",
        table=report(
            "results/geometry/summary.csv",
            caption="../report/geometry_summary.rst",
            category="Geometry",
            labels={"table": "capacity, radius, dimension and predictivity per layer"},
        ),
    log:
        "results/logs/geometry/summary.log",
    benchmark:
        "results/benchmarks/geometry/summary.tsv"
    conda:
        ENV
    params:
        runs=it_runs(),
    script:
        "../scripts/geometry/geometry_summary.py"


rule plot_geometry:
    input:
        geometry="results/geometry/geometry.nc",
        neural="results/geometry/neural.nc",
        table="results/geometry/summary.csv",
        trends="results/geometry/trends.json",
        simulation="results/geometry/simulation.nc",
        code=code("io", "logs", "geometry.plots", "geometry.layers"),
    output:
        **{
            name: report(
                f"results/geometry/figures/{name}.png",
                caption=f"../report/geometry_{name}.rst",
                category="Geometry",
                labels={"figure": label},
            )
            for name, label in GEOMETRY_FIGURES.items()
        },
    log:
        "results/logs/geometry/plots.log",
    benchmark:
        "results/benchmarks/geometry/plots.tsv"
    conda:
        ENV
    script:
        "../scripts/geometry/plot_geometry.py"
