"""Snakemake adapter: simulate one recording of the ground-truth retina."""

from insilico.acquire.provenance import write_provenance
from insilico.core.logs import job_logger
from insilico.retina.simulator import SIMULATOR_VERSION, simulate_recording

log = job_logger(snakemake.log[0])
stimulus = snakemake.wildcards.stimulus
log.info(
    "simulating %s for experiment %s (seed %d)",
    stimulus,
    snakemake.wildcards.experiment,
    snakemake.params.seed,
)
simulate_recording(
    snakemake.output.recording, stimulus, dict(snakemake.params.retina), snakemake.params.seed
)
write_provenance(
    snakemake.output.recording,
    source="simulated",
    url_or_path=None,
    checksum=None,
    extra={
        "simulator_version": SIMULATOR_VERSION,
        "seed": snakemake.params.seed,
        "stimulus": stimulus,
        "parameters": dict(snakemake.params.retina),
    },
)
log.info("wrote %s", snakemake.output.recording)
