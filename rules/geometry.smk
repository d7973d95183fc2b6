# Geometry branch (issue 16): replica manifold capacity (Chung et al. 2018; Cohen et al. 2020) and
# the spectral theory of ridge prediction (Canatar et al. 2023) for every layer the IT branch caches
# and for the V4/IT recordings, with theory checked against simulation. `snakemake geometry` runs it.
# Reads the IT branch's files only (activations, neural targets, scores); no job imports torch.
# Settings and input functions: rules/geometry_common.smk.


include: "geometry_common.smk"


rule geometry:
    input:
        geometry_targets(),


rule geometry_layers:
    input:
        neural="results/it/neural.nc",
        activations=it_activation_inputs,
        code=code("scripts/geometry/layers.py"),
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
        geometry=geometry_analysis_params(),
        score=IT["score"],
    script:
        "../scripts/geometry/layers.py"


rule geometry_neural:
    input:
        neural="results/it/neural.nc",
        code=code("scripts/geometry/neural.py"),
    output:
        "results/geometry/neural.nc",
    log:
        "results/logs/geometry/neural.log",
    benchmark:
        "results/benchmarks/geometry/neural.tsv"
    conda:
        ENV
    params:
        geometry=geometry_analysis_params(),
        score=IT["score"],
    script:
        "../scripts/geometry/neural.py"


rule geometry_simulation:
    input:
        neural="results/it/neural.nc",
        activations=geometry_simulation_activations(),
        code=code("scripts/geometry/simulation.py"),
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
        "../scripts/geometry/simulation.py"


rule geometry_summary:
    input:
        runs=[
            f"results/geometry/layers/{model}/{state}/seed{seed}.nc"
            for model, state, seed in it_runs()
        ],
        neural="results/geometry/neural.nc",
        scores="results/it/scores.nc",
        code=code("scripts/geometry/summary.py"),
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
        "../scripts/geometry/summary.py"


rule plot_geometry:
    input:
        geometry="results/geometry/geometry.nc",
        neural="results/geometry/neural.nc",
        table="results/geometry/summary.csv",
        trends="results/geometry/trends.json",
        simulation="results/geometry/simulation.nc",
        code=code("scripts/geometry/plot.py"),
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
        "../scripts/geometry/plot.py"
