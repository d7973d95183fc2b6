"""Snakemake adapter for the retina figures (one rule per figure, one adapter for all)."""

from insilico.io import read_netcdf
from insilico.logs import job_logger
from insilico.plots import retina

log = job_logger(snakemake.log[0])
figure = snakemake.output[0]
if snakemake.rule == "plot_retina_comparison":
    retina.model_comparison(read_netcdf(snakemake.input.performance), figure)
elif snakemake.rule == "plot_retina_predictions":
    evaluations = dict(
        zip(snakemake.params.models, map(read_netcdf, snakemake.input.evaluations), strict=True)
    )
    retina.example_predictions(evaluations, figure)
elif snakemake.rule == "plot_cnn_filters":
    retina.cnn_filters(snakemake.input.model[0], figure)
elif snakemake.rule == "plot_retina_model_comparison":
    performances = dict(
        zip(snakemake.params.stimuli, map(read_netcdf, snakemake.input.performance), strict=True)
    )
    retina.model_comparison_classes(performances, figure)
elif snakemake.rule == "plot_retina_data_efficiency":
    datasets = dict(
        zip(snakemake.params.stimuli, map(read_netcdf, snakemake.input.results), strict=True)
    )
    retina.data_efficiency(datasets, figure)
elif snakemake.rule == "plot_retina_generalization":
    retina.generalization(read_netcdf(snakemake.input.results), figure)
elif snakemake.rule == "plot_retina_receptive_fields":
    retina.receptive_fields(read_netcdf(snakemake.input.results), figure)
else:
    raise ValueError(f"plot_retina.py does not know rule {snakemake.rule!r}")
log.info("wrote %s", figure)
