"""Snakemake adapter: top Hessian eigenvalues (Lanczos) at initialisation and after training."""

import numpy as np
import torch
import xarray as xr

from insilico.core.classification import standardise
from insilico.core.device import claim_gpu
from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.it.train import build_it_model, load_it_model
from insilico.learning_rules.hessian import spectrum
from insilico.learning_rules.network import UntiedCNN, it_state_dict

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
settings = snakemake.params.settings
images = read_netcdf(snakemake.input.images)


def initial_model(meta, seed):
    """The IT CNN at the initialisation every rule's training of this seed started from."""
    torch.manual_seed(seed)
    start = UntiedCNN(size=meta["size"], n_classes=meta["n_classes"], **meta["model_params"])
    model = build_it_model(
        "cnn", size=meta["size"], n_classes=meta["n_classes"], **meta["model_params"]
    )
    model.load_state_dict(it_state_dict(start))
    return model


rows, values, initial_done = [], [], set()
for (rule, seed), path in zip(snakemake.params.runs, snakemake.input.models, strict=True):
    trained, meta = load_it_model(path)
    n = settings["n_images"]
    x = standardise(images["train_images"].values[:n], meta["image_mean"], meta["image_std"], "cpu")
    y = torch.as_tensor(images["train_labels"].values[:n], dtype=torch.long)
    states = [("trained", trained)]
    if seed not in initial_done:  # every rule of a seed starts from the same weights
        states.insert(0, ("initial", initial_model(meta, int(seed))))
        initial_done.add(seed)
    for state, model in states:
        result = spectrum(model.eval(), x, y, meta["n_classes"], settings["lanczos_steps"])
        rule_label = "any" if state == "initial" else rule
        rows.append((rule_label, int(seed), state, result["outliers"], result["gradient_share"]))
        values.append(result["eigenvalues"])
        log.info(
            "%s seed %s %s: outliers %d, gradient share %.3f, top %s",
            rule_label,
            seed,
            state,
            result["outliers"],
            result["gradient_share"],
            np.round(values[-1][:10], 3),
        )
k = max(len(v) for v in values)
eigenvalues = np.full((len(rows), k), np.nan)
for i, v in enumerate(values):
    eigenvalues[i, : len(v)] = v
dataset = xr.Dataset(
    {
        "eigenvalue": (("spectrum", "rank"), eigenvalues),
        "outliers": ("spectrum", np.asarray([r[3] for r in rows])),
        "gradient_share": ("spectrum", np.asarray([r[4] for r in rows])),
    },
    coords={
        "rule": ("spectrum", [r[0] for r in rows]),
        "seed": ("spectrum", [r[1] for r in rows]),
        "state": ("spectrum", [r[2] for r in rows]),
        "rank": np.arange(k),
    },
    attrs={"n_classes": int(images.attrs["n_categories"]), "n_images": settings["n_images"]},
)
write_netcdf(dataset, snakemake.output[0])
