# Every branch's claims.csv in one table: results/claims.csv (one row per claim, with its 95 %
# interval and verdict), results/claims_summary.csv (verdict counts per branch, a report page) and
# results/claims/<branch>.csv, from which the README and the branch pages get their generated
# claims blocks (`python -m insilico.core.docblocks`, docs/running.md). The mechanisms branch reports
# its recovery counts in results/mechanisms/recovery.csv instead.


rule claims_table:
    input:
        tables=list(claims_tables().values()),
        code=code("scripts/claims/table.py"),
    output:
        table="results/claims.csv",
        counts=report(
            "results/claims_summary.csv",
            caption="../report/claims_summary.rst",
            category="Claims",
            labels={"table": "verdicts per branch"},
        ),
        branches=directory("results/claims"),
    log:
        "results/logs/report/claims_table.log",
    benchmark:
        "results/benchmarks/report/claims_table.tsv"
    conda:
        ENV
    params:
        tables=claims_tables(),
    script:
        "../scripts/claims/table.py"
