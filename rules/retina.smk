# Retina branch: train models on each recording, evaluate them on the held-out repeats, plot.


wildcard_constraints:
    stimulus="whitenoise|naturalscene",
    model="ln|cnn",
    seed=r"\d+",


rule train_retina:
    input:
        recording="resources/retina/{experiment}/{stimulus}.h5",
        code=model_code,
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
        "../scripts/train_retina.py"


rule evaluate_retina:
    input:
        model="results/retina/{experiment}/{stimulus}/models/{model}/seed{seed}/model.pt",
        recording="resources/retina/{experiment}/{stimulus}.h5",
        code=model_code,
        analysis=code("analysis.metrics", "analysis.retina_eval"),
    output:
        "results/retina/{experiment}/{stimulus}/models/{model}/seed{seed}/evaluation.nc",
    log:
        "results/logs/retina/evaluate/{experiment}_{stimulus}_{model}_seed{seed}.log",
    benchmark:
        "results/benchmarks/retina/evaluate/{experiment}_{stimulus}_{model}_seed{seed}.tsv"
    conda:
        ENV
    params:
        cells=retina_cells,
    script:
        "../scripts/evaluate_retina.py"


rule retina_ceiling:
    input:
        recording="resources/retina/{experiment}/{stimulus}.h5",
        code=code("io", "data.retina_h5", "analysis.metrics", "analysis.retina_eval"),
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
        "../scripts/retina_ceiling.py"


rule retina_performance:
    input:
        evaluations=retina_evaluations,
        ceiling="results/retina/{experiment}/{stimulus}/ceiling.nc",
        code=code("io", "analysis.metrics", "analysis.retina_eval"),
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
        "../scripts/retina_performance.py"


rule retina_summary:
    input:
        performance=[
            f"results/retina/{experiment}/{stimulus}/performance.nc"
            for experiment, stimulus in retina_recordings()
        ],
        code=code("io", "analysis.retina_eval"),
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
        "../scripts/retina_summary.py"


rule plot_retina_comparison:
    input:
        performance="results/retina/{experiment}/{stimulus}/performance.nc",
        code=code("io", "plots.retina"),
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
        "../scripts/plot_retina.py"


rule plot_retina_predictions:
    input:
        evaluations=expand(
            "results/retina/{{experiment}}/{{stimulus}}/models/{model}/seed{seed}/evaluation.nc",
            model=RETINA["fit"],
            seed=RETINA["seeds"][0],
        ),
        code=code("io", "plots.retina"),
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
        "../scripts/plot_retina.py"


rule plot_cnn_filters:
    input:
        model=expand(
            "results/retina/{{experiment}}/{{stimulus}}/models/cnn/seed{seed}/model.pt",
            seed=RETINA["seeds"][0],
        ),
        code=code(*TRAINING_MODULES, MODEL_MODULES["cnn"], "plots.retina"),
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
        "../scripts/plot_retina.py"
