# Acquisition, for every branch: every later rule reads resources/ and does not care whether the
# data were simulated, downloaded or linked from a local folder; each file gets a provenance
# sidecar, and this table lists them all. The branches' own acquisition rules are in their files.


rule provenance_table:
    input:
        provenance=[f"{path}.provenance.json" for path in acquired_files()],
        code=code("scripts/acquire/provenance_table.py"),
    output:
        report(
            "results/data_provenance.csv",
            caption="../report/data_provenance.rst",
            category="Data",
            labels={"table": "provenance of all data used"},
        ),
    log:
        "results/logs/acquire/provenance_table.log",
    benchmark:
        "results/benchmarks/acquire/provenance_table.tsv"
    conda:
        ENV
    params:
        data_files=acquired_files(),
    script:
        "../scripts/acquire/provenance_table.py"
