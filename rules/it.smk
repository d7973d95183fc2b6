# IT branch (Nayebi et al. 2018; Brain-Score): acquire a NeuroidAssembly and its stimulus set,
# train a feedforward CNN and a ConvRNN on object categorisation (and keep untrained controls),
# cache layer activations by content, score V4/IT predictivity with the Brain-Score protocol
# (PLS, stratified splits, split-half ceiling), per layer and per 10 ms time bin, and plot.
# `snakemake it` runs all of it.


include: "it_common.smk"


rule it:
    input:
        it_targets(),


wildcard_constraints:
    it_model="|".join(IT["models"]),
    it_state="trained|untrained",
    it_file="|".join(re.escape(file) for file in IT_FILES.values()),


# --- acquisition: simulated / remote / local, all giving the same four files --------------------

if config["data"]["it"]["source"] == "simulated":

    rule it_groundtruth_network:
        input:
            code=code("scripts/it/groundtruth_network.py"),
        output:
            IT_NETWORK,
        log:
            "results/logs/acquire/it_groundtruth_network.log",
        benchmark:
            "results/benchmarks/acquire/it_groundtruth_network.tsv"
        conda:
            ENV
        threads: 1
        params:
            it=config["data"]["simulated"]["it"],
            checkpoint=f"{IT_NETWORK}.checkpoint",
        script:
            "../scripts/it/groundtruth_network.py"

    rule simulate_it:
        input:
            network=IT_NETWORK,
            code=code("scripts/it/simulate.py"),
        output:
            **{name: f"{IT_DIR}/{file}" for name, file in IT_FILES.items()},
            **{
                f"{name}_provenance": f"{IT_DIR}/{file}.provenance.json"
                for name, file in IT_FILES.items()
            },
            groundtruth=f"{IT_DIR}/groundtruth.nc",
        log:
            "results/logs/acquire/simulate_it.log",
        benchmark:
            "results/benchmarks/acquire/simulate_it.tsv"
        conda:
            ENV
        params:
            it=config["data"]["simulated"]["it"],
        script:
            "../scripts/it/simulate.py"

elif config["data"]["it"]["source"] == "remote":

    rule download_it:
        input:
            code=code("scripts/acquire/download.py", IT_READER),
        output:
            data=f"{IT_DIR}/{{it_file}}",
            provenance=f"{IT_DIR}/{{it_file}}.provenance.json",
        log:
            "results/logs/acquire/download_it/{it_file}.log",
        benchmark:
            "results/benchmarks/acquire/download_it/{it_file}.tsv"
        conda:
            ENV
        params:
            reader=IT_READER,
            kind=lambda wildcards: IT_FILE_KINDS[wildcards.it_file],
            url=remote_it_url,
            checksum=remote_it_checksum,
            retries=config["data"]["remote"]["it"]["retries"],
            timeout=config["data"]["remote"]["it"]["timeout"],
        script:
            "../scripts/acquire/download.py"

else:

    if "it" in config["branches"]:
        check_local_it_files()

    rule link_local_it:
        input:
            source=local_it_file,
            code=code("scripts/acquire/link_local.py", IT_READER),
        output:
            data=f"{IT_DIR}/{{it_file}}",
            provenance=f"{IT_DIR}/{{it_file}}.provenance.json",
        log:
            "results/logs/acquire/link_local_it/{it_file}.log",
        benchmark:
            "results/benchmarks/acquire/link_local_it/{it_file}.tsv"
        conda:
            ENV
        params:
            reader=IT_READER,
            kind=lambda wildcards: IT_FILE_KINDS[wildcards.it_file],
        script:
            "../scripts/acquire/link_local.py"


# --- neural targets and ceilings ------------------------------------------------------------------


rule it_neural:
    input:
        **{name: f"{IT_DIR}/{file}" for name, file in IT_FILES.items()},
        groundtruth=it_groundtruth(),
        code=code("scripts/it/neural.py"),
    output:
        "results/it/neural.nc",
    log:
        "results/logs/it/neural.log",
    benchmark:
        "results/benchmarks/it/neural.tsv"
    conda:
        ENV
    params:
        n_splits=IT["score"]["n_splits"],
        seed=IT["score"]["seed"],
        data=IT_DATA,
    script:
        "../scripts/it/neural.py"


rule it_solution_times:
    input:
        neural="results/it/neural.nc",
        stimuli_csv=f"{IT_DIR}/{IT_FILES['stimuli_csv']}",
        code=code("scripts/it/solution_times.py"),
    output:
        times="results/it/solution_times.nc",
        stimuli="results/it/stimuli_solution_times.csv",
    log:
        "results/logs/it/solution_times.log",
    benchmark:
        "results/benchmarks/it/solution_times.tsv"
    conda:
        ENV
    params:
        settings=IT["solution_times"],
        stratify_by=IT_DATA["stratify_by"],
    script:
        "../scripts/it/solution_times.py"


# --- task training ------------------------------------------------------------------------------


rule it_task_images:
    input:
        code=code("scripts/it/task_images.py"),
    output:
        "results/it/task_images.nc",
    log:
        "results/logs/it/task_images.log",
    benchmark:
        "results/benchmarks/it/task_images.tsv"
    conda:
        ENV
    params:
        objects=it_object_params(),
        task=IT["task"],
        image_size=IT["image_size"],
    script:
        "../scripts/it/task_images.py"


rule train_it:
    input:
        images="results/it/task_images.nc",
        code=lambda wildcards: it_code("scripts/it/train.py", wildcards.it_model),
    output:
        model="results/it/models/{it_model}/{it_state}/seed{seed}/model.pt",
        history="results/it/models/{it_model}/{it_state}/seed{seed}/history.nc",
    log:
        "results/logs/it/train/{it_model}_{it_state}_seed{seed}.log",
    benchmark:
        "results/benchmarks/it/train/{it_model}_{it_state}_seed{seed}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        model=it_model_params,
        train=it_train_params,
        checkpoint="results/it/models/{it_model}/{it_state}/seed{seed}/checkpoint.pt",
    script:
        "../scripts/it/train.py"


# --- activations (cached by content) and predictivity ---------------------------------------------


# One rule per model kind: the layer files it writes depend on the model's depth.
for _model in IT["models"]:

    rule:
        name:
            f"it_activations_{_model}"
        input:
            model=f"results/it/models/{_model}/{{it_state}}/seed{{seed}}/model.pt",
            stimuli_csv=f"{IT_DIR}/{IT_FILES['stimuli_csv']}",
            stimuli_zip=f"{IT_DIR}/{IT_FILES['stimuli_zip']}",
            fit_images="results/it/task_images.nc",
            code=it_code("scripts/it/activations.py", _model),
        output:
            it_activation_files(_model),
        log:
            f"results/logs/it/activations/{IT_PREP}/{_model}_{{it_state}}_seed{{seed}}.log",
        benchmark:
            f"results/benchmarks/it/activations/{IT_PREP}/{_model}_{{it_state}}_seed{{seed}}.tsv"
        conda:
            ENV
        threads: 1
        resources:
            gpu=1,
        params:
            layers=it_layers(_model),
            preprocessing=it_preprocessing(),
            batch_size=IT["activations"]["batch_size"],
            stratify_by=IT_DATA["stratify_by"],
        script:
            "../scripts/it/activations.py"


rule it_predictivity:
    input:
        **it_solution_times_input(),
        neural="results/it/neural.nc",
        activations=it_activation_inputs,
        code=code("scripts/it/predictivity.py"),
    output:
        "results/it/scores/{it_model}/{it_state}/seed{seed}.nc",
    log:
        "results/logs/it/predictivity/{it_model}_{it_state}_seed{seed}.log",
    benchmark:
        "results/benchmarks/it/predictivity/{it_model}_{it_state}_seed{seed}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=1 if IT["score"]["device"] == "cuda" else 0,
    params:
        layers=lambda wildcards: it_layers(wildcards.it_model),
        score=it_score_params,
    script:
        "../scripts/it/predictivity.py"


rule it_summary:
    input:
        **it_solution_times_input(),
        neural="results/it/neural.nc",
        scores=[
            f"results/it/scores/{model}/{state}/seed{seed}.nc"
            for model, state, seed in it_runs()
        ],
        code=code("scripts/it/summary.py"),
    output:
        scores="results/it/scores.nc",
        table=report(
            "results/it/summary.csv",
            caption="../report/it_summary.rst",
            category="IT",
            labels={"table": "best-layer predictivity per model and region"},
        ),
        claims=report(
            "results/it/claims.csv",
            caption="../report/it_claims.rst",
            category="IT",
            labels={"table": "Nayebi et al.'s claims, measured"},
        ),
    log:
        "results/logs/it/summary.log",
    benchmark:
        "results/benchmarks/it/summary.tsv"
    conda:
        ENV
    params:
        runs=it_runs(),
        formula=IT["score"]["ceiling_formula"],
        claims={
            **IT["claims"],
            "simulated": config["data"]["it"]["source"] == "simulated",
        },
    script:
        "../scripts/it/summary.py"


rule plot_it:
    input:
        **it_solution_times_input(),
        scores="results/it/scores.nc",
        stimuli_csv=f"{IT_DIR}/{IT_FILES['stimuli_csv']}",
        stimuli_zip=f"{IT_DIR}/{IT_FILES['stimuli_zip']}",
        code=code("scripts/it/plot.py"),
    output:
        **(
            {
                "temporal": report(
                    "results/it/figures/temporal_predictivity.png",
                    caption="../report/it_temporal_predictivity.rst",
                    category="IT",
                    labels={"figure": "predictivity over time"},
                ),
                "late_solved": report(
                    "results/it/figures/late_solved.png",
                    caption="../report/it_late_solved.rst",
                    category="IT",
                    labels={"figure": "late-solved images"},
                ),
                "late_bars": report(
                    "results/it/figures/late_predictivity.png",
                    caption="../report/it_late_predictivity.rst",
                    category="IT",
                    labels={"figure": "predictivity per depth and cell"},
                ),
                "solution_scatter": report(
                    "results/it/figures/solution_times.png",
                    caption="../report/it_solution_times.rst",
                    category="IT",
                    labels={"figure": "model vs IT solution times"},
                ),
            }
            if IT_TEMPORAL
            else {}
        ),
        layers=report(
            "results/it/figures/predictivity_by_layer.png",
            caption="../report/it_predictivity_by_layer.rst",
            category="IT",
            labels={"figure": "predictivity by layer and region"},
        ),
        performance=report(
            "results/it/figures/performance_vs_predictivity.png",
            caption="../report/it_performance_vs_predictivity.rst",
            category="IT",
            labels={"figure": "task performance vs IT predictivity"},
        ),
        stimuli=report(
            "results/it/figures/stimuli.png",
            caption="../report/it_stimuli.rst",
            category="IT",
            labels={"figure": "example stimuli"},
        ),
    log:
        "results/logs/it/plots.log",
    benchmark:
        "results/benchmarks/it/plots.tsv"
    conda:
        ENV
    params:
        late_start_ms=IT["claims"]["late_start_ms"],
        stratify_by=IT_DATA["stratify_by"],
    script:
        "../scripts/it/plot.py"
