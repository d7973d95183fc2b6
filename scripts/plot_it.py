"""Snakemake adapter for the IT figures (one rule, one adapter, four figures)."""

from insilico.data.assembly import read_stimulus_set
from insilico.io import read_netcdf
from insilico.logs import job_logger
from insilico.plots import it

log = job_logger(snakemake.log[0])
scores = read_netcdf(snakemake.input.scores)
it.predictivity_by_layer(scores, snakemake.output.layers)
it.performance_vs_predictivity(scores, snakemake.output.performance)
it.temporal_predictivity(scores, snakemake.output.temporal)
it.late_solved(read_netcdf(snakemake.input.solution_times), scores, snakemake.output.late_solved)
stimuli = read_stimulus_set(snakemake.input.stimuli_csv, snakemake.input.stimuli_zip)
it.example_stimuli(stimuli, snakemake.output.stimuli)
log.info("wrote %s", list(snakemake.output))
