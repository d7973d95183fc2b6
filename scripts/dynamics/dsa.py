"""Snakemake adapter: DSA between all networks of the population, beside geometry and topology."""

import numpy as np
import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import atomic_path, read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.dynamics.dsa import population_dsa, separation_table
from insilico.dynamics.plots import dsa as plot_dsa
from insilico.dynamics.similarity import probe_hidden_states
from insilico.dynamics.train import network_coords

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)
device = choose_device(log)
trajectories, networks = [], []
for models in snakemake.params.models.values():
    _, members, states = probe_hidden_states(models, snakemake.params.similarity, device)
    trajectories.extend(np.asarray(h.cpu()) for h in states)
    networks.extend(members)
dsa = population_dsa(trajectories, network_coords(networks), snakemake.params.dsa)
log.info(
    "DSA over %d networks: silhouette arch within task %.3f, task %.3f",
    len(networks),
    dsa.attrs["silhouette_arch_within_task"],
    dsa.attrs["silhouette_task"],
)
write_netcdf(dsa, snakemake.output.dsa)
geometries = [read_netcdf(path) for path in snakemake.input.geometry]
table = separation_table(dsa, geometries, read_netcdf(snakemake.input.topology))
with atomic_path(snakemake.output.table) as tmp:
    table.to_csv(tmp, index=False, float_format="%.4g")
plot_dsa(dsa, table, snakemake.output.figure)
