"""Snakemake adapter: simulate the HvM-like experiment (stimulus set, V4/IT assemblies, ground truth)."""

import torch

from insilico.acquire.provenance import write_provenance
from insilico.core.logs import job_logger
from insilico.it.experiment import simulate_experiment
from insilico.it.simulator import SIMULATOR_VERSION

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
params = dict(snakemake.params.it)
out = snakemake.output
log.info("simulating the IT experiment (seed %d)", params["seed"])
summary = simulate_experiment(
    params,
    params["seed"],
    assembly_path=out.assembly,
    temporal_path=out.temporal_assembly,
    csv_path=out.stimuli_csv,
    zip_path=out.stimuli_zip,
    groundtruth_path=out.groundtruth,
    network_path=snakemake.input.network,
)
log.info("%s", summary)
for name in ("assembly", "temporal_assembly", "stimuli_csv", "stimuli_zip"):
    write_provenance(
        out[name],
        source="simulated",
        url_or_path=None,
        checksum=None,
        extra={
            "simulator_version": SIMULATOR_VERSION,
            "seed": params["seed"],
            "parameters": params,
        },
    )
