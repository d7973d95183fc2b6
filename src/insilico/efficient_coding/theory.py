"""The theory job: measured movie spectra, their power-law fits and the water-filling optima.

Per movie seed: the space-time spectrum and its 1/(k^a w^b) fit, the encoders' patch spectrum,
and the best one- and two-type mosaics against the budget; the same for that spectrum tilted to
steeper or flatter spatial slopes (|f|^-tilt, the paper's eccentricity argument, one replicate
per seed). On toy spectra 1/(|f|^a |v|^b) (the paper's form, with the measured temporal
exponent): the same against a, for comparison. numpy only.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from insilico.efficient_coding import spectrum, waterfill
from insilico.retina.simulator import DT

SWEPT = (
    "one_error",
    "one_stride",
    "pair_error",
    "two_error",
    "coarse_stride",
    "fine_stride",
    "coarse_share",
)


def noise_of(settings: dict) -> waterfill.Noise:
    return waterfill.Noise(settings["noise"]["input"], settings["noise"]["output"])


def movie_patches(settings: dict, retina: dict, seed: int):
    """The movie of ``seed`` (contrast units) and its row patches in units of the movie's std."""
    movie = spectrum.render(
        settings["movie"]["n_frames"],
        settings["movie"]["size"],
        seed,
        round(retina["saccade_seconds"] / DT),
        retina["jitter_px"],
    )
    return movie, spectrum.row_patches(movie, settings["patch_frames"], movie.std())


def _sweeps(spectra, settings: dict, dims: tuple[str, ...]) -> dict:
    """Water-filling sweeps of an array of spectra (dims..., f, v) against the budget."""
    noise = noise_of(settings)
    flat = np.reshape(spectra, (-1, *np.shape(spectra)[-2:]))
    results = [
        waterfill.sweep(
            s, noise, settings["strides"], settings["budgets"], settings["budget_shares"]
        )
        for s in flat
    ]
    shape = np.shape(spectra)[:-2] + (len(settings["budgets"]),)
    return {
        name: ((*dims, "budget"), np.stack([r[name] for r in results]).reshape(shape))
        for name in SWEPT
    }


def theory(settings: dict, retina: dict, log) -> xr.Dataset:
    """Spectra, fits and water-filling sweeps for every movie seed and toy spectral slope."""
    fit = settings["spectrum"]
    measured, patch_spectra, exponents = [], [], []
    for seed in settings["seeds"]:
        movie, patches = movie_patches(settings, retina, seed)
        k, w, power = spectrum.spacetime_spectrum(movie, fit["block_frames"], fit["n_radii"])
        exponents.append(spectrum.fit_power_law(k, w, power, fit["k_range"], fit["w_range"]))
        measured.append(power)
        patch_spectra.append(spectrum.patch_spectrum(patches).astype(float))
        log.info(
            "seed %d: %d patches, fit a = %.2f, b = %.2f", seed, len(patches), *exponents[-1][:2]
        )
    b = float(np.mean([e[1] for e in exponents]))
    pixels, frames = patch_spectra[0].shape
    toys = [spectrum.power_law_spectrum(pixels, frames, a, b) for a in settings["slopes"]]
    tilts = [[spectrum.tilted(p, t) for t in settings["tilts"]] for p in patch_spectra]
    data = {
        "power": (("seed", "k", "w"), np.stack(measured)),
        "fit_a": ("seed", [e[0] for e in exponents]),
        "fit_b": ("seed", [e[1] for e in exponents]),
        "fit_amplitude": ("seed", [e[2] for e in exponents]),
        "patch_power": (("seed", "f", "v"), np.stack(patch_spectra)),
        **_sweeps(patch_spectra, settings, ("seed",)),
        **{
            f"tilt_{name}": value
            for name, value in _sweeps(tilts, settings, ("seed", "tilt")).items()
        },
        **{f"toy_{name}": value for name, value in _sweeps(toys, settings, ("slope",)).items()},
    }
    coords = {
        "seed": settings["seeds"],
        "k": k,
        "w": w,
        "budget": settings["budgets"],
        "slope": settings["slopes"],
        "tilt": settings["tilts"],
    }
    return xr.Dataset(data, coords=coords, attrs={"toy_temporal_exponent": b})
