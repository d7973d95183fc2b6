# Settings, input functions and targets of the dynamics branch (rules/dynamics.smk).
from insilico.dynamics.population import chunks as dynamics_chunks

DYNAMICS = config["dynamics"]
DYNAMICS_CHUNKS = dynamics_chunks(DYNAMICS)


def dynamics_networks(wildcards):
    """The networks (as dicts) of one training job; params, so a change reruns that job."""
    members = DYNAMICS_CHUNKS[wildcards.dyn_task][int(wildcards.chunk)]
    return [spec.as_dict() for spec in members]


def dynamics_chunk_files(kind, task):
    """Every chunk's file of ``kind`` for ``task`` (models/chunkN.pt, fixed_points/chunkN.nc, ...)."""
    suffix = {"models": ".pt", "history": "_history.nc", "fixed_points": ".nc"}[kind]
    folder = "models" if kind == "history" else kind
    return [
        f"results/dynamics/{task}/{folder}/chunk{index}{suffix}"
        for index in range(len(DYNAMICS_CHUNKS[task]))
    ]


def dynamics_all_chunk_files(kind):
    return [
        path for task in DYNAMICS["tasks"] for path in dynamics_chunk_files(kind, task)
    ]


def dynamics_targets():
    figures = ["training", "fixed_points", "geometry", "topology"]
    if "context" in DYNAMICS["tasks"]:
        figures.append("line_attractor")
    return [f"results/dynamics/figures/{figure}.png" for figure in figures] + [
        "results/dynamics/summary.csv",
        "results/dynamics/figures/dsa.png",
        "results/dynamics/dsa_separation.csv",
    ]


def dynamics_figures():
    """The figures of the branch (the line attractor only when the context task is trained)."""
    labels = {
        "training": "training",
        "fixed_points": "fixed points",
        "geometry": "geometry (SVCCA, CKA, Procrustes)",
        "topology": "topology",
        "line_attractor": "line attractor (context task)",
    }
    if "context" not in DYNAMICS["tasks"]:
        del labels["line_attractor"]
    return {
        name: report(
            f"results/dynamics/figures/{name}.png",
            caption=f"../report/dynamics_{name}.rst",
            category="Dynamics",
            labels={"figure": label},
        )
        for name, label in labels.items()
    }
