# Factorisation branch: low-rank tensor AMP against ALS with its state-evolution theory (Kadmon &
# Ganguli 2018) and convolutive NMF by MU, HALS and ANLS (Degleris et al. 2019), on planted data
# and on the simulators' tensors. `snakemake factorisation` runs all of it; no job imports torch.
# Settings and input functions: rules/factorisation_common.smk.


include: "factorisation_common.smk"


rule factorisation:
    input:
        factorisation_targets(),


rule factorisation_overlap:
    input:
        code=code("scripts/factorisation/overlap.py"),
    output:
        f"{FACT_DIR}/overlap_order{{order}}.nc",
    log:
        "results/logs/factorisation/overlap_order{order}.log",
    benchmark:
        "results/benchmarks/factorisation/overlap_order{order}.tsv"
    wildcard_constraints:
        order="2|3",
    conda:
        ENV
    threads: 1
    params:
        study=lambda wildcards: FACTORISATION["overlap"][f"order{wildcards.order}"],
        amp=FACTORISATION["amp"],
        seed=FACTORISATION["seed"],
    script:
        "../scripts/factorisation/overlap.py"


rule factorisation_phase_diagram:
    input:
        code=code("scripts/factorisation/phase_diagram.py"),
    output:
        f"{FACT_DIR}/phase_order{{order}}.nc",
    log:
        "results/logs/factorisation/phase_order{order}.log",
    benchmark:
        "results/benchmarks/factorisation/phase_order{order}.tsv"
    wildcard_constraints:
        order="2|3",
    conda:
        ENV
    threads: 1
    params:
        study=lambda wildcards: FACTORISATION["phase"][f"order{wildcards.order}"],
    script:
        "../scripts/factorisation/phase_diagram.py"


rule factorisation_amp_vs_als:
    input:
        code=code("scripts/factorisation/amp_vs_als.py"),
    output:
        f"{FACT_DIR}/amp_vs_als.nc",
    log:
        "results/logs/factorisation/amp_vs_als.log",
    benchmark:
        "results/benchmarks/factorisation/amp_vs_als.tsv"
    conda:
        ENV
    threads: 1
    params:
        study=FACTORISATION["amp_vs_als"],
        amp=FACTORISATION["amp"],
        als=FACTORISATION["als"],
        seed=FACTORISATION["seed"],
    script:
        "../scripts/factorisation/amp_vs_als.py"


rule factorisation_cnmf:
    input:
        code=code("scripts/factorisation/cnmf_benchmark.py"),
    output:
        f"{FACT_DIR}/cnmf_benchmark.nc",
    log:
        "results/logs/factorisation/cnmf_benchmark.log",
    benchmark:
        "results/benchmarks/factorisation/cnmf_benchmark.tsv"
    conda:
        ENV
    threads: 1
    params:
        cnmf=FACTORISATION["cnmf"],
        seed=FACTORISATION["seed"],
    script:
        "../scripts/factorisation/cnmf_benchmark.py"


rule factorisation_applications:
    input:
        retina=(
            f"resources/retina/{config['data']['retina']['experiments'][0]}/"
            f"{FACTORISATION['applications']['retina_stimulus']}.h5"
        ),
        # A function: without a temporal assembly (IT_FILES lacks it) the rule is never planned.
        it=lambda wildcards: f"resources/it/{IT_FILES['temporal_assembly']}",
        code=code("scripts/factorisation/applications.py"),
    output:
        control=f"{FACT_DIR}/applications/cp_control.nc",
        retina_cp=f"{FACT_DIR}/applications/cp_retina.nc",
        retina_cnmf=f"{FACT_DIR}/applications/cnmf_retina.nc",
        it_cp=f"{FACT_DIR}/applications/cp_it.nc",
    log:
        "results/logs/factorisation/applications.log",
    benchmark:
        "results/benchmarks/factorisation/applications.tsv"
    conda:
        ENV
    threads: 1
    params:
        applications=FACTORISATION["applications"],
        seed=FACTORISATION["seed"],
    script:
        "../scripts/factorisation/applications.py"


rule factorisation_plots:
    input:
        overlap2=f"{FACT_DIR}/overlap_order2.nc",
        overlap3=f"{FACT_DIR}/overlap_order3.nc",
        phase2=f"{FACT_DIR}/phase_order2.nc",
        phase3=f"{FACT_DIR}/phase_order3.nc",
        amp_als=f"{FACT_DIR}/amp_vs_als.nc",
        cnmf=f"{FACT_DIR}/cnmf_benchmark.nc",
        code=code("scripts/factorisation/plots.py"),
    output:
        **{
            key: report(
                f"{FACT_DIR}/figures/{name}.png",
                caption=f"../report/factorisation_{name}.rst",
                category="Factorisation",
                labels={"figure": label},
            )
            for key, (name, label) in FACT_FIGURES.items()
        },
    log:
        "results/logs/factorisation/plots.log",
    benchmark:
        "results/benchmarks/factorisation/plots.tsv"
    conda:
        ENV
    script:
        "../scripts/factorisation/plots.py"


rule factorisation_summary:
    input:
        overlap2=f"{FACT_DIR}/overlap_order2.nc",
        overlap3=f"{FACT_DIR}/overlap_order3.nc",
        amp_als=f"{FACT_DIR}/amp_vs_als.nc",
        cnmf=f"{FACT_DIR}/cnmf_benchmark.nc",
        control=f"{FACT_DIR}/applications/cp_control.nc",
        retina_cp=f"{FACT_DIR}/applications/cp_retina.nc",
        retina_cnmf=f"{FACT_DIR}/applications/cnmf_retina.nc",
        it_cp=f"{FACT_DIR}/applications/cp_it.nc",
        code=code("scripts/factorisation/summary.py"),
    output:
        report(
            f"{FACT_DIR}/summary.csv",
            caption="../report/factorisation_summary.rst",
            category="Factorisation",
            labels={"figure": "summary table"},
        ),
    log:
        "results/logs/factorisation/summary.log",
    benchmark:
        "results/benchmarks/factorisation/summary.tsv"
    conda:
        ENV
    script:
        "../scripts/factorisation/summary.py"
