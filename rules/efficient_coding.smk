# Efficient coding of natural movies and retinal cell types (issue 28, Ocko, Lindsey, Ganguli &
# Deny 2018): the rendered movies' spectrum, the water-filling optimum of one and two mosaics under
# a firing budget, encoders trained to it (linear and rectified), against the simulated retina's
# own ganglion types. `snakemake efficient_coding` runs it. Four jobs; every trained encoder of
# every seed is stacked in one. Settings: rules/efficient_coding_common.smk.


include: "efficient_coding_common.smk"


rule efficient_coding:
    input:
        efficient_coding_targets(),


rule efficient_coding_theory:
    input:
        code=code("scripts/efficient_coding/theory.py"),
    output:
        "results/efficient_coding/theory.nc",
    log:
        "results/logs/efficient_coding/theory.log",
    benchmark:
        "results/benchmarks/efficient_coding/theory.tsv"
    conda:
        ENV
    params:
        settings=EFFICIENT_CODING,
        retina=config["data"]["simulated"]["retina"],
    script:
        "../scripts/efficient_coding/theory.py"


rule train_efficient_coding:
    input:
        code=code("scripts/efficient_coding/train.py"),
    output:
        "results/efficient_coding/trained.nc",
    log:
        "results/logs/efficient_coding/train.log",
    benchmark:
        "results/benchmarks/efficient_coding/train.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        settings=EFFICIENT_CODING,
        retina=config["data"]["simulated"]["retina"],
        checkpoints="results/efficient_coding/checkpoints",
    script:
        "../scripts/efficient_coding/train.py"


rule efficient_coding_retina:
    input:
        code=code("scripts/efficient_coding/retina_types.py"),
    output:
        "results/efficient_coding/retina_types.nc",
    log:
        "results/logs/efficient_coding/retina_types.log",
    benchmark:
        "results/benchmarks/efficient_coding/retina_types.tsv"
    conda:
        ENV
    params:
        retina=config["data"]["simulated"]["retina"],
        settings=EFFICIENT_CODING["retina"],
    script:
        "../scripts/efficient_coding/retina_types.py"


rule efficient_coding_summary:
    input:
        theory="results/efficient_coding/theory.nc",
        trained="results/efficient_coding/trained.nc",
        retina="results/efficient_coding/retina_types.nc",
        code=code("scripts/efficient_coding/summary.py"),
    output:
        **{
            name: report(
                f"results/efficient_coding/figures/{name}.png",
                caption=f"../report/efficient_coding_{name}.rst",
                category="Efficient coding",
                labels={"figure": label},
            )
            for name, label in EFFICIENT_CODING_FIGURES.items()
        },
        claims=report(
            "results/efficient_coding/claims.csv",
            caption="../report/efficient_coding_claims.rst",
            category="Efficient coding",
            labels={"table": "claims with intervals over movie seeds"},
        ),
        types=report(
            "results/efficient_coding/types.csv",
            caption="../report/efficient_coding_types.rst",
            category="Efficient coding",
            labels={
                "table": "learned types against the simulated retina's ganglion types"
            },
        ),
    log:
        "results/logs/efficient_coding/summary.log",
    benchmark:
        "results/benchmarks/efficient_coding/summary.tsv"
    conda:
        ENV
    script:
        "../scripts/efficient_coding/summary.py"
