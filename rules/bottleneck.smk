# Retinal bottleneck branch (issue 19, Lindsey, Ocko, Ganguli & Deny 2019): networks with a retina,
# an optic nerve of N_BN channels and a ventral stream of D_VVS conv layers, trained on the IT
# renderer's objects; receptive fields by gradient and by the retina branch's STA code, against the
# simulated retina's ganglion cells. `snakemake bottleneck` runs it. One training and one probing
# job per bottleneck width (all its depths and seeds). Settings: rules/bottleneck_common.smk.


include: "bottleneck_common.smk"


wildcard_constraints:
    n_bn=r"\d+",


rule bottleneck:
    input:
        bottleneck_targets(),


rule bottleneck_images:
    input:
        code=code("scripts/bottleneck/images.py"),
    output:
        "results/bottleneck/images.nc",
    log:
        "results/logs/bottleneck/images.log",
    benchmark:
        "results/benchmarks/bottleneck/images.tsv"
    conda:
        ENV
    params:
        images=BOTTLENECK["images"],
    script:
        "../scripts/bottleneck/images.py"


rule train_bottleneck:
    input:
        images="results/bottleneck/images.nc",
        code=code("scripts/bottleneck/train.py"),
    output:
        [
            f"results/bottleneck/models/nbn{{n_bn}}/dvvs{d}_seed{s}.pt"
            for d, s in bottleneck_runs()
        ],
    log:
        "results/logs/bottleneck/train_nbn{n_bn}.log",
    benchmark:
        "results/benchmarks/bottleneck/train_nbn{n_bn}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        runs=bottleneck_runs(),
        checkpoints=[
            f"results/bottleneck/models/nbn{{n_bn}}/dvvs{d}_seed{s}.checkpoint.pt"
            for d, s in bottleneck_runs()
        ],
        model=BOTTLENECK["model"],
        train=BOTTLENECK["train"],
    script:
        "../scripts/bottleneck/train.py"


rule bottleneck_probe:
    input:
        images="results/bottleneck/images.nc",
        models=bottleneck_models,
        code=code("scripts/bottleneck/probe.py"),
    output:
        "results/bottleneck/probes/nbn{n_bn}.nc",
    log:
        "results/logs/bottleneck/probe_nbn{n_bn}.log",
    benchmark:
        "results/benchmarks/bottleneck/probe_nbn{n_bn}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        runs=bottleneck_runs(),
        probe=BOTTLENECK["probe"],
    script:
        "../scripts/bottleneck/probe.py"


rule bottleneck_reference:
    input:
        code=code("scripts/bottleneck/reference.py"),
    output:
        "results/bottleneck/reference.nc",
    log:
        "results/logs/bottleneck/reference.log",
    benchmark:
        "results/benchmarks/bottleneck/reference.tsv"
    conda:
        ENV
    params:
        retina=config["data"]["simulated"]["retina"],
        reference=BOTTLENECK["reference"],
    script:
        "../scripts/bottleneck/reference.py"


rule bottleneck_summary:
    input:
        probes=expand(
            "results/bottleneck/probes/nbn{n_bn}.nc", n_bn=BOTTLENECK["sweep"]["n_bn"]
        ),
        reference="results/bottleneck/reference.nc",
        code=code("scripts/bottleneck/summary.py"),
    output:
        measures="results/bottleneck/measures.nc",
        reference="results/bottleneck/reference_indices.nc",
        trends="results/bottleneck/trends.json",
        table=report(
            "results/bottleneck/summary.csv",
            caption="../report/bottleneck_summary.rst",
            category="Bottleneck",
            labels={
                "table": "indices, linearity and separability per width, depth and stage"
            },
        ),
        claims=report(
            "results/bottleneck/claims.csv",
            caption="../report/bottleneck_claims.rst",
            category="Bottleneck",
            labels={"table": "claims, decided by intervals over seeds"},
        ),
    log:
        "results/logs/bottleneck/summary.log",
    benchmark:
        "results/benchmarks/bottleneck/summary.tsv"
    conda:
        ENV
    script:
        "../scripts/bottleneck/summary.py"


rule plot_bottleneck:
    input:
        measures="results/bottleneck/measures.nc",
        reference="results/bottleneck/reference_indices.nc",
        table="results/bottleneck/summary.csv",
        code=code("scripts/bottleneck/plot.py"),
    output:
        **{
            name: report(
                f"results/bottleneck/figures/{name}.png",
                caption=f"../report/bottleneck_{name}.rst",
                category="Bottleneck",
                labels={"figure": label},
            )
            for name, label in BOTTLENECK_FIGURES.items()
        },
    log:
        "results/logs/bottleneck/plots.log",
    benchmark:
        "results/benchmarks/bottleneck/plots.tsv"
    conda:
        ENV
    script:
        "../scripts/bottleneck/plot.py"
