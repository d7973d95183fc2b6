"""Snakemake adapter: CP and CNMF of the simulated retina and IT, with a planted-rank control."""

import numpy as np

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.factorisation import applications as app
from insilico.it.assembly import read_assembly
from insilico.retina.recording import read_recording

log = job_logger(snakemake.log[0])
p = snakemake.params.applications
seed = snakemake.params.seed
ranks = list(range(1, p["max_rank"] + 1))

control = app.planted_cp(
    np.random.default_rng(seed), tuple(p["control_shape"]), p["control_rank"], p["control_noise"]
)
labels = np.zeros(control.shape[0], dtype=int)
ds = app.cp_study(control, labels, 0, ranks, seed, ("a", "b", "c"))
ds.attrs["planted_rank"] = p["control_rank"]
log.info("control: planted rank %d, selected %d", p["control_rank"], ds.attrs["selected_rank"])
write_netcdf(ds, snakemake.output.control)

recording = read_recording(snakemake.input.retina)
types = app.retina_cell_types(snakemake.input.retina)
cells_time_repeats = app.retina_tensor(recording.test_repeats, p["retina_pool_bins"])
ds = app.cp_study(cells_time_repeats, types, 0, ranks, seed, ("cell", "time", "repeat"))
log.info(
    "retina CP: rank %d, type decoding %.2f (chance %.2f)",
    ds.attrs["selected_rank"],
    ds.attrs["decoding_accuracy"],
    ds.attrs["chance"],
)
write_netcdf(ds, snakemake.output.retina_cp)

ds = app.cnmf_study(recording.test_rate, types, p["cnmf_k"], p["cnmf_l"], seed, p["cnmf_max_iter"])
log.info(
    "retina CNMF: loss %.3f, type purity of motifs %.2f", ds.attrs["final_loss"], ds.attrs["purity"]
)
write_netcdf(ds, snakemake.output.retina_cnmf)

neuroids_time_images, categories = app.it_tensor(read_assembly(snakemake.input.it), p["it_region"])
ds = app.cp_study(
    neuroids_time_images, categories, 2, ranks, seed, ("neuroid", "time_bin", "image")
)
log.info(
    "IT CP: rank %d, category decoding %.2f (chance %.2f)",
    ds.attrs["selected_rank"],
    ds.attrs["decoding_accuracy"],
    ds.attrs["chance"],
)
write_netcdf(ds, snakemake.output.it_cp)
