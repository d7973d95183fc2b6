# Learning rules without weight transport (issue 27; Kunin et al. 2020) on the IT branch's task and
# CNN, scored against V4/IT with the IT branch's protocol, and the loss landscape of the trained
# networks (Fort & Ganguli 2019). `snakemake learning_rules` runs it. Every rule x seed of the
# population trains in one job; each sweep (config/reference.yaml) in one more.
# Settings: rules/learning_rules_common.smk.


include: "learning_rules_common.smk"


rule learning_rules:
    input:
        learning_rules_targets(),


rule train_learning_rules:
    input:
        images="results/it/task_images.nc",
        code=code("scripts/learning_rules/train.py"),
    output:
        curves="results/learning_rules/train/population.nc",
        models=[lr_model(variant, seed) for variant, seed in lr_population()],
    log:
        "results/logs/learning_rules/train_population.log",
    benchmark:
        "results/benchmarks/learning_rules/train_population.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        variants=lr_group_variants("population"),
        seeds=LEARNING_RULES["seeds"],
        train=LEARNING_RULES["train"],
        checkpoints="results/learning_rules/train/checkpoints_population",
    script:
        "../scripts/learning_rules/train.py"


rule train_learning_rules_sweep:
    input:
        images="results/it/task_images.nc",
        code=code("scripts/learning_rules/train.py"),
    output:
        curves="results/learning_rules/train/{lr_group}.nc",
    log:
        "results/logs/learning_rules/train_{lr_group}.log",
    benchmark:
        "results/benchmarks/learning_rules/train_{lr_group}.tsv"
    wildcard_constraints:
        lr_group="depth|grid|noise",
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        variants=lambda wildcards: lr_group_variants(wildcards.lr_group),
        seeds=LEARNING_RULES["seeds"],
        train=LEARNING_RULES["train"],
        checkpoints="results/learning_rules/train/checkpoints_{lr_group}",
    script:
        "../scripts/learning_rules/train.py"


rule learning_rules_predictivity:
    input:
        models=[lr_model(variant, seed) for variant, seed in lr_population()],
        neural="results/it/neural.nc",
        images="results/it/task_images.nc",
        stimuli_csv=f"{IT_DIR}/{IT_FILES['stimuli_csv']}",
        stimuli_zip=f"{IT_DIR}/{IT_FILES['stimuli_zip']}",
        code=code("scripts/learning_rules/predictivity.py"),
    output:
        "results/learning_rules/predictivity.nc",
    log:
        "results/logs/learning_rules/predictivity.log",
    benchmark:
        "results/benchmarks/learning_rules/predictivity.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        runs=lr_population(),
        layers=LEARNING_RULES["score"]["layers"],
        preprocessing=it_preprocessing(),
        score=IT["score"],
    script:
        "../scripts/learning_rules/predictivity.py"


rule learning_rules_hessian:
    input:
        models=[lr_model(rule, seed) for rule, seed in lr_hessian_runs()],
        images="results/it/task_images.nc",
        code=code("scripts/learning_rules/hessian.py"),
    output:
        "results/learning_rules/hessian.nc",
    log:
        "results/logs/learning_rules/hessian.log",
    benchmark:
        "results/benchmarks/learning_rules/hessian.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        runs=lr_hessian_runs(),
        settings=LEARNING_RULES["hessian"],
    script:
        "../scripts/learning_rules/hessian.py"


rule learning_rules_summary:
    input:
        **lr_summary_inputs(),
        curves="results/learning_rules/train/population.nc",
        predictivity="results/learning_rules/predictivity.nc",
        hessian="results/learning_rules/hessian.nc",
        code=code("scripts/learning_rules/summary.py"),
    output:
        **{
            name: report(
                f"results/learning_rules/figures/{name}.png",
                caption=f"../report/learning_rules_{name}.rst",
                category="learning rules",
                labels={"figure": label},
            )
            for name, label in LEARNING_RULES_FIGURES.items()
        },
        claims=report(
            "results/learning_rules/claims.csv",
            caption="../report/learning_rules_claims.rst",
            category="learning rules",
            labels={"table": "Kunin et al.'s and Fort & Ganguli's claims, measured"},
        ),
        table="results/learning_rules/summary.csv",
        population="results/learning_rules/population.csv",
        hessian_table="results/learning_rules/hessian.csv",
    log:
        "results/logs/learning_rules/summary.log",
    benchmark:
        "results/benchmarks/learning_rules/summary.tsv"
    conda:
        ENV
    params:
        claims=LEARNING_RULES["claims"],
    script:
        "../scripts/learning_rules/summary.py"
