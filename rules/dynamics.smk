# Dynamics branch: a population of task-trained RNNs (Maheswaranathan et al. 2019), their fixed
# points, and the geometry and topology of the population. `snakemake dynamics` runs all of it.
# Settings and input functions: rules/dynamics_common.smk. Grid cells have their own file.


include: "dynamics_common.smk"
include: "dynamics_gridcells.smk"


rule dynamics:
    input:
        dynamics_targets(),
        grid_cells_targets(),


rule train_dynamics:
    input:
        code=code("scripts/dynamics/train.py"),
    output:
        model="results/dynamics/{dyn_task}/models/chunk{chunk}.pt",
        history="results/dynamics/{dyn_task}/models/chunk{chunk}_history.nc",
    log:
        "results/logs/dynamics/train/{dyn_task}_chunk{chunk}.log",
    benchmark:
        "results/benchmarks/dynamics/train/{dyn_task}_chunk{chunk}.tsv"
    wildcard_constraints:
        dyn_task="flipflop|sine|context",
        chunk=r"\d+",
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        networks=dynamics_networks,
        task=lambda wildcards: DYNAMICS["task_params"][wildcards.dyn_task],
        train=DYNAMICS["train"],
        checkpoint="results/dynamics/{dyn_task}/models/chunk{chunk}_checkpoint.pt",
    script:
        "../scripts/dynamics/train.py"


rule dynamics_fixed_points:
    input:
        model="results/dynamics/{dyn_task}/models/chunk{chunk}.pt",
        code=code("scripts/dynamics/fixed_points.py"),
    output:
        "results/dynamics/{dyn_task}/fixed_points/chunk{chunk}.nc",
    log:
        "results/logs/dynamics/fixed_points/{dyn_task}_chunk{chunk}.log",
    benchmark:
        "results/benchmarks/dynamics/fixed_points/{dyn_task}_chunk{chunk}.tsv"
    wildcard_constraints:
        dyn_task="flipflop|sine|context",
        chunk=r"\d+",
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        fixed_points=DYNAMICS["fixed_points"],
        topology=DYNAMICS["topology"],
    script:
        "../scripts/dynamics/fixed_points.py"


rule dynamics_geometry:
    input:
        models=dynamics_all_chunk_files("models"),
        code=code("scripts/dynamics/geometry.py"),
    output:
        expand("results/dynamics/{task}/geometry.nc", task=DYNAMICS["tasks"]),
    log:
        "results/logs/dynamics/geometry.log",
    benchmark:
        "results/benchmarks/dynamics/geometry.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        models={
            task: dynamics_chunk_files("models", task) for task in DYNAMICS["tasks"]
        },
        similarity=DYNAMICS["similarity"],
    script:
        "../scripts/dynamics/geometry.py"


rule dynamics_population:
    input:
        fixed_points=dynamics_all_chunk_files("fixed_points"),
        geometry=expand("results/dynamics/{task}/geometry.nc", task=DYNAMICS["tasks"]),
        code=code("scripts/dynamics/population.py"),
    output:
        topology="results/dynamics/topology.nc",
        summary=report(
            "results/dynamics/summary.csv",
            caption="../report/dynamics_summary.rst",
            category="Dynamics",
            labels={"table": "population summary"},
        ),
        claims=report(
            "results/dynamics/claims.csv",
            caption="../report/dynamics_claims.rst",
            category="Dynamics",
            labels={"table": "claims, decided by intervals over tasks or networks"},
        ),
    log:
        "results/logs/dynamics/population.log",
    benchmark:
        "results/benchmarks/dynamics/population.tsv"
    conda:
        ENV
    params:
        topology=DYNAMICS["topology"],
        tasks=DYNAMICS["tasks"],
        flipflop_bits=DYNAMICS["task_params"].get("flipflop", {}).get("bits"),
    script:
        "../scripts/dynamics/population.py"


rule dynamics_dsa:
    input:
        models=dynamics_all_chunk_files("models"),
        geometry=expand("results/dynamics/{task}/geometry.nc", task=DYNAMICS["tasks"]),
        topology="results/dynamics/topology.nc",
        code=code("scripts/dynamics/dsa.py"),
    output:
        dsa="results/dynamics/dsa.nc",
        table=report(
            "results/dynamics/dsa_separation.csv",
            caption="../report/dynamics_dsa_table.rst",
            category="Dynamics",
            labels={"table": "DSA against geometry and topology"},
        ),
        figure=report(
            "results/dynamics/figures/dsa.png",
            caption="../report/dynamics_dsa.rst",
            category="Dynamics",
            labels={"figure": "dynamical similarity (DSA)"},
        ),
    log:
        "results/logs/dynamics/dsa.log",
    benchmark:
        "results/benchmarks/dynamics/dsa.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        models={
            task: dynamics_chunk_files("models", task) for task in DYNAMICS["tasks"]
        },
        similarity=DYNAMICS["similarity"],
        dsa=DYNAMICS["dsa"],
    script:
        "../scripts/dynamics/dsa.py"


rule plot_dynamics:
    input:
        histories=dynamics_all_chunk_files("history"),
        models=dynamics_all_chunk_files("models"),
        fixed_points=dynamics_all_chunk_files("fixed_points"),
        geometry=expand("results/dynamics/{task}/geometry.nc", task=DYNAMICS["tasks"]),
        topology="results/dynamics/topology.nc",
        code=code("scripts/dynamics/plot.py"),
    output:
        **dynamics_figures(),
    log:
        "results/logs/dynamics/plots.log",
    benchmark:
        "results/benchmarks/dynamics/plots.tsv"
    conda:
        ENV
    params:
        fixed_points=DYNAMICS["fixed_points"],
        topology=DYNAMICS["topology"],
    script:
        "../scripts/dynamics/plot.py"
