# Retina branch (McIntosh et al. 2016): train LN, GLM and CNN models on each recording, evaluate
# them on the held-out repeats, and the paper's analyses: data efficiency, generalisation across
# stimulus classes, receptive fields. `snakemake retina` runs all of it. Input functions and
# targets: rules/retina_common.smk.


include: "retina_common.smk"


rule retina:
    input:
        retina_targets(),
        retina_paper_targets(),


wildcard_constraints:
    experiment=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    stimulus="whitenoise|naturalscene",
    model="ln|glm|cnn",
    seed=r"\d+",
    fraction=r"\d+(\.\d+)?",
    variant=r"[A-Za-z0-9_.-]+",


# --- acquisition: simulated / remote / local, all giving the same recordings ------------------

if config["data"]["retina"]["source"] == "simulated":

    rule simulate_retina:
        input:
            code=code("scripts/retina/simulate.py"),
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
            "../scripts/retina/simulate.py"

    # The ablation's own longer recording of the same retina (same seed: same cells and test
    # movie), for training-data multiples above 1.
    use rule simulate_retina as simulate_retina_ablation with:
        output:
            recording="resources/retina/ablation/{experiment}/{stimulus}.h5",
            provenance="resources/retina/ablation/{experiment}/{stimulus}.h5.provenance.json",
        log:
            "results/logs/acquire/simulate_retina_ablation/{experiment}_{stimulus}.log",
        benchmark:
            "results/benchmarks/acquire/simulate_retina_ablation/{experiment}_{stimulus}.tsv"
        params:
            retina={
                **config["data"]["simulated"]["retina"],
                "train_seconds": ABLATION_MULTIPLE
                * config["data"]["simulated"]["retina"]["train_seconds"],
            },
            seed=lambda wildcards: experiment_seed(wildcards.experiment),

elif config["data"]["retina"]["source"] == "remote":

    if "retina" in config["branches"]:
        check_remote_retina_checksums()

    rule download_retina:
        input:
            code=code("scripts/acquire/download.py", RETINA_READER),
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
            reader=RETINA_READER,
            kind="recording",
            url=remote_retina_url,
            checksum=remote_retina_checksum,
            retries=config["data"]["remote"]["retina"]["retries"],
            timeout=config["data"]["remote"]["retina"]["timeout"],
        script:
            "../scripts/acquire/download.py"

else:

    rule link_local_retina:
        input:
            source=local_retina_file,
            code=code("scripts/acquire/link_local.py", RETINA_READER),
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
            reader=RETINA_READER,
            kind="recording",
        script:
            "../scripts/acquire/link_local.py"


# --- models -------------------------------------------------------------------------------------


rule train_retina:
    input:
        recording="resources/retina/{experiment}/{stimulus}.h5",
        code=wildcard_model_code("scripts/retina/train.py"),
    output:
        model="results/retina/{experiment}/{stimulus}/models/{model}/seed{seed}/model.pt",
        history="results/retina/{experiment}/{stimulus}/models/{model}/seed{seed}/history.nc",
    log:
        "results/logs/retina/train/{experiment}_{stimulus}_{model}_seed{seed}.log",
    benchmark:
        "results/benchmarks/retina/train/{experiment}_{stimulus}_{model}_seed{seed}.tsv"
    conda:
        ENV
    threads: 2
    resources:
        gpu=1,
    params:
        model=model_params,
        train=train_params,
        history=RETINA["history"],
        cells=retina_cells,
        checkpoint="results/retina/{experiment}/{stimulus}/models/{model}/seed{seed}/checkpoint.pt",
    script:
        "../scripts/retina/train.py"


# Data efficiency: the same training on the first part of the training block (per cent in the path;
# 100 per cent is the main fit above). Each run is its own job, cached on its own.
use rule train_retina as train_retina_fraction with:
    output:
        model="results/retina/{experiment}/{stimulus}/models/{model}/fraction{fraction}/seed{seed}/model.pt",
        history="results/retina/{experiment}/{stimulus}/models/{model}/fraction{fraction}/seed{seed}/history.nc",
    log:
        "results/logs/retina/train/{experiment}_{stimulus}_{model}_fraction{fraction}_seed{seed}.log",
    benchmark:
        "results/benchmarks/retina/train/{experiment}_{stimulus}_{model}_fraction{fraction}_seed{seed}.tsv"
    params:
        train=fraction_train_params,
        checkpoint="results/retina/{experiment}/{stimulus}/models/{model}/fraction{fraction}/seed{seed}/checkpoint.pt",


rule evaluate_retina:
    input:
        model="results/retina/{experiment}/{stimulus}/models/{model}/seed{seed}/model.pt",
        recording="resources/retina/{experiment}/{stimulus}.h5",
        code=wildcard_model_code("scripts/retina/evaluate.py"),
    output:
        "results/retina/{experiment}/{stimulus}/models/{model}/seed{seed}/evaluation.nc",
    log:
        "results/logs/retina/evaluate/{experiment}_{stimulus}_{model}_seed{seed}.log",
    benchmark:
        "results/benchmarks/retina/evaluate/{experiment}_{stimulus}_{model}_seed{seed}.tsv"
    conda:
        ENV
    threads: 2
    resources:
        gpu=1,
    params:
        cells=retina_cells,
        closed_loop=closed_loop_params,
    script:
        "../scripts/retina/evaluate.py"


rule retina_ceiling:
    input:
        recording="resources/retina/{experiment}/{stimulus}.h5",
        code=code("scripts/retina/ceiling.py"),
    output:
        "results/retina/{experiment}/{stimulus}/ceiling.nc",
    log:
        "results/logs/retina/ceiling/{experiment}_{stimulus}.log",
    benchmark:
        "results/benchmarks/retina/ceiling/{experiment}_{stimulus}.tsv"
    conda:
        ENV
    params:
        cells=retina_cells,
        n_splits=RETINA["ceiling"]["n_splits"],
        seed=RETINA["ceiling"]["seed"],
    script:
        "../scripts/retina/ceiling.py"


rule retina_performance:
    input:
        evaluations=retina_evaluations,
        ceiling="results/retina/{experiment}/{stimulus}/ceiling.nc",
        code=code("scripts/retina/performance.py"),
    output:
        "results/retina/{experiment}/{stimulus}/performance.nc",
    log:
        "results/logs/retina/performance/{experiment}_{stimulus}.log",
    benchmark:
        "results/benchmarks/retina/performance/{experiment}_{stimulus}.tsv"
    conda:
        ENV
    params:
        runs=retina_runs(),
    script:
        "../scripts/retina/performance.py"


rule retina_summary:
    input:
        performance=[
            f"results/retina/{experiment}/{stimulus}/performance.nc"
            for experiment, stimulus in retina_recordings()
        ],
        code=code("scripts/retina/summary.py"),
    output:
        report(
            "results/retina/summary.csv",
            caption="../report/retina_summary.rst",
            category="Retina",
            labels={"table": "mean test correlation per model"},
        ),
    log:
        "results/logs/retina/summary.log",
    benchmark:
        "results/benchmarks/retina/summary.tsv"
    conda:
        ENV
    params:
        recordings=retina_recordings(),
    script:
        "../scripts/retina/summary.py"


rule plot_retina_comparison:
    input:
        performance="results/retina/{experiment}/{stimulus}/performance.nc",
        code=code("scripts/retina/plot_comparison.py"),
    output:
        report(
            "results/retina/{experiment}/{stimulus}/figures/model_comparison.png",
            caption="../report/retina_model_comparison.rst",
            category="Retina",
            subcategory="{experiment} {stimulus}",
            labels={"figure": "model comparison"},
        ),
    log:
        "results/logs/retina/plots/{experiment}_{stimulus}_comparison.log",
    benchmark:
        "results/benchmarks/retina/plots/{experiment}_{stimulus}_comparison.tsv"
    conda:
        ENV
    script:
        "../scripts/retina/plot_comparison.py"


rule plot_retina_predictions:
    input:
        evaluations=expand(
            "results/retina/{{experiment}}/{{stimulus}}/models/{model}/seed{seed}/evaluation.nc",
            model=RETINA["fit"],
            seed=RETINA["seeds"][0],
        ),
        code=code("scripts/retina/plot_predictions.py"),
    output:
        report(
            "results/retina/{experiment}/{stimulus}/figures/example_predictions.png",
            caption="../report/retina_example_predictions.rst",
            category="Retina",
            subcategory="{experiment} {stimulus}",
            labels={"figure": "example predictions"},
        ),
    log:
        "results/logs/retina/plots/{experiment}_{stimulus}_predictions.log",
    benchmark:
        "results/benchmarks/retina/plots/{experiment}_{stimulus}_predictions.tsv"
    conda:
        ENV
    params:
        models=RETINA["fit"],
    script:
        "../scripts/retina/plot_predictions.py"


rule plot_cnn_filters:
    input:
        model=expand(
            "results/retina/{{experiment}}/{{stimulus}}/models/cnn/seed{seed}/model.pt",
            seed=RETINA["seeds"][0],
        ),
        code=retina_code("scripts/retina/plot_cnn_filters.py", ["cnn"]),
    output:
        report(
            "results/retina/{experiment}/{stimulus}/figures/cnn_filters.png",
            caption="../report/retina_cnn_filters.rst",
            category="Retina",
            subcategory="{experiment} {stimulus}",
            labels={"figure": "CNN first-layer filters"},
        ),
    log:
        "results/logs/retina/plots/{experiment}_{stimulus}_cnn_filters.log",
    benchmark:
        "results/benchmarks/retina/plots/{experiment}_{stimulus}_cnn_filters.tsv"
    conda:
        ENV
    script:
        "../scripts/retina/plot_cnn_filters.py"


rule plot_retina_model_comparison:
    input:
        performance=lambda wildcards: [
            f"results/retina/{wildcards.experiment}/{stimulus}/performance.nc"
            for stimulus in config["data"]["retina"]["stimuli"]
        ],
        code=code("scripts/retina/plot_model_comparison.py"),
    output:
        report(
            "results/retina/{experiment}/figures/model_comparison.png",
            caption="../report/retina_model_comparison_classes.rst",
            category="Retina",
            subcategory="{experiment} paper figures",
            labels={"figure": "LN vs GLM vs CNN, both stimulus classes"},
        ),
    log:
        "results/logs/retina/plots/{experiment}_model_comparison.log",
    benchmark:
        "results/benchmarks/retina/plots/{experiment}_model_comparison.tsv"
    conda:
        ENV
    params:
        stimuli=config["data"]["retina"]["stimuli"],
    script:
        "../scripts/retina/plot_model_comparison.py"


rule retina_data_efficiency:
    input:
        models=data_efficiency_models,
        recording="resources/retina/{experiment}/{stimulus}.h5",
        code=retina_code("scripts/retina/data_efficiency.py", DATA_EFFICIENCY["models"]),
    output:
        "results/retina/{experiment}/{stimulus}/data_efficiency.nc",
    log:
        "results/logs/retina/data_efficiency/{experiment}_{stimulus}.log",
    benchmark:
        "results/benchmarks/retina/data_efficiency/{experiment}_{stimulus}.tsv"
    conda:
        ENV
    threads: 2
    resources:
        gpu=1,
    params:
        runs=data_efficiency_runs(),
        cells=retina_cells,
        closed_loop=closed_loop_params_for(DATA_EFFICIENCY["models"]),
    script:
        "../scripts/retina/data_efficiency.py"


rule retina_data_trend:
    input:
        efficiency=[
            f"results/retina/{experiment}/{stimulus}/data_efficiency.nc"
            for experiment, stimulus in retina_recordings()
        ],
        ceiling=[
            f"results/retina/{experiment}/{stimulus}/ceiling.nc"
            for experiment, stimulus in retina_recordings()
        ],
        code=code("scripts/retina/data_trend.py"),
    output:
        report(
            "results/retina/data_trend.csv",
            caption="../report/retina_data_trend.rst",
            category="Retina",
            labels={"table": "training data a target needs"},
        ),
    log:
        "results/logs/retina/data_trend.log",
    benchmark:
        "results/benchmarks/retina/data_trend.tsv"
    conda:
        ENV
    params:
        recordings=retina_recordings(),
        targets=DATA_EFFICIENCY["targets"],
        n_points=DATA_EFFICIENCY["trend_points"],
    script:
        "../scripts/retina/data_trend.py"


rule plot_retina_data_efficiency:
    input:
        results=lambda wildcards: [
            f"results/retina/{wildcards.experiment}/{stimulus}/data_efficiency.nc"
            for stimulus in config["data"]["retina"]["stimuli"]
        ],
        code=code("scripts/retina/plot_data_efficiency.py"),
    output:
        report(
            "results/retina/{experiment}/figures/data_efficiency.png",
            caption="../report/retina_data_efficiency.rst",
            category="Retina",
            subcategory="{experiment} paper figures",
            labels={"figure": "data efficiency"},
        ),
    log:
        "results/logs/retina/plots/{experiment}_data_efficiency.log",
    benchmark:
        "results/benchmarks/retina/plots/{experiment}_data_efficiency.tsv"
    conda:
        ENV
    params:
        stimuli=config["data"]["retina"]["stimuli"],
    script:
        "../scripts/retina/plot_data_efficiency.py"


rule retina_generalization:
    input:
        models=generalization_models,
        recordings=lambda wildcards: [
            f"resources/retina/{wildcards.experiment}/{stimulus}.h5"
            for stimulus in config["data"]["retina"]["stimuli"]
        ],
        ceilings=lambda wildcards: [
            f"results/retina/{wildcards.experiment}/{stimulus}/ceiling.nc"
            for stimulus in config["data"]["retina"]["stimuli"]
        ],
        code=retina_code("scripts/retina/generalization.py", RETINA["fit"]),
    output:
        "results/retina/{experiment}/generalization.nc",
    log:
        "results/logs/retina/generalization/{experiment}.log",
    benchmark:
        "results/benchmarks/retina/generalization/{experiment}.tsv"
    conda:
        ENV
    threads: 2
    resources:
        gpu=1,
    params:
        runs=generalization_runs(),
        stimuli=config["data"]["retina"]["stimuli"],
        cells=retina_cells,
        standardise=RETINA["generalization"]["standardise"],
        closed_loop=closed_loop_params_for(RETINA["fit"]),
    script:
        "../scripts/retina/generalization.py"


rule plot_retina_generalization:
    input:
        results="results/retina/{experiment}/generalization.nc",
        code=code("scripts/retina/plot_generalization.py"),
    output:
        report(
            "results/retina/{experiment}/figures/generalization.png",
            caption="../report/retina_generalization.rst",
            category="Retina",
            subcategory="{experiment} paper figures",
            labels={"figure": "generalisation across stimulus classes"},
        ),
    log:
        "results/logs/retina/plots/{experiment}_generalization.log",
    benchmark:
        "results/benchmarks/retina/plots/{experiment}_generalization.tsv"
    conda:
        ENV
    script:
        "../scripts/retina/plot_generalization.py"


rule retina_receptive_fields:
    input:
        models=receptive_field_models,
        recording="resources/retina/{experiment}/whitenoise.h5",
        code=retina_code(
            "scripts/retina/receptive_fields.py", RETINA["receptive_fields"]["models"]
        ),
    output:
        "results/retina/{experiment}/receptive_fields.nc",
    log:
        "results/logs/retina/receptive_fields/{experiment}.log",
    benchmark:
        "results/benchmarks/retina/receptive_fields/{experiment}.tsv"
    conda:
        ENV
    threads: 2
    resources:
        gpu=1,
    params:
        runs=receptive_field_runs(),
        cells=retina_cells,
    script:
        "../scripts/retina/receptive_fields.py"


rule plot_retina_receptive_fields:
    input:
        results="results/retina/{experiment}/receptive_fields.nc",
        code=code("scripts/retina/plot_receptive_fields.py"),
    output:
        report(
            "results/retina/{experiment}/figures/receptive_fields.png",
            caption="../report/retina_receptive_fields.rst",
            category="Retina",
            subcategory="{experiment} paper figures",
            labels={"figure": "receptive fields: model vs data STA"},
        ),
    log:
        "results/logs/retina/plots/{experiment}_receptive_fields.log",
    benchmark:
        "results/benchmarks/retina/plots/{experiment}_receptive_fields.tsv"
    conda:
        ENV
    script:
        "../scripts/retina/plot_receptive_fields.py"


# --- ablation: why the CNN falls short, one factor changed at a time -----------------------------


# Every variant is trained by the same rule and trainer as the main fits, on the ablation's
# recording, with the default CNN's settings but one (insilico.retina.ablation).
use rule train_retina as train_retina_ablation with:
    input:
        recording=ablation_recording,
        code=wildcard_model_code("scripts/retina/train.py"),
    output:
        model=f"{ABLATION_RUN}/model.pt",
        history=f"{ABLATION_RUN}/history.nc",
    log:
        "results/logs/retina/ablation/{experiment}_{stimulus}_{model}_{variant}_seed{seed}.log",
    benchmark:
        "results/benchmarks/retina/ablation/{experiment}_{stimulus}_{model}_{variant}_seed{seed}.tsv"
    wildcard_constraints:
        model="cnn",
    params:
        model=lambda wildcards: ablation_settings(wildcards)["model"],
        train=lambda wildcards: ablation_settings(wildcards)["train"],
        history=lambda wildcards: ablation_settings(wildcards)["history"],
        cells=retina_cells,
        checkpoint=f"{ABLATION_RUN}/checkpoint.pt",


rule retina_ablation:
    input:
        models=lambda wildcards: ablation_runs(wildcards, "model.pt"),
        curves=lambda wildcards: ablation_runs(wildcards, "history.nc"),
        recording=ablation_recording,
        code=retina_code("scripts/retina/ablation.py", ["cnn"]),
    output:
        "results/retina/{experiment}/{stimulus}/ablation.nc",
    log:
        "results/logs/retina/ablation/{experiment}_{stimulus}.log",
    benchmark:
        "results/benchmarks/retina/ablation/{experiment}_{stimulus}.tsv"
    conda:
        ENV
    threads: 2
    resources:
        gpu=1,
    params:
        variants=list(ABLATION_VARIANTS.items()),
        cells=retina_cells,
        n_splits=RETINA["ceiling"]["n_splits"],
        seed=RETINA["ceiling"]["seed"],
    script:
        "../scripts/retina/ablation.py"


rule retina_ablation_table:
    input:
        results=[
            f"results/retina/{experiment}/{stimulus}/ablation.nc"
            for experiment, stimulus in ablation_recordings()
        ],
        code=code("scripts/retina/ablation_table.py"),
    output:
        report(
            "results/retina/ablation.csv",
            caption="../report/retina_ablation_table.rst",
            category="Retina",
            labels={"table": "ablation: one factor of the CNN at a time"},
        ),
    log:
        "results/logs/retina/ablation_table.log",
    benchmark:
        "results/benchmarks/retina/ablation_table.tsv"
    conda:
        ENV
    params:
        recordings=ablation_recordings(),
    script:
        "../scripts/retina/ablation_table.py"


rule plot_retina_ablation:
    input:
        results=lambda wildcards: [
            f"results/retina/{wildcards.experiment}/{stimulus}/ablation.nc"
            for stimulus in ABLATION["stimuli"]
        ],
        code=code("scripts/retina/plot_ablation.py"),
    output:
        report(
            "results/retina/{experiment}/figures/ablation.png",
            caption="../report/retina_ablation.rst",
            category="Retina",
            subcategory="{experiment} paper figures",
            labels={"figure": "ablation: what limits the CNN's fit"},
        ),
    log:
        "results/logs/retina/plots/{experiment}_ablation.log",
    benchmark:
        "results/benchmarks/retina/plots/{experiment}_ablation.tsv"
    conda:
        ENV
    params:
        stimuli=ABLATION["stimuli"],
    script:
        "../scripts/retina/plot_ablation.py"
