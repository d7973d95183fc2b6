"""Snakemake adapter: every ablation variant of one recording, ranked on validation, tested on the
held-out movie against its exact ceiling."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger
from insilico.retina import ablation
from insilico.retina.evaluate import evaluate, reliability
from insilico.retina.recording import read_recording

log = job_logger(snakemake.log[0])
claim_gpu(log)  # one GPU per job on a multi-GPU machine; before CUDA starts
torch.set_num_threads(snakemake.threads)
device = choose_device(log)
labels = {label: tuple(variant) for label, variant in snakemake.params.variants}
cells = snakemake.params.cells
test_set = snakemake.params.test_set
recording = read_recording(snakemake.input.recording, cells=cells, test_set=test_set)
evaluations, curves = {}, {}
for label, model, history in zip(
    labels, snakemake.input.models, snakemake.input.curves, strict=True
):
    evaluations[label] = evaluate(
        model, snakemake.input.recording, cells, recording=recording, device=device
    )
    curves[label] = read_netcdf(history)
ceiling = reliability(
    snakemake.input.recording,
    cells,
    snakemake.params.n_splits,
    snakemake.params.seed,
    first_bin=snakemake.params.first_bin,
    test_set=test_set,
)
result = ablation.collect(evaluations, curves, ceiling, labels)
log.info(
    "mean fraction of the ceiling per variant:\n%s",
    result["fraction_of_ceiling"].mean("cell").to_pandas().to_string(),
)
write_netcdf(result, snakemake.output[0])
