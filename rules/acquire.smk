# Acquisition: every later rule reads resources/ and does not care whether the data were
# simulated, downloaded or linked from a local folder; each file gets a provenance sidecar.


if config["data"]["source"] == "simulated":

    rule simulate_retina:
        input:
            code=code("io", "data.retina_h5", "data.retina_sim", "data.download"),
        output:
            recording="resources/retina/{experiment}/{stimulus}.h5",
            provenance="resources/retina/{experiment}/{stimulus}.h5.provenance.json",
        log:
            "results/logs/acquire/simulate_retina/{experiment}_{stimulus}.log",
        benchmark:
            "results/benchmarks/acquire/simulate_retina/{experiment}_{stimulus}.tsv"
        wildcard_constraints:
            stimulus="whitenoise|naturalscene",
        conda:
            ENV
        params:
            retina=config["data"]["simulated"]["retina"],
            seed=lambda wildcards: experiment_seed(wildcards.experiment),
        script:
            "../scripts/simulate_retina.py"

elif config["data"]["source"] == "remote":

    check_remote_retina_checksums()

    rule download_retina:
        input:
            code=code("io", "data.retina_h5", "data.download", "data.acquire"),
        output:
            recording="resources/retina/{experiment}/{stimulus}.h5",
            provenance="resources/retina/{experiment}/{stimulus}.h5.provenance.json",
        log:
            "results/logs/acquire/download_retina/{experiment}_{stimulus}.log",
        benchmark:
            "results/benchmarks/acquire/download_retina/{experiment}_{stimulus}.tsv"
        wildcard_constraints:
            stimulus="whitenoise|naturalscene",
        conda:
            ENV
        params:
            kind="retina",
            url=remote_retina_url,
            checksum=remote_retina_checksum,
            retries=config["data"]["remote"]["retina"]["retries"],
            timeout=config["data"]["remote"]["retina"]["timeout"],
        script:
            "../scripts/acquire.py"

else:

    check_local_retina_root()

    rule link_local_retina:
        input:
            source=local_retina_file,
            code=code("io", "data.retina_h5", "data.download", "data.acquire"),
        output:
            recording="resources/retina/{experiment}/{stimulus}.h5",
            provenance="resources/retina/{experiment}/{stimulus}.h5.provenance.json",
        log:
            "results/logs/acquire/link_local_retina/{experiment}_{stimulus}.log",
        benchmark:
            "results/benchmarks/acquire/link_local_retina/{experiment}_{stimulus}.tsv"
        wildcard_constraints:
            stimulus="whitenoise|naturalscene",
        conda:
            ENV
        params:
            kind="retina",
        script:
            "../scripts/acquire.py"


rule provenance_table:
    input:
        provenance=[f"{path}.provenance.json" for path in acquired_files()],
        code=code("io", "data.download", "data.acquire"),
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
        "../scripts/provenance_table.py"
