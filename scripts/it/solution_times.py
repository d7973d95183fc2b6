"""Snakemake adapter: per-image object solution times (Kar et al. 2019) from the IT responses."""

from insilico.core.io import atomic_path, read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.it.assembly import read_stimulus_metadata
from insilico.it.solution_times import solution_time_dataset

log = job_logger(snakemake.log[0])
result = solution_time_dataset(read_netcdf(snakemake.input.neural), **snakemake.params.settings)
log.info("%s", result["solved"].to_series().value_counts().to_dict())
write_netcdf(result, snakemake.output.times)
# the stimulus set's metadata with each image's solution time and group
metadata = read_stimulus_metadata(
    snakemake.input.stimuli_csv, snakemake.params.stratify_by
).set_index("stimulus_id")
table = result[["solution_time_ms", "solved"]].to_dataframe().set_index("stimulus_id")
with atomic_path(snakemake.output.stimuli) as tmp:
    metadata.join(table[["solution_time_ms", "solved"]]).to_csv(tmp)
