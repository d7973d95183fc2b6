"""Snakemake adapter: a control CNN of one simulated experiment, written as a model file.

``circuit``: the CNN written down from the simulator's circuit; ``dense``: it plus distractor
connections at a fraction of a fitted CNN's off-pathway level; ``untrained``: the fitted CNN's
architecture at a random initialisation.
"""

import numpy as np
import torch

from insilico.core.io import save_torch
from insilico.core.logs import job_logger
from insilico.mechanisms import control
from insilico.retina.inference import load_model
from insilico.retina.simulator import SimulatedRetina

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
params = snakemake.params
retina = SimulatedRetina(dict(params.retina), params.retina_seed)
cells = None if params.cells is None else [cell - 1 for cell in params.cells]
kind = params.control["model"]
channels = tuple(params.channels)
if kind == "control":
    model, meta = control.circuit_cnn(retina, params.history, cells, channels)
else:
    fitted, fitted_meta = load_model(snakemake.input.fitted)
    if kind == "untrained":
        model, meta = control.untrained_cnn(retina, fitted_meta, params.seed)
    else:
        levels = control.distractor_levels(fitted, fitted_meta, retina)
        log.info(
            "fitted CNN's off-pathway contributions relative to each cell's strongest: "
            "median %.3f, 90th percentile %.3f (%d connections)",
            *np.quantile(levels[0], [0.5, 0.9]),
            len(levels[0]),
        )
        model, meta = control.dense_control(
            retina, params.history, levels, params.control["strength"], params.seed, cells, channels
        )
log.info(
    "%s control for %d cells (layer 1 = bipolar types %s, layer 2 adds amacrine types %s)",
    kind,
    meta["n_cells"],
    list(retina.bipolar_types),
    list(retina.amacrine_types),
)
save_torch(control.payload(model, meta), snakemake.output[0])
