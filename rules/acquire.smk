# Acquisition: every later rule reads resources/ and does not care whether the data were
# simulated, downloaded or linked from a local folder.


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

else:

    raise WorkflowError(
        f"data.source={config['data']['source']!r} is not available yet for the retina branch; "
        "use data.source: simulated"
    )
