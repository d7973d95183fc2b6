"""Snakemake adapter: the positive control of one simulated experiment, written as a model file."""

import torch

from insilico.core.io import save_torch
from insilico.core.logs import job_logger
from insilico.mechanisms.control import control_payload
from insilico.retina.simulator import SimulatedRetina

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
retina = SimulatedRetina(dict(snakemake.params.retina), snakemake.params.retina_seed)
cells = snakemake.params.cells
payload = control_payload(
    retina, snakemake.params.history, None if cells is None else [cell - 1 for cell in cells]
)
log.info(
    "positive control for %d cells: layer 1 = bipolar types %s, layer 2 adds amacrine types %s",
    payload["n_cells"],
    list(retina.bipolar_types),
    list(retina.amacrine_types),
)
save_torch(payload, snakemake.output[0])
