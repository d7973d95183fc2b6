"""The statistics the efficient code is optimised for: the rendered natural movies' power spectrum.

The movies are the retina branch's own natural-scene stimulus
(:func:`insilico.retina.simulator.natural_movie`: 1/f^2 images, a saccade every second, a random
walk of fixational jitter), rendered in contrast units (pixel - grey) / grey. Two spectra are
measured: the full space-time spectrum C(k, w) (radial in space) with a fitted power law
1/(k^a w^b), the form the theory of Ocko et al. (2018) starts from; and the periodogram of the
one-dimensional space-time patches (one pixel row over ``frames`` frames) that the encoders see,
on the discrete frequency grid of those periodic patches, where water-filling is exact.
numpy only.
"""

from __future__ import annotations

import numpy as np

from insilico.core.units import GREY
from insilico.retina.simulator import DT, natural_movie


def render(n_frames: int, size: int, seed: int, saccade_frames: int, jitter_px: float):
    """A natural movie (frames, rows, cols) in contrast units, mean removed."""
    movie = natural_movie(
        n_frames, size, np.random.default_rng([seed, 28]), saccade_frames, jitter_px
    )
    contrast = (movie.astype(np.float64) - GREY) / GREY
    return contrast - contrast.mean()


def spacetime_spectrum(movie: np.ndarray, frames: int, n_radii: int):
    """Radially averaged space-time power C(k, w) of Hann-windowed blocks of ``frames`` frames.

    Returns (k cycles/pixel, w Hz, C (n_radii, frames // 2)); zero frequencies are left out (the
    power law has no value there) and k bins are log-spaced between 1/size and 1/2.
    """
    size = movie.shape[1]
    window = np.hanning(frames)[:, None, None] * np.outer(np.hanning(size), np.hanning(size))
    power = np.zeros((frames, size, size))
    blocks = movie.shape[0] // frames
    for block in movie[: blocks * frames].reshape(blocks, frames, size, size):
        power += np.abs(np.fft.fftn(block * window)) ** 2
    power /= blocks * (window**2).sum()
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij"))
    edges = np.geomspace(1.0 / size, 0.5 * np.sqrt(2), n_radii + 1)
    w = np.fft.fftfreq(frames, DT)[1 : frames // 2]
    radial = np.full((n_radii, len(w)), np.nan)
    for i in range(n_radii):
        ring = (k >= edges[i]) & (k < edges[i + 1])
        if ring.any():
            radial[i] = power[1 : frames // 2][:, ring].mean(axis=1)
    return np.sqrt(edges[:-1] * edges[1:]), w, radial


def fit_power_law(k: np.ndarray, w: np.ndarray, power: np.ndarray, k_range, w_range):
    """Least-squares fit of log C = log A - a log k - b log w over k and w in their ranges.

    Returns (a, b, A): the exponents of C = A / (k^a w^b). The lowest bins are best left out: the
    window's main lobe smears the steep power next to zero frequency into them.
    """
    kk, ww = np.meshgrid(k, w, indexing="ij")
    use = (kk >= k_range[0]) & (kk <= k_range[1]) & (ww >= w_range[0]) & (ww <= w_range[1])
    use &= np.isfinite(power) & (power > 0)
    design = np.stack([np.ones(use.sum()), -np.log(kk[use]), -np.log(ww[use])], axis=1)
    (log_a, a, b), *_ = np.linalg.lstsq(design, np.log(power[use]), rcond=None)
    return float(a), float(b), float(np.exp(log_a))


def row_patches(movie: np.ndarray, frames: int, scale: float) -> np.ndarray:
    """All one-row space-time patches (n, pixels, frames) of consecutive non-overlapping blocks."""
    blocks = movie.shape[0] // frames
    cut = movie[: blocks * frames].reshape(blocks, frames, movie.shape[1], movie.shape[2])
    return (cut.transpose(0, 2, 3, 1).reshape(-1, movie.shape[2], frames) / scale).astype(
        np.float32
    )


def patch_spectrum(patches: np.ndarray) -> np.ndarray:
    """Mean periodogram E|X(f, v)|^2 of the patches (unitary DFT), made reflection-symmetric.

    Space reflection and time reversal are symmetries of the movie's statistics; averaging over
    them removes sampling noise and makes the aliased Nyquist pairs of a mosaic equally strong,
    the condition under which a real filter reaches the water-filling optimum.
    """
    power = (np.abs(np.fft.fft2(patches, norm="ortho")) ** 2).mean(axis=0)
    space = _negated(power, 0)
    return (power + space + _negated(power, 1) + _negated(space, 1)) / 4


def _negated(power: np.ndarray, axis: int) -> np.ndarray:
    """The spectrum at minus the frequency along ``axis`` (index i -> -i mod n on the DFT grid)."""
    return np.roll(np.flip(power, axis), 1, axis)


def power_law_spectrum(pixels: int, frames: int, a: float, b: float, floor: float = 0.5):
    """A toy 1/(|f|^a |v|^b) spectrum on the patch grid (|f|, |v| floored at ``floor`` cycles per
    patch), scaled to unit variance per pixel: the spectrum-slope sweep's input."""
    f = np.maximum(np.abs(np.fft.fftfreq(pixels, 1.0 / pixels)), floor)
    v = np.maximum(np.abs(np.fft.fftfreq(frames, 1.0 / frames)), floor)
    power = 1.0 / np.outer(f**a, v**b)
    return power / power.mean()


def tilted(power: np.ndarray, exponent: float, floor: float = 0.5) -> np.ndarray:
    """The patch spectrum times |f|^-exponent (|f| floored, cycles per patch), unit mean again:
    the same movie with a steeper (exponent > 0) or flatter spatial spectrum."""
    f = np.maximum(np.abs(np.fft.fftfreq(power.shape[0], 1.0 / power.shape[0])), floor)
    steeper = power * f[:, None] ** -exponent
    return steeper / steeper.mean()


def synthetic_movie(n_frames: int, size: int, a: float, b: float, seed: int) -> np.ndarray:
    """A Gaussian movie with exactly the spectrum 1/(k^a w^b) (random phases): the fit's control."""
    rng = np.random.default_rng(seed)
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij"))
    w = np.abs(np.fft.fftfreq(n_frames))
    with np.errstate(divide="ignore"):
        amplitude = (k[None] ** (-a / 2)) * (w[:, None, None] ** (-b / 2))
    amplitude[~np.isfinite(amplitude)] = 0.0
    noise = np.fft.fftn(rng.normal(size=(n_frames, size, size)))
    return np.fft.ifftn(noise * amplitude).real
