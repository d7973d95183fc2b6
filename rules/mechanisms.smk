# Mechanisms (Tanaka et al. 2019): structured stimuli shown to the trained CNNs and to the simulated
# retina, integrated gradients to the hidden channels, model reduction, and on simulated data a
# check of the selected channels against the true circuit. One job per CNN and stage writes one
# netCDF per phenomenon. `snakemake mechanisms` runs all of it.


include: "mechanisms_common.smk"


rule mechanisms:
    input:
        mechanism_targets(),


if CONTROL_RUN:

    # The controls: the CNN written down from the simulated circuit, it with dense distractor
    # connections, and an untrained CNN, stored like trained ones so that every stage below
    # dissects them unchanged.
    rule mechanism_control_model:
        input:
            fitted=lambda w: [] if w.control == CONTROL else control_reference(w),
            code=code("scripts/mechanisms/control_model.py"),
        output:
            "results/mechanisms/{experiment}/{control}/model.pt",
        log:
            "results/logs/mechanisms/control_model/{experiment}_{control}.log",
        benchmark:
            "results/benchmarks/mechanisms/control_model/{experiment}_{control}.tsv"
        wildcard_constraints:
            control="|".join(WRITTEN_CONTROLS),
        conda:
            ENV
        threads: 1
        params:
            history=config["retina"]["history"],
            cells=retina_cells,
            retina=mechanism_truth_params(),
            retina_seed=mechanism_truth_seed,
            control=lambda w: CONTROLS[w.control],
            seed=MECHANISMS["controls"]["seed"],
            channels=config["retina"]["models"]["cnn"]["params"]["channels"],
        script:
            "../scripts/mechanisms/control_model.py"


if CONTROL_RUN and TRAINED in CONTROLS:

    # The trained control: the fitted CNN's architecture trained on the same recording, its
    # hidden layers supervised on the simulator's bipolar and amacrine signals.
    rule mechanism_trained_control:
        input:
            recording=trained_control_recording,
            code=retina_code("scripts/mechanisms/trained_control.py", ["cnn"]),
        output:
            f"results/mechanisms/{{experiment}}/{TRAINED}/seed{{seed}}/model.pt",
        log:
            "results/logs/mechanisms/trained_control/{experiment}_seed{seed}.log",
        benchmark:
            "results/benchmarks/mechanisms/trained_control/{experiment}_seed{seed}.tsv"
        conda:
            ENV
        threads: 1
        params:
            history=config["retina"]["history"],
            cells=retina_cells,
            retina=mechanism_truth_params(),
            retina_seed=mechanism_truth_seed,
            model=config["retina"]["models"]["cnn"]["params"],
            train=trained_control_settings(),
            stimulus=(
                MECHANISMS["cnns"]["stimuli"][0]
                if MECHANISMS["cnns"]["stimuli"]
                else None
            ),
            checkpoint=f"results/mechanisms/{{experiment}}/{TRAINED}/seed{{seed}}/checkpoint.pt",
        script:
            "../scripts/mechanisms/trained_control.py"


rule mechanism_responses:
    input:
        model=mechanism_model,
        null=mechanism_null_model,
        code=retina_code("scripts/mechanisms/responses.py", ["cnn"]),
    output:
        **mechanism_files("responses"),
    log:
        "results/logs/mechanisms/responses/{experiment}_{stimulus}_seed{seed}.log",
    benchmark:
        "results/benchmarks/mechanisms/responses/{experiment}_{stimulus}_seed{seed}.tsv"
    wildcard_constraints:
        stimulus=MECHANISM_STIMULUS,
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        phenomena=PHENOMENA,
        stimuli={p: MECHANISMS["stimuli"][p] for p in PHENOMENA},
        min_response=MECHANISMS["min_response"],
        batch_size=MECHANISMS["batch_size"],
        retina=mechanism_truth_params(),
        retina_seed=mechanism_truth_seed,
        elements=mechanism_elements,
    script:
        "../scripts/mechanisms/responses.py"


rule mechanism_attribution:
    input:
        **mechanism_files("responses", "responses_"),
        model=mechanism_model,
        code=retina_code("scripts/mechanisms/attribution.py", ["cnn"]),
    output:
        **mechanism_files("attribution"),
    log:
        "results/logs/mechanisms/attribution/{experiment}_{stimulus}_seed{seed}.log",
    benchmark:
        "results/benchmarks/mechanisms/attribution/{experiment}_{stimulus}_seed{seed}.tsv"
    wildcard_constraints:
        stimulus=MECHANISM_STIMULUS,
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        phenomena=PHENOMENA,
        steps=MECHANISMS["attribution"]["steps"],
        batch_size=MECHANISMS["batch_size"],
    script:
        "../scripts/mechanisms/attribution.py"


rule mechanism_reduction:
    input:
        **mechanism_files("responses", "responses_"),
        **mechanism_files("attribution", "attribution_"),
        model=mechanism_model,
        code=retina_code("scripts/mechanisms/reduction.py", ["cnn"]),
    output:
        **mechanism_files("reduction"),
    log:
        "results/logs/mechanisms/reduction/{experiment}_{stimulus}_seed{seed}.log",
    benchmark:
        "results/benchmarks/mechanisms/reduction/{experiment}_{stimulus}_seed{seed}.tsv"
    wildcard_constraints:
        stimulus=MECHANISM_STIMULUS,
    conda:
        ENV
    threads: 1
    resources:
        gpu=1,
    params:
        phenomena=PHENOMENA,
        tolerance=MECHANISMS["reduction"]["tolerance"],
        min_response=MECHANISMS["min_response"],
        batch_size=MECHANISMS["batch_size"],
    script:
        "../scripts/mechanisms/reduction.py"


if GROUND_TRUTH:

    rule mechanism_groundtruth:
        input:
            **mechanism_files("responses", "responses_"),
            **mechanism_files("attribution", "attribution_"),
            **mechanism_files("reduction", "reduction_"),
            model=mechanism_model,
            code=retina_code("scripts/mechanisms/groundtruth.py", ["cnn"]),
        output:
            **mechanism_files("groundtruth"),
        log:
            "results/logs/mechanisms/groundtruth/{experiment}_{stimulus}_seed{seed}.log",
        benchmark:
            "results/benchmarks/mechanisms/groundtruth/{experiment}_{stimulus}_seed{seed}.tsv"
        wildcard_constraints:
            stimulus=MECHANISM_STIMULUS,
        conda:
            ENV
        threads: 1
        resources:
            gpu=1,
        params:
            phenomena=PHENOMENA,
            batch_size=MECHANISMS["batch_size"],
            test=MECHANISMS["groundtruth"],
            retina=mechanism_truth_params(),
            retina_seed=mechanism_truth_seed,
        script:
            "../scripts/mechanisms/groundtruth.py"


rule plot_mechanism_phenomena:
    input:
        **mechanism_files("responses", "responses_"),
        **mechanism_files("reduction", "reduction_"),
        code=code("scripts/mechanisms/plot_phenomena.py"),
    output:
        **{
            name: report(
                f"{MECHANISM_RUN}/figures/{name}.png",
                caption=f"../report/mechanisms_{name}.rst",
                category="Mechanisms",
                subcategory="{experiment} {stimulus} seed {seed}",
                labels={"figure": name.replace("_", " ")},
            )
            for name in PHENOMENA
        },
    log:
        "results/logs/mechanisms/plots/{experiment}_{stimulus}_seed{seed}_phenomena.log",
    benchmark:
        "results/benchmarks/mechanisms/plots/{experiment}_{stimulus}_seed{seed}_phenomena.tsv"
    wildcard_constraints:
        stimulus=MECHANISM_STIMULUS,
    conda:
        ENV
    params:
        phenomena=PHENOMENA,
    script:
        "../scripts/mechanisms/plot_phenomena.py"


rule plot_mechanism_dissection:
    input:
        **mechanism_files("responses", "responses_"),
        **mechanism_files("attribution", "attribution_"),
        **mechanism_files("reduction", "reduction_"),
        **(mechanism_files("groundtruth", "groundtruth_") if GROUND_TRUTH else {}),
        code=code("scripts/mechanisms/plot_dissection.py"),
    output:
        **{
            name: report(
                f"{MECHANISM_RUN}/figures/{name}.png",
                caption=f"../report/mechanisms_{name}.rst",
                category="Mechanisms",
                subcategory="{experiment} {stimulus} seed {seed}",
                labels={"figure": name},
            )
            for name in MECHANISM_FIGURES
        },
    log:
        "results/logs/mechanisms/plots/{experiment}_{stimulus}_seed{seed}_dissection.log",
    benchmark:
        "results/benchmarks/mechanisms/plots/{experiment}_{stimulus}_seed{seed}_dissection.tsv"
    wildcard_constraints:
        stimulus=MECHANISM_STIMULUS,
    conda:
        ENV
    params:
        phenomena=PHENOMENA,
        ground_truth=GROUND_TRUTH,
    script:
        "../scripts/mechanisms/plot_dissection.py"


rule mechanisms_summary:
    input:
        **{
            kind: [
                f"results/mechanisms/{experiment}/{stimulus}/seed{seed}/{kind}/{p}.nc"
                for experiment, stimulus, seed in mechanism_runs()
                for p in PHENOMENA
            ]
            for kind in ["responses", "attribution", "reduction"]
            + (["groundtruth"] if GROUND_TRUTH else [])
        },
        code=code("scripts/mechanisms/summary.py"),
    output:
        **{
            table: report(
                f"results/mechanisms/{table}.csv",
                caption=f"../report/mechanisms_{table}_table.rst",
                category="Mechanisms",
                subcategory="Tables",
                labels={"table": table},
            )
            for table in MECHANISM_TABLES
        },
        **(
            {
                "power_curve": report(
                    "results/mechanisms/power_curve.png",
                    caption="../report/mechanisms_power_curve.rst",
                    category="Mechanisms",
                    subcategory="Tables",
                    labels={"figure": "power curve"},
                )
            }
            if CONTROLS
            else {}
        ),
    log:
        "results/logs/mechanisms/summary.log",
    benchmark:
        "results/benchmarks/mechanisms/summary.tsv"
    conda:
        ENV
    params:
        runs=mechanism_runs(),
        phenomena=PHENOMENA,
        ground_truth=GROUND_TRUTH,
        agreement=MECHANISMS["agreement"],
        margin=MECHANISMS["agreement_margin"],
        controls=CONTROLS,
    script:
        "../scripts/mechanisms/summary.py"
