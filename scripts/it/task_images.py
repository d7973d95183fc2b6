"""Snakemake adapter: render the categorisation training and test images (disjoint from the stimuli)."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.it.simulator import task_image_set

log = job_logger(snakemake.log[0])
task = snakemake.params.task
images = task_image_set(
    dict(snakemake.params.objects),
    n_train=task["n_train"],
    n_test=task["n_test"],
    seed=task["seed"],
    size=snakemake.params.image_size,
)
log.info("%s", images)
write_netcdf(images, snakemake.output[0])
