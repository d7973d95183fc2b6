"""Snakemake adapter: the trained control of one simulated experiment, written as a model file.

The fitted CNN's architecture and training on the same recording, its hidden layers supervised on
the simulator's bipolar and amacrine signals (:mod:`insilico.mechanisms.trained`).
"""

import torch

from insilico.core.io import save_torch
from insilico.core.logs import job_logger
from insilico.mechanisms import trained
from insilico.mechanisms.control import payload
from insilico.retina.recording import read_recording
from insilico.retina.simulator import SimulatedRetina

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
params = snakemake.params
retina = SimulatedRetina(dict(params.retina), params.retina_seed)
recording = read_recording(snakemake.input.recording, params.cells)
settings = {**params.train, "seed": int(snakemake.wildcards.seed)}
model, meta = trained.train_control(
    recording,
    retina,
    {"history": params.history, **params.model},
    settings,
    checkpoint_path=params.checkpoint,
    log=log,
)
heldout = trained.heldout_hidden_correlation(model, meta, retina, params.stimulus)
for layer, names in trained.supervised_signals(retina, params.model["channels"]).items():
    log.info(
        "layer %d: r with the simulator's signals on a held-out %s movie: %s",
        layer,
        params.stimulus,
        ", ".join(f"{n} {r:.2f}" for n, r in zip(names, heldout[layer], strict=True)),
    )
meta["heldout_hidden_r"] = {layer: [float(r) for r in values] for layer, values in heldout.items()}
save_torch(payload(model, meta), snakemake.output[0])
