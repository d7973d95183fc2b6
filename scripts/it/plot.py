"""Snakemake adapter for the IT figures (one rule, one adapter, seven figures)."""

from insilico.core.io import read_netcdf
from insilico.core.logs import job_logger
from insilico.it import plots
from insilico.it.assembly import read_stimulus_set

log = job_logger(snakemake.log[0])
scores = read_netcdf(snakemake.input.scores)
plots.predictivity_by_layer(scores, snakemake.output.layers)
plots.performance_vs_predictivity(scores, snakemake.output.performance)
if hasattr(snakemake.output, "temporal"):  # absent without a temporal assembly
    plots.temporal_predictivity(scores, snakemake.output.temporal)
    solution_times = read_netcdf(snakemake.input.solution_times)
    plots.late_solved(solution_times, scores, snakemake.output.late_solved)
    plots.late_predictivity(scores, snakemake.params.late_start_ms, snakemake.output.late_bars)
    plots.solution_time_scatter(solution_times, scores, snakemake.output.solution_scatter)
stimuli = read_stimulus_set(
    snakemake.input.stimuli_csv,
    snakemake.input.stimuli_zip,
    stratify_by=snakemake.params.stratify_by,
)
plots.example_stimuli(stimuli, snakemake.output.stimuli)
log.info("wrote %s", list(snakemake.output))
