# insilico: deep-network models of the visual system, built and dissected reproducibly.
# `snakemake --cores all` runs the whole DAG on the default (simulated) configuration.
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

# The workflow runs its own copy of the package (src/), in this process and in every job it
# starts, so that results always come from the code next to this Snakefile.
_SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, _SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [_SRC, os.environ.get("PYTHONPATH")])
)


from insilico.core.config import ConfigError, read_config_file


# Declared so that cluster executors pass it on to every job.
envvars:
    "PYTHONPATH",


# Snakemake's own message for a malformed config file names neither the file nor the line.
try:
    read_config_file("config.yaml")
except ConfigError as error:
    raise WorkflowError(f"Invalid configuration: {error}") from None


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
include: "rules/learning_dynamics.smk"
include: "rules/efficient_coding.smk"
include: "rules/objectives.smk"
include: "rules/learning_rules.smk"
include: "rules/claims.smk"
include: "rules/budgets.smk"


rule all:
    default_target: True
    input:
        "results/data_provenance.csv",
        branch_targets(),
        "results/claims_summary.csv",
        "results/budgets.csv",
