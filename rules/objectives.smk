# Which objective shapes the ventral stream (issue 29; Yerxa et al. 2023, Ligeralde et al. 2023):
# the IT branch's CNN trained by MMCR, SimCLR and cross-entropy on its rendered images, and
# pre-trained on simulated retinal waves (and shuffled waves); every network measured by probe,
# V4/IT predictivity, manifold geometry, translation invariance and PGD. `snakemake objectives`
# runs it. Five jobs; every network of a source trains in one. Settings: rules/objectives_common.smk.


include: "objectives_common.smk"


rule objectives:
    input:
        objectives_targets(),


rule objectives_waves:
    input:
        code=code("scripts/objectives/waves.py"),
    output:
        f"{OBJECTIVES_DIR}/waves.nc",
    log:
        "results/logs/objectives/waves.log",
    benchmark:
        "results/benchmarks/objectives/waves.tsv"
    conda:
        ENV
    params:
        waves=OBJECTIVES["waves"],
        seeds=OBJECTIVES["seeds"],
        size=config["it"]["image_size"],
    script:
        "../scripts/objectives/waves.py"


rule train_objectives:
    input:
        data=lambda wildcards: {
            "images": "results/it/task_images.nc",
            "waves": f"{OBJECTIVES_DIR}/waves.nc",
        }[wildcards.source],
        code=code("scripts/objectives/train.py"),
    output:
        f"{OBJECTIVES_DIR}/models/{{source}}.pt",
    log:
        "results/logs/objectives/train_{source}.log",
    benchmark:
        "results/benchmarks/objectives/train_{source}.tsv"
    wildcard_constraints:
        source="images|waves",
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        settings=OBJECTIVES_TRAINING,
        checkpoints=f"{OBJECTIVES_DIR}/models/checkpoints_{{source}}",
    script:
        "../scripts/objectives/train.py"


rule objectives_measures:
    input:
        images=f"{OBJECTIVES_DIR}/models/images.pt",
        waves=f"{OBJECTIVES_DIR}/models/waves.pt",
        task="results/it/task_images.nc",
        neural="results/it/neural.nc",
        stimuli_csv=f"{IT_DIR}/{IT_FILES['stimuli_csv']}",
        stimuli_zip=f"{IT_DIR}/{IT_FILES['stimuli_zip']}",
        code=code("scripts/objectives/measures.py"),
    output:
        f"{OBJECTIVES_DIR}/measures.nc",
    log:
        "results/logs/objectives/measures.log",
    benchmark:
        "results/benchmarks/objectives/measures.tsv"
    conda:
        ENV
    threads: 1
    params:
        settings=OBJECTIVES,
        size=config["it"]["image_size"],
    script:
        "../scripts/objectives/measures.py"


rule objectives_summary:
    input:
        measures=f"{OBJECTIVES_DIR}/measures.nc",
        waves=f"{OBJECTIVES_DIR}/waves.nc",
        code=code("scripts/objectives/summary.py"),
    output:
        **{
            name: report(
                f"{OBJECTIVES_DIR}/figures/{name}.png",
                caption=f"../report/objectives_{name}.rst",
                category="Objectives",
                labels={"figure": label},
            )
            for name, label in OBJECTIVES_FIGURES.items()
        },
        claims=report(
            f"{OBJECTIVES_DIR}/claims.csv",
            caption="../report/objectives_claims.rst",
            category="Objectives",
            labels={"table": "claims with intervals over training seeds"},
        ),
        measures=report(
            f"{OBJECTIVES_DIR}/measures.csv",
            caption="../report/objectives_measures.rst",
            category="Objectives",
            labels={
                "table": "every measure per objective and layer, intervals over seeds"
            },
        ),
    log:
        "results/logs/objectives/summary.log",
    benchmark:
        "results/benchmarks/objectives/summary.tsv"
    conda:
        ENV
    params:
        settings=OBJECTIVES,
    script:
        "../scripts/objectives/summary.py"
