"""Snakemake adapter: compare the channels attribution selects with the simulator's true pathways."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import read_netcdf, write_netcdf
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)

from insilico.mechanisms.groundtruth import check, receptive_field_offsets  # noqa: E402
from insilico.retina.inference import load_model  # noqa: E402
from insilico.retina.simulator import SimulatedRetina  # noqa: E402

device = choose_device(log)
model, meta = load_model(snakemake.input.model)
retina = SimulatedRetina(dict(snakemake.params.retina), snakemake.params.retina_seed)
offsets = receptive_field_offsets(model.to(device), meta)
for phenomenon in snakemake.params.phenomena:
    responses = read_netcdf(snakemake.input[f"responses_{phenomenon}"])
    result = check(
        model,
        meta,
        responses,
        read_netcdf(snakemake.input[f"attribution_{phenomenon}"]),
        read_netcdf(snakemake.input[f"reduction_{phenomenon}"]),
        retina,
        offsets=offsets,
        permutations=snakemake.params.test["permutations"],
        shuffles=snakemake.params.test["shuffles"],
        alpha=snakemake.params.test["alpha"],
        seed=snakemake.params.test["seed"],
        batch_size=snakemake.params.batch_size,
        device=device,
    )
    write_netcdf(result, snakemake.output[phenomenon])
    log.info(
        "%s: %d responsive cells; per layer precision %s (chance %s, p %s), overlap %s "
        "(chance %s, p %s), recovered %s; identities shuffled: recovered in %s of shuffles",
        phenomenon,
        result.attrs["n_responsive_cells"],
        result["mean_precision"].values.round(3).tolist(),
        result["mean_chance"].values.round(3).tolist(),
        result["p_precision"].values.round(4).tolist(),
        result["mean_overlap"].values.round(3).tolist(),
        result["mean_overlap_chance"].values.round(3).tolist(),
        result["p_overlap"].values.round(4).tolist(),
        result["recovered"].values.tolist(),
        result["shuffled_recovered"].mean("shuffle").values.round(3).tolist(),
    )
