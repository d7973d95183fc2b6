"""Snakemake adapter: trial-averaged V4/IT responses and split-half ceilings, aligned to the stimuli."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.it.protocol.ceiling import ceilings, neural_targets

log = job_logger(snakemake.log[0])
neural = neural_targets(
    assembly_path=snakemake.input.assembly,
    temporal_path=snakemake.input.get("temporal_assembly"),  # optional for local data
    csv_path=snakemake.input.stimuli_csv,
    n_splits=snakemake.params.n_splits,
    seed=snakemake.params.seed,
    groundtruth_path=snakemake.input.groundtruth[0] if snakemake.input.groundtruth else None,
    **snakemake.params.data,  # the source's stratify_by column and averaging window
)
log.info(
    "%d stimuli, %d neuroids, %d time bins, %d repetitions",
    neural.sizes["stimulus"],
    neural.sizes["neuroid"],
    neural.sizes["time_bin"],
    neural.attrs["n_repetitions"],
)
for note in ("temporal_missing", "ceiling_missing"):
    if note in neural.attrs:
        log.info("%s", neural.attrs[note])
log.info("ceilings:\n%s", ceilings(neural).to_dataframe().to_string())
write_netcdf(neural, snakemake.output[0])
