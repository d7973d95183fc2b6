# Shared helpers: config validation, code tracking, the acquired files, GPU limits. Each branch's
# settings and input functions live in rules/<branch>_common.smk, its rules in rules/<branch>.smk.
import os
from pathlib import Path

from snakemake.exceptions import WorkflowError

from insilico.acquire.local import LocalDataError, check_local_files
from insilico.core.codedeps import closure
from insilico.branches import validate
from insilico.core.config import ConfigError, load_schema, read_config_file

# The defaults are the workflow's own config.yaml, under whatever config Snakemake read: the same
# file when run from the workflow folder, a preset alone under `--directory .test` (the catalog).
try:
    _validated = validate(
        config,
        load_schema(Path(workflow.basedir) / "schemas" / "config.schema.yaml"),
        read_config_file(Path(workflow.basedir) / "config.yaml"),
    )
except ConfigError as error:
    raise WorkflowError(f"Invalid configuration: {error}") from None
config.clear()
config.update(_validated)

SRC = Path(workflow.basedir) / "src"
ENV = "../envs/insilico.yaml"


def code(script, *modules):
    """The package modules that ``script`` ("scripts/<branch>/<rule>.py") runs: its code inputs.

    Snakemake tracks only a rule's script, not what it imports; declaring the modules as inputs
    makes an edit to one of them rerun exactly the rules that run it. They are derived from the
    script's import statements (insilico.core.codedeps), never listed by hand. ``modules`` are
    modules the script loads by name at run time (a wildcard's model), with their imports too.
    Paths are relative to the working directory, so a finished run can be moved or copied.
    """
    files = closure(Path(workflow.basedir) / script, SRC, tuple(modules))
    return [os.path.relpath(path) for path in files]


BRANCHES = config["branches"]


def acquired_files():
    """Every data file the configured branches acquire; each has a provenance sidecar."""
    return (retina_acquired_files() if "retina" in BRANCHES else []) + (
        it_acquired_files() if "it" in BRANCHES else []
    )


def check_local_data(checks):
    """Stop before any job when a local data file fails its check; ``checks`` are (config key,
    file, check) triples (insilico.acquire.local.check_local_files). Cluster jobs parse the
    workflow again: only the main process checks."""
    if not workflow.is_main_process:
        return
    try:
        check_local_files(checks)
    except LocalDataError as error:
        raise WorkflowError(f"Invalid local data: {error}") from None


def branch_targets():
    """The results of the branches in config key `branches`."""
    targets = {
        "retina": lambda: retina_targets() + retina_paper_targets(),
        "mechanisms": mechanism_targets,
        "dynamics": lambda: dynamics_targets() + grid_cells_targets(),
        "it": it_targets,
        "geometry": geometry_targets,
        "factorisation": factorisation_targets,
        "bottleneck": bottleneck_targets,
        "learning_dynamics": learning_dynamics_targets,
        "efficient_coding": efficient_coding_targets,
        "objectives": objectives_targets,
        "learning_rules": learning_rules_targets,
    }
    return [path for branch in BRANCHES for path in targets[branch]()]


def claims_tables():
    """Branch label -> claims.csv of every configured branch that writes one."""
    tables = {
        "retina": ["results/retina/claims.csv"],
        "it": ["results/it/claims.csv"],
        "dynamics": ["results/dynamics/claims.csv"],
        "grid_cells": [f"{GRID_DIR}/claims.csv"],
        "bottleneck": ["results/bottleneck/claims.csv"],
        "learning_dynamics": [f"{LEARNDYN_DIR}/claims.csv"],
        "efficient_coding": ["results/efficient_coding/claims.csv"],
        "objectives": ["results/objectives/claims.csv"],
        "learning_rules": ["results/learning_rules/claims.csv"],
    }
    branch_of = {"grid_cells": "dynamics"}
    return {
        label: paths[0]
        for label, paths in tables.items()
        if branch_of.get(label, label) in BRANCHES
    }


def limit_gpu_jobs_to_this_machine():
    """Locally, run at most one GPU job per GPU of this machine at once (each job claims a device
    of its own, see insilico.core.device), unless `--resources gpu=N` is given. Without a GPU there is no
    limit (GPU rules then run on the CPU, limited by cores); on a cluster the scheduler hands out
    the GPUs."""
    if (
        not workflow.is_main_process
        or not workflow.local_exec
        or "gpu" in workflow.global_resources
    ):
        return
    from insilico.core.device import available_gpus

    gpus = available_gpus()
    if gpus:
        workflow.register_resource("gpu", len(gpus))
        logger.info(
            f"insilico: {len(gpus)} GPU(s) found ({', '.join(gpus)}): at most {len(gpus)} GPU "
            "jobs at once; --resources gpu=N overrides"
        )


limit_gpu_jobs_to_this_machine()
