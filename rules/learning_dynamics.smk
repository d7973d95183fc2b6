# Learning-dynamics branch: exact theory of learning in deep linear networks against batched
# numpy simulations (Saxe, McClelland & Ganguli 2019; Lampinen & Ganguli 2019) and a ReLU check.
# `snakemake learning_dynamics` runs all of it in three jobs; none imports torch.
# Settings and targets: rules/learning_dynamics_common.smk.


include: "learning_dynamics_common.smk"


rule learning_dynamics:
    input:
        learning_dynamics_targets(),


rule learning_dynamics_semantic:
    input:
        code=code("scripts/learning_dynamics/semantic.py"),
    output:
        **{name: f"{LEARNDYN_DIR}/{name}.nc" for name in LEARNDYN_SEMANTIC},
    log:
        "results/logs/learning_dynamics/semantic.log",
    benchmark:
        "results/benchmarks/learning_dynamics/semantic.tsv"
    conda:
        ENV
    threads: 1
    params:
        cfg={key: LEARNDYN[key] for key in LEARNDYN_SEMANTIC},
        seed=LEARNDYN["seed"],
    script:
        "../scripts/learning_dynamics/semantic.py"


rule learning_dynamics_teacher:
    input:
        code=code("scripts/learning_dynamics/teacher.py"),
    output:
        **{name: f"{LEARNDYN_DIR}/{name}.nc" for name in LEARNDYN_TEACHER},
    log:
        "results/logs/learning_dynamics/teacher.log",
    benchmark:
        "results/benchmarks/learning_dynamics/teacher.tsv"
    conda:
        ENV
    threads: 1
    params:
        cfg={key: LEARNDYN[key] for key in ("teacher", "spectra")},
        seed=LEARNDYN["seed"],
    script:
        "../scripts/learning_dynamics/teacher.py"


rule learning_dynamics_report:
    input:
        **{
            name: f"{LEARNDYN_DIR}/{name}.nc"
            for name in LEARNDYN_SEMANTIC + LEARNDYN_TEACHER
        },
        code=code("scripts/learning_dynamics/report.py"),
    output:
        **{
            name: report(
                f"{LEARNDYN_DIR}/figures/{name}.png",
                caption=f"../report/learning_dynamics_{name}.rst",
                category="Learning dynamics",
                labels={"figure": label},
            )
            for name, label in LEARNDYN_FIGURES.items()
        },
        claims=report(
            f"{LEARNDYN_DIR}/claims.csv",
            caption="../report/learning_dynamics_claims.rst",
            category="Learning dynamics",
            labels={"figure": "claims table"},
        ),
    log:
        "results/logs/learning_dynamics/report.log",
    benchmark:
        "results/benchmarks/learning_dynamics/report.tsv"
    conda:
        ENV
    params:
        tolerances=LEARNDYN["tolerances"],
    script:
        "../scripts/learning_dynamics/report.py"
