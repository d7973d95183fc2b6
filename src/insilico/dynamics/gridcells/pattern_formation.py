"""The pattern-formation theory of grid cells (Sorscher, Mel, Ganguli & Ocko 2019).

A network that linearly reads out place cells ``P`` from hidden maps ``G`` learns the top
eigenmodes of the place-cell correlation ``Sigma(x, x') = sum_i p_i(x) p_i(x')``. For place
fields that tile space evenly ``Sigma`` is translation invariant, its eigenmodes are plane waves,
and its eigenvalue at wavevector ``k`` is the power ``|p_hat(k)|^2`` of one place field. A
difference-of-Gaussians field has zero mean, so this power vanishes at ``k = 0`` and peaks on a
ring ``|k| = k*``: every optimal map is a superposition of plane waves of wavelength ``2 pi / k*``.
Unconstrained, any superposition on the ring is optimal (stripes, mixtures); a nonnegativity
constraint couples triads of waves (``k1 + k2 + k3 = 0``) and selects the hexagonal lattice.

Everything here is numpy: exact spectra, and the gradient flow of the single-map objective
``max g' Sigma g`` subject to ``|g| = 1`` (and ``g >= 0``) on a periodic grid, with ``Sigma``
applied in Fourier space.
"""

from __future__ import annotations

import numpy as np

from insilico.dynamics.gridcells.place_cells import PlaceCells, code


def tuning_spectrum(k: np.ndarray, width: float, surround: float) -> np.ndarray:
    """Fourier transform of one unit-mass place field (Gaussian minus unit-mass surround)."""
    centre = np.exp(-0.5 * (k * width) ** 2)
    if surround <= 1:
        return centre
    return centre - np.exp(-0.5 * (k * width * surround) ** 2)


def correlation_spectrum(k: np.ndarray, width: float, surround: float) -> np.ndarray:
    """The eigenvalue of the place-cell correlation at ``|k|`` (up to a constant): ``|p_hat|^2``."""
    return tuning_spectrum(k, width, surround) ** 2


def peak_frequency(width: float, surround: float) -> float:
    """The theory's k* (rad/m): where ``exp(-u) - exp(-s^2 u)`` peaks, ``u = (k width)^2 / 2``.

    Zero for a plain Gaussian (its spectrum peaks at k = 0: no periodic pattern).
    """
    if surround <= 1:
        return 0.0
    return float(np.sqrt(4 * np.log(surround) / (surround**2 - 1)) / width)


def predicted_period(width: float, surround: float) -> float:
    """The wavelength 2 pi / k* (m) of the plane waves a grid map is made of."""
    k_star = peak_frequency(width, surround)
    return float(2 * np.pi / k_star) if k_star > 0 else float("inf")


def frequency_grid(n: int, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Angular wavevectors ``(kx, ky)`` (rad/m) of an ``n x n`` FFT over a box of side ``size``."""
    k = 2 * np.pi * np.fft.fftfreq(n, d=size / n)
    return np.meshgrid(k, k, indexing="ij")


def radial_average(power: np.ndarray, size: float, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of a 2-D power spectrum (FFT order) in ``bins`` rings of ``|k|``: ``(k, power)``."""
    kx, ky = frequency_grid(power.shape[0], size)
    radius = np.hypot(kx, ky).ravel()
    edges = np.linspace(0, radius.max() / np.sqrt(2), bins + 1)
    index = np.digitize(radius, edges) - 1
    keep = (index >= 0) & (index < bins)
    total = np.bincount(index[keep], weights=power.ravel()[keep], minlength=bins)
    count = np.bincount(index[keep], minlength=bins)
    return 0.5 * (edges[1:] + edges[:-1]), total / np.maximum(count, 1)


def spectral_peak(k: np.ndarray, power: np.ndarray) -> float:
    """Location of the maximum of ``power(k)``, refined by a parabola through its neighbours."""
    i = int(np.argmax(power))
    if i == 0 or i == len(power) - 1:
        return float(k[i])
    left, mid, right = power[i - 1 : i + 2]
    curvature = left - 2 * mid + right
    shift = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    return float(k[i] + shift * (k[1] - k[0]))


def place_cell_spectrum(
    cells: PlaceCells, resolution: int, bins: int, pad: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power of the actual (softmax) place-cell maps, mean over cells.

    By Wiener-Khinchin this is the spectrum of the place-cell correlation measured on the code the
    network is trained on, to set against :func:`correlation_spectrum`. Maps are mean-subtracted
    and zero-padded ``pad`` times for a finer frequency grid.
    """
    axis = (np.arange(resolution) + 0.5) / resolution * cells.box - cells.box / 2
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1)
    maps = np.moveaxis(code(cells, grid), -1, 0)
    maps = maps - maps.mean(axis=(1, 2), keepdims=True)
    size = pad * resolution
    power = (np.abs(np.fft.fft2(maps, s=(size, size))) ** 2).mean(axis=0)
    return radial_average(power, pad * cells.box, bins)


def simulate_patterns(
    n_maps: int,
    resolution: int,
    size: float,
    width: float,
    surround: float,
    nonnegative: bool,
    steps: int,
    rate: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Projected gradient ascent of ``g' Sigma g`` on the sphere (and the nonnegative orthant).

    ``n_maps`` independent maps ``(n_maps, resolution, resolution)`` on a periodic box of side
    ``size`` from small random starts. ``Sigma`` is scaled so its top eigenvalue is 1, so ``rate``
    is the step in units of the fastest mode's growth.
    """
    kx, ky = frequency_grid(resolution, size)
    sigma = correlation_spectrum(np.hypot(kx, ky), width, surround)
    sigma = sigma / sigma.max()
    maps = rng.normal(size=(n_maps, resolution, resolution))
    for _ in range(steps):
        maps = maps + rate * np.real(np.fft.ifft2(sigma * np.fft.fft2(maps)))
        if nonnegative:
            maps = np.maximum(maps, 0.0)
        maps = maps / np.linalg.norm(maps, axis=(1, 2), keepdims=True)
    return maps


def power_spectrum(maps: np.ndarray) -> np.ndarray:
    """Fourier power of mean-subtracted maps ``(..., n, n)``, zero frequency in the centre."""
    centred = maps - maps.mean(axis=(-2, -1), keepdims=True)
    return np.fft.fftshift(np.abs(np.fft.fft2(centred)) ** 2, axes=(-2, -1))


def angular_harmonics(
    maps: np.ndarray, size: float, k_star: float, orders=(2, 4, 6), band: float = 0.25
) -> dict[int, np.ndarray]:
    """``|sum P(k) e^{i n theta}| / sum P(k)`` over the ring ``|k| = k* (1 +- band)``, per map.

    Six peaks 60 degrees apart (hexagons) give 1 at n = 6 and 0 at n = 2, 4; a stripe (two
    opposite peaks) gives 1 at every even n; a square lattice 1 at n = 4 and 0 at n = 6.
    """
    power = np.abs(np.fft.fft2(maps - maps.mean(axis=(-2, -1), keepdims=True))) ** 2
    kx, ky = frequency_grid(maps.shape[-1], size)
    ring = np.abs(np.hypot(kx, ky) - k_star) <= band * k_star
    theta, weight = np.arctan2(ky[ring], kx[ring]), power[..., ring]
    total = weight.sum(-1)
    return {n: np.abs((weight * np.exp(1j * n * theta)).sum(-1)) / total for n in orders}


def hexagonal_order(maps: np.ndarray, size: float, k_star: float) -> np.ndarray:
    """Six-fold order of the Fourier power on the k* ring, ``c6 - max(c2, c4)``:
    1 for hexagons, 0 for stripes, -1 for squares."""
    c = angular_harmonics(maps, size, k_star)
    return c[6] - np.maximum(c[2], c[4])
