# insilico: deep-network models of the visual system, built and dissected reproducibly.
# `snakemake --cores all` runs the whole DAG on the default (simulated) configuration.
import os
import sys

from snakemake.utils import min_version

min_version("9.0")

# The workflow runs its own copy of the package (src/), in this process and in every job it
# starts, so that results always come from the code next to this Snakefile.
_SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, _SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [_SRC, os.environ.get("PYTHONPATH")])
)


# Declared so that cluster executors pass it on to every job.
envvars:
    "PYTHONPATH",


configfile: "config.yaml"


report: "report/workflow.rst"


# One file per branch (each includes its <branch>_common.smk); the provenance table of every
# branch's data comes last, when all branches have said what they acquire; the budget table of
# the run's measured cost after everything.
include: "rules/common.smk"
include: "rules/retina.smk"
include: "rules/mechanisms.smk"
include: "rules/dynamics.smk"
include: "rules/it.smk"
include: "rules/acquire.smk"
include: "rules/geometry.smk"
include: "rules/factorisation.smk"
include: "rules/bottleneck.smk"
include: "rules/budgets.smk"


rule all:
    default_target: True
    input:
        "results/data_provenance.csv",
        branch_targets(),
        "results/budgets.csv",
