"""Snakemake adapter: responses of one CNN, and of the simulated retina, to the structured stimuli."""

import torch

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger

log = job_logger(snakemake.log[0])
claim_gpu(log)
torch.set_num_threads(snakemake.threads)

from insilico.mechanisms.control import without_element  # noqa: E402
from insilico.mechanisms.experiments import run_experiment  # noqa: E402
from insilico.mechanisms.stimuli import render  # noqa: E402
from insilico.retina.inference import load_model  # noqa: E402
from insilico.retina.simulator import SimulatedRetina  # noqa: E402

device = choose_device(log)
model, meta = load_model(snakemake.input.model)
model.to(device)
null = None
if snakemake.input.null:
    null_model, null_meta = load_model(snakemake.input.null)
    null = (null_model.to(device), null_meta)
    log.info("null model: %s", snakemake.input.null)
retina = None
if snakemake.params.retina is not None:
    retina = SimulatedRetina(dict(snakemake.params.retina), snakemake.params.retina_seed)
    log.info("ground truth: simulated retina, seed %d", snakemake.params.retina_seed)
elements = snakemake.params.elements if meta.get("control") == "circuit" else {}
for phenomenon in snakemake.params.phenomena:
    element_null = None
    if phenomenon in elements and retina is not None:
        ablated = without_element(model, meta, retina, elements[phenomenon])
        if ablated is not None:
            element_null = (elements[phenomenon], ablated[0].to(device), ablated[1])
    stimulus = render(
        phenomenon, snakemake.params.stimuli[phenomenon], meta["size"], meta["history"]
    )
    responses = run_experiment(
        stimulus,
        model=model,
        meta=meta,
        retina=retina,
        null=null,
        element_null=element_null,
        min_response=snakemake.params.min_response,
        batch_size=snakemake.params.batch_size,
    )
    write_netcdf(responses, snakemake.output[phenomenon])
    log.info(
        "%s: %d conditions x %d bins; %s",
        phenomenon,
        stimulus.sizes["condition"],
        stimulus.sizes["time"],
        responses.attrs["key_numbers"],
    )
