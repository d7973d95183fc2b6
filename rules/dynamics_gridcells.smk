# Grid cells from path integration (Sorscher, Mel, Ganguli & Ocko 2019), part of the dynamics
# branch: the pattern-formation theory, a sweep of path-integrating RNNs, their rate maps and grid
# scores. `snakemake grid_cells` runs all of it.


include: "dynamics_gridcells_common.smk"


rule grid_cells:
    input:
        grid_cells_targets(),


rule grid_cells_theory:
    input:
        code=code("scripts/dynamics/grid_cells_theory.py"),
    output:
        f"{GRID_DIR}/theory.nc",
    log:
        "results/logs/dynamics/grid_cells/theory.log",
    benchmark:
        "results/benchmarks/dynamics/grid_cells/theory.tsv"
    conda:
        ENV
    params:
        grid=GRID,
    script:
        "../scripts/dynamics/grid_cells_theory.py"


rule grid_cells_train:
    input:
        code=code("scripts/dynamics/grid_cells_train.py"),
    output:
        model=f"{GRID_DIR}/models/chunk{{chunk}}.pt",
        maps=f"{GRID_DIR}/maps/chunk{{chunk}}.nc",
    log:
        "results/logs/dynamics/grid_cells/train_chunk{chunk}.log",
    benchmark:
        "results/benchmarks/dynamics/grid_cells/train_chunk{chunk}.tsv"
    wildcard_constraints:
        chunk=r"\d+",
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        networks=lambda wildcards: [
            n.as_dict() for n in GRID_JOBS[int(wildcards.chunk)]
        ],
        grid=GRID,
        checkpoint=f"{GRID_DIR}/models/checkpoint_chunk{{chunk}}.pt",
    script:
        "../scripts/dynamics/grid_cells_train.py"


rule grid_cells_scores:
    input:
        maps=f"{GRID_DIR}/maps/chunk{{chunk}}.nc",
        code=code("scripts/dynamics/grid_cells_scores.py"),
    output:
        f"{GRID_DIR}/scores/chunk{{chunk}}.nc",
    log:
        "results/logs/dynamics/grid_cells/scores_chunk{chunk}.log",
    benchmark:
        "results/benchmarks/dynamics/grid_cells/scores_chunk{chunk}.tsv"
    wildcard_constraints:
        chunk=r"\d+",
    conda:
        ENV
    script:
        "../scripts/dynamics/grid_cells_scores.py"


rule grid_cells_summary:
    input:
        maps=grid_chunk_files("maps"),
        scores=grid_chunk_files("scores"),
        theory=f"{GRID_DIR}/theory.nc",
        code=code("scripts/dynamics/grid_cells_summary.py"),
    output:
        table=report(
            f"{GRID_DIR}/summary.csv",
            caption="../report/dynamics_grid_cells_summary.rst",
            category="Dynamics",
            subcategory="Grid cells",
            labels={"table": "grid-cell population"},
        ),
        headline=f"{GRID_DIR}/headline.json",
        claims=report(
            f"{GRID_DIR}/claims.csv",
            caption="../report/dynamics_grid_cells_claims.rst",
            category="Dynamics",
            subcategory="Grid cells",
            labels={"table": "grid-cell claims, decided by intervals"},
        ),
    log:
        "results/logs/dynamics/grid_cells/summary.log",
    benchmark:
        "results/benchmarks/dynamics/grid_cells/summary.tsv"
    conda:
        ENV
    params:
        grid=GRID,
    script:
        "../scripts/dynamics/grid_cells_summary.py"


rule grid_cells_figures:
    input:
        maps=grid_chunk_files("maps"),
        scores=grid_chunk_files("scores"),
        theory=f"{GRID_DIR}/theory.nc",
        table=f"{GRID_DIR}/summary.csv",
        code=code("scripts/dynamics/grid_cells_figures.py"),
    output:
        **grid_figures(),
    log:
        "results/logs/dynamics/grid_cells/figures.log",
    benchmark:
        "results/benchmarks/dynamics/grid_cells/figures.tsv"
    conda:
        ENV
    params:
        grid=GRID,
    script:
        "../scripts/dynamics/grid_cells_figures.py"
