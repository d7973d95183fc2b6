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
rows, values = [], []
for (rule, seed), path in zip(snakemake.params.runs, snakemake.input.models, strict=True):
    trained, meta = load_it_model(path)
    torch.manual_seed(int(seed))  # the initialisation the training started from
    start = UntiedCNN(size=meta["size"], n_classes=meta["n_classes"], **meta["model_params"])
    initial = build_it_model(
        "cnn", size=meta["size"], n_classes=meta["n_classes"], **meta["model_params"]
    )
    initial.load_state_dict(it_state_dict(start))
    n = settings["n_images"]
    x = standardise(images["train_images"].values[:n], meta["image_mean"], meta["image_std"], "cpu")
    y = torch.as_tensor(images["train_labels"].values[:n], dtype=torch.long)
    for state, model in (("initial", initial), ("trained", trained)):
        model = model.double().eval()
        result = spectrum(model, x.double(), y, meta["n_classes"], settings["lanczos_steps"])
        rows.append((rule, int(seed), state, result["outliers"], result["gradient_share"]))
        values.append(result["eigenvalues"][: settings["lanczos_steps"]])
        log.info(
            "%s seed %s %s: outliers %d, gradient share %.3f, top %s",
            rule,
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
