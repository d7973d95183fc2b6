"""The semi-analytic optimum: water-filling of a linear mosaic encoder (Ocko et al. 2018).

Setting (exact for periodic 1-D space-time patches of ``pixels`` x ``frames``, unitary DFT):
the stimulus s plus white input noise (variance ``input_noise`` per pixel and frame) is filtered by
one space-time filter per cell type, sampled every ``stride`` pixels (every frame), and white
output noise (``output_noise`` per cell and frame) is added; a linear decoder reconstructs s.
A mosaic of n = pixels / stride cells aliases the pixel frequencies f = q mod n onto its lattice
frequency q; the best filter puts all its gain on the strongest frequency of each aliasing class,
so one type encodes its Brillouin zone -n/2 < f <= n/2 (all temporal frequencies), one channel
per mode. A channel of signal power C and lattice power P (the cells' output variance from it)
leaves the error C - C rho P / (P + N_out), rho = C / (C + N_in); under a total power W the best
P is the water-filling P = max(sqrt(C rho N_out / lam) - N_out, 0), lam set so the P sum to W.

Firing budget: the cells' summed rate deviation, n * std per type (the mean |rate| of a Gaussian
rate is sqrt(2/pi) std), per pixel: sum_j sqrt(n_j W_j / frames) / pixels <= budget. Cells thus
cost firing: spreading the same power over more cells costs more, which is what can make two
types (a coarse mosaic with much power per cell, a fine one with little) beat one. With two types
the coarse one encodes its zone and the fine one the rest of its own (a shared mode goes to the
type with the lower water level), each water-filled under its share of the budget; the share is
optimised on a grid. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BISECTIONS = 60


@dataclass(frozen=True)
class Noise:
    input: float  # variance per pixel and frame (the stimulus has unit variance per pixel)
    output: float  # variance per cell and frame


def zone(pixels: int, frames: int, cells: int) -> np.ndarray:
    """Mask (pixels, frames) of the modes a mosaic of ``cells`` cells encodes: -n/2 < f <= n/2."""
    f = np.fft.fftfreq(pixels, 1.0 / pixels)
    f = np.where(np.isclose(f, -pixels / 2), pixels / 2, f)  # the patch's own Nyquist is +L/2
    inside = (f > -cells / 2) & (f <= cells / 2)
    return np.repeat(inside[:, None], frames, axis=1)


def channel_power(power: np.ndarray, noise: Noise, lam) -> np.ndarray:
    """Water-filled lattice power of each channel at water level(s) ``lam`` (broadcast last)."""
    rho = power / (power + noise.input)
    level = np.sqrt(np.multiply.outer(power * rho * noise.output, 1.0 / np.asarray(lam)))
    return np.maximum(level - noise.output, 0.0)


def explained(power: np.ndarray, noise: Noise, channel: np.ndarray) -> np.ndarray:
    """Signal variance recovered from each channel at lattice power ``channel``."""
    rho = power / (power + noise.input)
    return (power * rho)[..., None] * channel / (channel + noise.output)


def waterfill(power: np.ndarray, noise: Noise, total) -> tuple[np.ndarray, np.ndarray]:
    """Best lattice powers of the channels ``power`` (1-D) for total power(s) ``total``.

    Returns (per-channel power (channels, budgets), explained variance per budget); bisection on
    log lam, vectorised over the budgets.
    """
    total = np.atleast_1d(np.asarray(total, float))
    if power.size == 0:
        return np.zeros((0, total.size)), np.zeros(total.size)
    peak = power * power / (power + noise.input) / noise.output
    low, high = (
        np.full(total.size, np.log(peak.max()) - 60),
        np.full(total.size, np.log(peak.max())),
    )
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        used = channel_power(power, noise, np.exp(middle)).sum(axis=0)
        low, high = np.where(used > total, middle, low), np.where(used > total, high, middle)
    channel = channel_power(power, noise, np.exp(high))
    return channel, explained(power, noise, channel).sum(axis=0)


def one_type_error(spectrum: np.ndarray, noise: Noise, stride: int, budgets) -> np.ndarray:
    """Relative reconstruction error of one mosaic at ``stride`` for each budget (per pixel)."""
    pixels, frames = spectrum.shape
    cells = pixels // stride
    total = frames * (np.asarray(budgets, float) * pixels) ** 2 / cells
    _, gained = waterfill(spectrum[zone(pixels, frames, cells)], noise, total)
    return 1.0 - gained / spectrum.sum()


def two_type_error(
    spectrum: np.ndarray, noise: Noise, strides: tuple[int, int], budgets, shares: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Relative error of a coarse (strides[0]) and a fine (strides[1]) mosaic, best budget share.

    Returns (error per budget, the coarse type's share of the budget at the optimum).
    """
    pixels, frames = spectrum.shape
    coarse, fine = pixels // strides[0], pixels // strides[1]
    inner = zone(pixels, frames, coarse)
    outer = zone(pixels, frames, fine) & ~inner
    budgets = np.asarray(budgets, float)
    spent = np.multiply.outer(budgets * pixels, shares) ** 2 * frames  # (budgets, shares)
    _, gained_coarse = waterfill(spectrum[inner], noise, (spent / coarse).ravel())
    _, gained_fine = waterfill(spectrum[outer], noise, (spent[:, ::-1] / fine).ravel())
    gained = (gained_coarse + gained_fine).reshape(spent.shape)
    best = gained.argmax(axis=1)
    return 1.0 - gained.max(axis=1) / spectrum.sum(), shares[best]


def sweep(spectrum: np.ndarray, noise: Noise, strides, budgets, n_shares: int) -> dict:
    """Best one-type mosaic and best pair of mosaics for each budget, over the candidate strides.

    The share grid is symmetric (shares[::-1] = 1 - shares), so the fine type's budget is the
    reversed coarse one; it excludes 0 and 1, so a pair has two firing types. A two-type code may
    leave a type silent, so the two-type optimum ``two_error`` is the better of the best pair and
    the best single type. Returns a dict of arrays over budgets.
    """
    shares = np.linspace(0.0, 1.0, n_shares + 2)[1:-1]  # both types fire
    strides = sorted(int(s) for s in strides)
    one = np.stack([one_type_error(spectrum, noise, s, budgets) for s in strides])
    pairs = [(c, f) for c in strides for f in strides if c > f]
    results = [two_type_error(spectrum, noise, pair, budgets, shares) for pair in pairs]
    two = np.stack([error for error, _ in results])
    best = two.argmin(axis=0)
    columns = np.arange(len(budgets))
    return {
        "one_error": one.min(axis=0),
        "one_stride": np.asarray(strides)[one.argmin(axis=0)],
        "pair_error": two[best, columns],
        "two_error": np.minimum(two[best, columns], one.min(axis=0)),
        "coarse_stride": np.asarray([pairs[i][0] for i in best]),
        "fine_stride": np.asarray([pairs[i][1] for i in best]),
        "coarse_share": np.stack([share for _, share in results])[best, columns],
    }
