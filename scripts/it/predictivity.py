"""Snakemake adapter: Brain-Score neural predictivity of every layer of one model, static and per bin."""

import torch

from insilico.core.device import claim_gpu
from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.it.protocol.score import score_model

log = job_logger(snakemake.log[0])
if snakemake.params.score["device"] == "cuda":
    claim_gpu(log)
torch.set_num_threads(snakemake.threads)
score = snakemake.params.score
neural = read_netcdf(snakemake.input.neural)
solved = None
if hasattr(snakemake.input, "solution_times"):  # absent without a temporal assembly
    times = read_netcdf(snakemake.input.solution_times)
    solved = (
        times["solved"]
        .to_series()
        .set_axis(times["stimulus_id"].values.astype(str))
        .loc[neural["stimulus_id"].values.astype(str)]
        .to_numpy()
    )
scores = score_model(
    neural,
    dict(zip(snakemake.params.layers, snakemake.input.activations, strict=True)),
    n_splits=score["n_splits"],
    train_fraction=score["train_fraction"],
    seed=score["seed"],
    n_components=score["n_components"],
    device=score["device"],
    temporal_layers=score["temporal_layers"],
    solved=solved,
    split_source=score["split_source"],
    latency_grid_ms=score["latency_grid_ms"],
    latency=score.get("latency", "onset"),
)
log.info(
    "median r over neuroids, mean over splits (70-170 ms window):\n%s",
    scores["score_window"].mean("split").to_pandas().round(3).to_string(),
)
log.info(
    "fitted latency (ms), median over splits:\n%s",
    scores["latency_ms"].median("split").to_pandas().to_string(),
)
write_netcdf(scores, snakemake.output[0])
