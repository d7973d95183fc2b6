"""Snakemake adapter: every seed's trained mosaic encoders, stacked in one job (torch)."""

from insilico.core.device import choose_device, claim_gpu
from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.efficient_coding.encoder import trained
from insilico.efficient_coding.spectrum import patch_spectrum
from insilico.efficient_coding.theory import movie_patches

log = job_logger(snakemake.log[0])
claim_gpu(log)
device = choose_device(log)
settings, retina = dict(snakemake.params.settings), dict(snakemake.params.retina)
patches = {seed: movie_patches(settings, retina, seed)[1] for seed in settings["seeds"]}
spectra = {seed: patch_spectrum(p).astype(float) for seed, p in patches.items()}
result = trained(patches, spectra, settings, log, snakemake.params.checkpoints, device)
log.info(
    "relative errors (seed, budget, kind %s): %s",
    list(result["kind"].values),
    result["error"].values.round(4).tolist(),
)
write_netcdf(result, snakemake.output[0])
