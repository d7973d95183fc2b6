"""Snakemake adapter: replica capacity against simulated capacity, synthetic and one model layer."""

from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.geometry.layers import (
    MANIFOLD_KINDS,
    WINDOW_STEP,
    aligned_activations,
    manifolds_of,
    step_features,
)
from insilico.geometry.simulation import compare, comparison_dataset, subset
from insilico.geometry.synthetic import sphere_manifolds

log = job_logger(snakemake.log[0])
settings = snakemake.params.simulation
capacity = snakemake.params.capacity
synthetic = settings["synthetic"]
neural = read_netcdf(snakemake.input.neural)
acts = read_netcdf(snakemake.input.activations)
values = aligned_activations(acts, neural["stimulus_id"].values.astype(str))
window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
features = step_features(acts, values, window, every=values.shape[1])[WINDOW_STEP]
labels = neural[MANIFOLD_KINDS[settings["manifold"]]].values.astype(str)
arguments = (capacity["n_t"], capacity["max_k"], settings["n_reps"], capacity["seed"])
cases = {
    "synthetic spheres": compare(
        sphere_manifolds(
            synthetic["features"],
            synthetic["manifolds"],
            synthetic["points"],
            synthetic["dim"],
            synthetic["radius"],
            synthetic["seed"],
        ),
        *arguments,
    ),
    snakemake.params.label: compare(
        subset(manifolds_of(features, labels), settings["max_manifolds"], capacity["seed"]),
        *arguments,
    ),
}
comparison = comparison_dataset(cases, settings["tolerance"])
log.info("theory vs simulation:\n%s", comparison.drop_dims("trial").to_dataframe().to_string())
write_netcdf(comparison, snakemake.output[0])
