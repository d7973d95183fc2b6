"""Snakemake adapter: render the categorisation images (IT renderer's objects on 1/f backgrounds)."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.it.simulator import task_image_set

log = job_logger(snakemake.log[0])
settings = dict(snakemake.params.images)
images = task_image_set(
    {key: settings[key] for key in ("n_categories", "objects_per_category", "seed")},
    n_train=settings["n_train"],
    n_test=settings["n_test"],
    seed=settings["seed"],
    size=settings["size"],
)
log.info("%d training and %d test images", images.sizes["train_image"], images.sizes["test_image"])
write_netcdf(images, snakemake.output[0])
