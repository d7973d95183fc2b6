# The run's measured cost: every job's benchmark file as a per-branch table against the branches'
# budgets (config key `budgets`), after every other result. docs/budgets.md is written from the
# table by `python -m insilico.core.docblocks docs/budgets.md budgets results/budgets.csv`.


rule budget_table:
    input:
        targets=["results/data_provenance.csv", *branch_targets()],
        claims="results/claims_summary.csv",  # so the claims job is counted too
        code=code("scripts/budgets/table.py"),
    output:
        table=report(
            "results/budgets.csv",
            caption="../report/budgets.rst",
            category="Budgets",
            labels={"table": "CPU time per branch against its budget"},
        ),
        figure=report(
            "results/budgets.png",
            caption="../report/budgets.rst",
            category="Budgets",
            labels={"figure": "CPU time per branch against its budget"},
        ),
        jobs="results/budget_jobs.csv",
    log:
        "results/logs/report/budget_table.log",
    benchmark:
        "results/benchmarks/report/budget_table.tsv"
    conda:
        ENV
    params:
        budgets=config["budgets"],
        benchmarks="results/benchmarks",
    script:
        "../scripts/budgets/table.py"
