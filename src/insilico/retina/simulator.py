"""Ground-truth simulated retina (salamander-like, 10 ms bins) and its stimuli.

The default data of the pipeline come from here, so the circuit has the mechanisms that make
deep networks beat linear-nonlinear (LN) models on real retina: rectified bipolar subunits
(nonlinear spatial summation), synaptic depression (adaptation, rebounds), amacrine surround
inhibition and divisive gain control (contrast adaptation). Its internals are exported so that
analyses can compare a model's hidden channels with the true interneurons.

Circuit (all linear spatial steps are matrices, all temporal steps filters along time):

    stimulus contrast (movie - 128) / 128
      -> bipolar subunits on a grid: small Gaussian pooling minus a wide horizontal-cell surround,
         photoreceptor biphasic filter, type-specific low-pass (OFF types sign-inverted),
         threshold-linear rectification, synaptic depression
      -> amacrine cells: pool ON or OFF bipolar output over a wider area, slower delayed filter
      -> divisive gain control of the bipolar terminals by amacrine activity low-passed over
         100 ms (motion anticipation) and 2 s
      -> ganglion cells: Gaussian-weighted sum of their bipolar types minus amacrine inhibition,
         softplus scaled to Hz, slow divisive self-adaptation (1 s; contrast adaptation),
         Poisson spikes per 10 ms bin.
      -> only with "oms" cells: polyaxonal amacrine cells pool the rectified fast OFF bipolar
         output (small dendritic Gaussian, 10 ms low-pass) and inhibit the OMS cells from an
         annulus that excludes the cell's own centre.

Version 2 added the elements the phenomena of the mechanisms branch need (each justified where
it is defined): strong ribbon depression (omitted-stimulus response, paired-flash depression),
a fast gain-control component (motion anticipation) and slow ganglion adaptation (contrast
adaptation). Version 2.1 adds object-motion sensitivity (Olveczky, Baccus & Meister 2003) the
way salamander retina makes it, in a distinct ganglion class: "oms" cells sum rectified fast OFF
bipolar subunits in their centre and are inhibited by wide-field polyaxonal amacrine cells that
pool rectified transient bipolar output over the periphery (Baccus, Olveczky, Manu & Meister
2008). Rectification turns motion of any texture into excitation regardless of its phase; the
inhibition is fast, so during global jitter (eye movements) it arrives with the centre's
excitation and cancels it, while differential (object) motion leaves the two uncorrelated. A
wide-field amacrine stage added to every cell had failed at these field sizes: the OMS cell's
inhibition must exclude its centre and match the centre's time course. Retinas without "oms"
cells have no polyaxonal amacrines and are bit-identical to version 2.0 (the OMS cells' random
draws come from their own stream, so the other cells are unchanged even when "oms" is listed).

Every random choice comes from numpy Generators seeded from the experiment seed: the circuit only
from the seed, the stimuli and spikes from (seed, stimulus class), so the white-noise and
natural-scene files of one experiment record the same cells.
"""

from __future__ import annotations

import json
import os
import zlib

import numpy as np
from scipy import signal

from insilico.core.units import GREY
from insilico.retina.recording import smoothed_rate, write_recording

SIMULATOR_VERSION = "2.2.0"

DT = 0.01  # s per bin and per frame
FILTER_SECONDS = 1.0  # window for impulse responses (normalisation); salamander STAs last ~0.5 s

# Outer retina: cone filter, biphasic (peak 60 ms, zero crossing ~170 ms, negative lobe peaking
# ~250 ms) and fairly transient like salamander cones. Difference of two gamma filters of order 3
# (unit area each, as cascades of low-passes); the negative lobe has 80 % of the positive area.
PHOTORECEPTOR_TAU_S = 0.03
PHOTORECEPTOR_NEGATIVE_TAU_S = 0.06
PHOTORECEPTOR_NEGATIVE_AREA = 0.8

# Horizontal cells feed back onto cones over a wide area: the bipolar input is the local cone
# signal minus HORIZONTAL_STRENGTH times the cone signal pooled with sigma HORIZONTAL_SIGMA_PX
# (linear, same time course): the classical antagonistic surround seen in the STA.
HORIZONTAL_SIGMA_PX = 2.5
HORIZONTAL_STRENGTH = 0.8

# Bipolar cells: three types tiled on the same grid. OFF types invert the sign; fast and slow types
# differ by the time constant of their low-pass (synaptic/dendritic integration), which shifts the
# filter peak from 70 ms (off_fast) and 80 ms (on) to 100 ms (off_slow), as between salamander fast
# and slow OFF cells.
BIPOLAR_TYPES = ("off_fast", "off_slow", "on")
BIPOLAR_SIGN = {"off_fast": -1.0, "off_slow": -1.0, "on": 1.0}
BIPOLAR_TAU_S = {"off_fast": 0.01, "off_slow": 0.08, "on": 0.025}
BIPOLAR_SIGMA_SPACINGS = 0.4  # dendritic field sigma, in subunit spacings (small, ~1 px)
# Rectification threshold of the bipolar terminal, in units of the white-noise drive std: slightly
# above rest, so that subunits are half-wave rectified and summation over space is nonlinear.
BIPOLAR_THRESHOLD = 0.2
# Synaptic depression of the ribbon synapse (vesicle pool u in 0..1): release = drive * u,
# u recovers with time constant DEPRESSION_RECOVERY_S (hundreds of ms) and is used up at
# DEPRESSION_USE_PER_S per unit of drive. The use rate is high, as for the rapidly releasable
# pool of bipolar ribbons, which empties within tens of ms of a strong depolarisation and refills
# over hundreds of ms (von Gersdorff & Matthews 1994; Burrone & Lagnado 2000). Two phenomena
# need it so strong: paired-flash depression (the second of two flashes 100-300 ms apart meets
# a depleted pool), and the omitted-stimulus response (Schwartz et al. 2007). During a train of
# dark flashes the ON pathway is hyperpolarised and its pool full; the omission is, for a linear
# stage, a bright flash added at the expected time, and the first release after the train empties
# the pool, so the burst follows the *missing* flash at a fixed latency (burst time after the
# last flash grows with the period, slope ~1) instead of smearing over the train's rebound. The
# ON pathway carries the OSR, as APB abolishes it (Schwartz et al. 2007; the bipolar-terminal
# models of Werner et al. 2008 and Gao et al. 2009).
DEPRESSION_RECOVERY_S = 0.4
DEPRESSION_USE_PER_S = 40.0

# Amacrine cells: one type pooling OFF bipolars, one pooling ON bipolars, over a wider area
# (sigma 2 px, giving ganglion surrounds 2-3x the centre) with a smoother, delayed gamma filter
# (order 4, peak 60 ms after their bipolar input, so inhibition lags excitation).
AMACRINE_TYPES = ("off", "on")
AMACRINE_INPUTS = {"off": ("off_fast", "off_slow"), "on": ("on",), "polyaxonal": ("off_fast",)}
AMACRINE_SIGMA_PX = 2.0
AMACRINE_TAU_S = 0.02
AMACRINE_ORDER = 4
# Divisive gain control of bipolar terminals by the narrow-field amacrine activity a:
# gain = 1 / (1 + sum_k strength_k * lowpass_k(a)), two components (Baccus & Meister 2002).
# Fast (100 ms): the contrast gain control that truncates the response to a bar entering the
# receptive field, so the moving bar's response peaks near its leading edge (motion
# anticipation, Berry et al. 1999). Slow (2 s): contrast adaptation, the gain falls over
# seconds of high contrast and recovers over seconds at low contrast (Smirnakis et al. 1997).
GAIN_CONTROL = ((0.1, 3.0), (2.0, 1.0))  # (time constant s, strength) per component

# Polyaxonal amacrine cells (Baccus, Olveczky, Manu & Meister 2008): wide-field, spiking, fast.
# They pool *rectified* transient bipolar output, so they signal motion anywhere in the periphery
# whatever its direction, and their axons inhibit object-motion-sensitive (OMS) ganglion cells
# from far outside the cell's centre. They exist (with OMS cells) only in retinas whose config
# lists "oms": every other circuit is unchanged. Input: the fast OFF bipolar terminals (below).
POLYAXONAL = "polyaxonal"
# Local dendritic pooling of each polyaxonal unit (small; the spread is in the axons, below).
POLYAXONAL_DENDRITE_SIGMA_PX = 1.0
# Fast: one low-pass of 10 ms after the bipolar output (polyaxonal cells are fast, spiking and
# transient, Baccus et al. 2008), so that during global jitter the inhibition arrives together
# with the centre's excitation and cancels it (with a 30 ms low-pass the index falls to ~0.1).
POLYAXONAL_TAU_S = 0.01
# Inhibitory field of an OMS cell: the polyaxonal signal in an annulus around it, excluding its
# own centre (Olveczky et al. 2003: the inhibition comes from the periphery; 5 px = 250 um at
# 50 um/px), weight logistic((d - inner radius) / edge) times a wide Gaussian (polyaxonal axons
# spread over millimetres, wider than the simulated field).
POLYAXONAL_INNER_RADIUS_PX = 5.0
POLYAXONAL_EDGE_PX = 0.5
POLYAXONAL_OUTER_SIGMA_PX = 10.0
# Inhibition relative to the centre (weights sum to this). Above 1: during global motion the
# periphery's rectified motion signal matches the centre's and outweighs it, so global jitter
# suppresses OMS cells below rest (Olveczky et al. 2003); at 1.0 the index is only 0.2-0.3.
POLYAXONAL_STRENGTH = 1.5
# OMS cells sit near the middle of the field (within this distance of it in rows and columns):
# the object-motion experiments centre the object patch on the recorded cell's receptive field.
OMS_CENTRE_SPREAD_PX = 1.0

# Ganglion cells: which bipolar types excite each type and which amacrine types inhibit it.
# OMS cells (a distinct ganglion class in salamander, Olveczky et al. 2003) take their centre
# from the fast OFF bipolar subunits: OMS cells are OFF-dominated and transient, and the fast
# OFF pathway is the most transient one here (10 ms low-pass), so its rectified output follows
# each jitter step; rectification makes centre and periphery signal motion regardless of the
# grating's phase, which is what lets a wide pool compare them.
GANGLION_BIPOLARS = {
    "off_fast": ("off_fast",),
    "off_slow": ("off_slow",),
    "on": ("on",),
    "on_off": ("on", "off_fast"),
    "oms": ("off_fast",),
}
GANGLION_AMACRINES = {
    "off_fast": ("off",),
    "off_slow": ("off",),
    "on": ("on",),
    "on_off": ("off", "on"),
    "oms": (POLYAXONAL,),
}
CENTRE_SIGMA_PX = 1.25  # centre ~5 px across (2 sigma each side), as salamander at 50 um/px
SURROUND_STRENGTH = (0.8, 1.2)  # amacrine inhibition relative to the centre, drawn per cell (the
# strong depression and gain control weaken the surround in the STA; below 0.8 slow OFF cells lose it)
WEIGHT_JITTER = 0.25  # lognormal sigma of synaptic weights: cells are not perfect Gaussians
CENTRE_MARGIN_PX = 3.0  # keep centres this far from the border so the surround is mostly inside

# Output nonlinearity, calibrated per cell on a white-noise movie drawn from the seed: the drive
# quantile CALIBRATION_THRESHOLD_QUANTILE sits at the softplus knee, quantile
# CALIBRATION_PEAK_QUANTILE fires at max_rate (Hz, from config); SOFTPLUS_SHARPNESS sets how
# rectifying the output is (salamander ganglion cells fire sparsely: mean ~5-10 Hz on white noise).
CALIBRATION_SECONDS = 20.0
CALIBRATION_THRESHOLD_QUANTILE = 0.75
CALIBRATION_PEAK_QUANTILE = 0.99
SOFTPLUS_SHARPNESS = 6.0
# Slow intrinsic adaptation of the ganglion cell (Kim & Rieke 2001: much of salamander contrast
# adaptation is intrinsic to the ganglion cell, slow Na-channel inactivation; Smirnakis et al.
# 1997, Baccus & Meister 2002: the slow component takes seconds). The rate is divided by
# 1 + strength * (the cell's own normalised rate low-passed over GANGLION_ADAPTATION_TAU_S), so
# its gain falls over seconds of high contrast and recovers over seconds at low contrast.
# Full-field flicker, the classic stimulus, barely moves the bipolar gain control above (the
# horizontal-cell surround cancels most of it at the bipolar input) but drives the ganglion cell.
GANGLION_ADAPTATION_TAU_S = 1.0
GANGLION_ADAPTATION_STRENGTH = 6.0
# Refractoriness caps firing: rates saturate smoothly (tanh) at this multiple of max_rate.
RATE_CEILING_FACTOR = 1.75

# Natural-scene-like movies: 1/f^2 power-spectrum images, RMS contrast and mean luminance
# drawn per image, a new image every saccade, a random walk of fixational jitter every frame.
NATURAL_CONTRAST = (0.2, 0.45)
NATURAL_MEAN_SPREAD = 0.15  # image mean = 128 * (1 + U(-spread, spread))
NATURAL_CANVAS_FACTOR = 2  # images are periodic canvases this many times the field size

CHUNK_FRAMES = 20000  # respond() works in chunks of this many frames to bound memory


def _stream(name: str) -> int:
    """A stable integer for a random stream name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode())


def white_noise_movie(n_frames: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Binary white-noise checkerboard, one pixel per checker, values 0 / 255 (mean ~128)."""
    return (rng.integers(0, 2, size=(n_frames, size, size), dtype=np.uint8) * 255).astype(np.uint8)


def natural_movie(
    n_frames: int, size: int, rng: np.random.Generator, saccade_every: int, jitter_px: float
) -> np.ndarray:
    """Natural-scene-like movie: a new 1/f^2 image every ``saccade_every`` frames, jittered.

    Each image is a periodic canvas (NATURAL_CANVAS_FACTOR x the field) with random Fourier
    phases; the gaze lands at a random point and then follows a Gaussian random walk (step std
    ``jitter_px`` per frame, fixational drift), sampled with bilinear interpolation for all
    frames of a fixation at once. RMS contrast and mean luminance vary between images.
    """
    canvas = NATURAL_CANVAS_FACTOR * size
    freq = np.fft.fftfreq(canvas)
    radius = np.hypot(freq[:, None], freq[None, :])
    amplitude = np.divide(1.0, radius, out=np.zeros_like(radius), where=radius > 0)
    pixels = np.arange(size)
    movie = np.empty((n_frames, size, size), dtype=np.uint8)
    for start in range(0, n_frames, saccade_every):
        n_fix = min(saccade_every, n_frames - start)
        phase = rng.uniform(0, 2 * np.pi, size=(canvas, canvas))
        image = np.fft.ifft2(amplitude * np.exp(1j * phase)).real
        image = (image - image.mean()) / image.std()
        contrast = rng.uniform(*NATURAL_CONTRAST)
        mean = 1.0 + rng.uniform(-NATURAL_MEAN_SPREAD, NATURAL_MEAN_SPREAD)
        gaze = rng.uniform(0, canvas, size=2) + np.cumsum(
            rng.normal(0.0, jitter_px, size=(n_fix, 2)), axis=0
        )
        # Bilinear interpolation on the periodic canvas: sub-pixel jitter for all frames at once.
        rows, row_w = _interpolation(gaze[:, 0, None] + pixels, canvas)
        cols, col_w = _interpolation(gaze[:, 1, None] + pixels, canvas)
        frames = sum(
            row_w[i][:, :, None]
            * col_w[j][:, None, :]
            * image[rows[i][:, :, None], cols[j][:, None, :]]
            for i in (0, 1)
            for j in (0, 1)
        )
        frames = GREY * (mean + contrast * frames)
        movie[start : start + n_fix] = np.clip(np.rint(frames), 0, 255)
    return movie


def _interpolation(coords: np.ndarray, period: int) -> tuple[tuple, tuple]:
    """Neighbouring integer indices (wrapped) and their bilinear weights for real coordinates."""
    low = np.floor(coords)
    frac = coords - low
    low = low.astype(np.int64) % period
    return (low, (low + 1) % period), (1.0 - frac, frac)


def _lowpass(tau: float) -> tuple[np.ndarray, np.ndarray]:
    """First-order low-pass (b, a) with time constant ``tau`` s, unit DC gain, sampled at DT."""
    decay = np.exp(-DT / tau)
    return np.array([1.0 - decay]), np.array([1.0, -decay])


def _gamma(tau: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gamma filter as a cascade of ``order + 1`` low-passes: peak near order * tau, unit area."""
    b, a = np.ones(1), np.ones(1)
    for _ in range(order + 1):
        b_stage, a_stage = _lowpass(tau)
        b, a = np.convolve(b, b_stage), np.convolve(a, a_stage)
    return b, a


def _biphasic(order: int, tau: float, negative_tau: float, negative_area: float):
    """Gamma filter minus a slower one of the same order with ``negative_area`` of its area."""
    b_pos, a_pos = _gamma(tau, order)
    b_neg, a_neg = _gamma(negative_tau, order)
    # Both products have the same length: b_pos and b_neg are gains, a_pos and a_neg same order.
    b = np.convolve(b_pos, a_neg) - negative_area * np.convolve(b_neg, a_pos)
    return b, np.convolve(a_pos, a_neg)


def _bipolar_filter(bipolar_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Photoreceptor biphasic filter times the type's low-pass, signed, unit L2 norm (IIR)."""
    b, a = _biphasic(
        3, PHOTORECEPTOR_TAU_S, PHOTORECEPTOR_NEGATIVE_TAU_S, PHOTORECEPTOR_NEGATIVE_AREA
    )
    b_low, a_low = _lowpass(BIPOLAR_TAU_S[bipolar_type])
    b, a = np.convolve(b, b_low), np.convolve(a, a_low)
    norm = np.linalg.norm(impulse_response(b, a))
    return BIPOLAR_SIGN[bipolar_type] * b / norm, a


def impulse_response(b: np.ndarray, a: np.ndarray, seconds: float = FILTER_SECONDS) -> np.ndarray:
    """Impulse response of an IIR filter (b, a) over ``seconds``, one value per bin."""
    impulse = np.zeros(int(round(seconds / DT)))
    impulse[0] = 1.0
    return signal.lfilter(b, a, impulse)


def _adapted(activity: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Slow divisive adaptation of (cell, time) normalised rates, starting from the first bin.

    Every stimulus starts grey, so the low-pass starts adapted to the first bin's (rest)
    activity. The gain is 1 at the ``reference`` activity (cell,), the mean on the calibration
    white noise, so the calibrated white-noise rates keep their size; it is above 1 at rest.
    """
    b, a = _lowpass(GANGLION_ADAPTATION_TAU_S)
    zi = signal.lfilter_zi(b, a)[None, :] * activity[:, :1]
    slow, _ = signal.lfilter(b, a, activity, axis=-1, zi=zi)
    norm = 1.0 + GANGLION_ADAPTATION_STRENGTH * reference[:, None]
    return activity * norm / (1.0 + GANGLION_ADAPTATION_STRENGTH * slow)


def _grid_points(coords: np.ndarray) -> np.ndarray:
    """(n*n, 2) row/col positions of a square grid with these coordinates, row-major."""
    return np.stack(np.meshgrid(coords, coords, indexing="ij"), axis=-1).reshape(-1, 2)


def _gaussian_weights(points: np.ndarray, centres: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian weights (n_centres, n_points) of points around centres, both (n, 2) in pixels."""
    dist2 = ((centres[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    return np.exp(-dist2 / (2 * sigma**2))


def inhibition_weights(amacrine_type: str, points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Nominal inhibitory field (n_points,) of a ganglion cell at ``centre`` on an amacrine type,
    summing to 1 (the simulator multiplies it by per-synapse jitter and the strength): a Gaussian
    (AMACRINE_SIGMA_PX) for the narrow-field types, the peripheral annulus for polyaxonal cells."""
    dist2 = ((points - centre) ** 2).sum(-1)
    if amacrine_type == POLYAXONAL:
        distance = np.sqrt(dist2)
        edge = (distance - POLYAXONAL_INNER_RADIUS_PX) / POLYAXONAL_EDGE_PX
        w = np.exp(-dist2 / (2 * POLYAXONAL_OUTER_SIGMA_PX**2)) / (1.0 + np.exp(-edge))
    else:
        w = np.exp(-dist2 / (2 * AMACRINE_SIGMA_PX**2))
    return w / w.sum()


def inhibition_strength(amacrine_type: str) -> float:
    """Mean inhibition strength of an amacrine type relative to the centre (weights' sum)."""
    return POLYAXONAL_STRENGTH if amacrine_type == POLYAXONAL else float(np.mean(SURROUND_STRENGTH))


class _Filter:
    """Causal IIR filter along time that keeps its state across chunks (starts at rest, grey)."""

    def __init__(self, ba: tuple[np.ndarray, np.ndarray], n_channels: int):
        self.b, self.a = ba
        self.state = np.zeros((max(self.a.size, self.b.size) - 1, n_channels))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y, self.state = signal.lfilter(self.b, self.a, x, axis=0, zi=self.state)
        return y


class SimulatedRetina:
    """A fixed retinal circuit; ``respond`` maps a uint8 movie to rates and internals.

    Attributes describing the circuit: ``cell_types`` and ``cell_centres`` ((n_cells, 2) row/col
    in pixels), ``bipolar_types``, ``amacrine_types``, ``grid_shape`` (rows, cols of the subunit
    grid), ``subunit_positions`` ((n_subunits, 2) row/col in pixels, row-major on the grid),
    ``bipolar_filters`` (type -> IIR (b, a), see :func:`impulse_response`) and ``amacrine_filter``.
    ``amacrine_types`` ends with "polyaxonal" (filter ``polyaxonal_filter``) only when the cell
    types include "oms"; otherwise the circuit is exactly that of version 2.0.
    """

    def __init__(self, params: dict, seed: int):
        self.params = dict(params)
        self.seed = int(seed)
        self.size = int(params["size"])
        self.max_rate = float(params["max_rate"])
        spacing = float(params["subunit_spacing"])
        unknown = set(params["cell_types"]) - set(GANGLION_BIPOLARS)
        if unknown:
            raise ValueError(
                f"unknown ganglion cell types {sorted(unknown)}; known: {list(GANGLION_BIPOLARS)}"
            )

        rng = np.random.default_rng([self.seed, _stream("circuit")])
        self.bipolar_types = BIPOLAR_TYPES
        self.has_oms = "oms" in params["cell_types"]
        self.amacrine_types = AMACRINE_TYPES + ((POLYAXONAL,) if self.has_oms else ())
        self.cell_types = tuple(
            t for t in params["cell_types"] for _ in range(int(params["cells_per_type"]))
        )
        self.n_cells = len(self.cell_types)

        n_grid = int(np.ceil(self.size / spacing))
        self.grid_shape = (n_grid, n_grid)
        self.subunit_positions = _grid_points((np.arange(n_grid) + 0.5) * spacing - 0.5)
        pixels = _grid_points(np.arange(self.size, dtype=float))

        # Bipolar input: small dendritic Gaussian minus the wider horizontal-cell surround, unit L2
        # norm so that binary white noise gives unit-std subunit drive.
        centre = _gaussian_weights(pixels, self.subunit_positions, BIPOLAR_SIGMA_SPACINGS * spacing)
        horizontal = _gaussian_weights(pixels, self.subunit_positions, HORIZONTAL_SIGMA_PX)
        dendrites = centre - HORIZONTAL_STRENGTH * horizontal * (
            centre.sum(axis=1, keepdims=True) / horizontal.sum(axis=1, keepdims=True)
        )
        self._dendrites = (dendrites / np.linalg.norm(dendrites, axis=1, keepdims=True)).T
        self.bipolar_filters = {b: _bipolar_filter(b) for b in BIPOLAR_TYPES}
        self._amacrine_pool = self._amacrine_pooling()
        self.amacrine_filter = _gamma(AMACRINE_TAU_S, AMACRINE_ORDER)

        low, high = CENTRE_MARGIN_PX, self.size - 1 - CENTRE_MARGIN_PX
        if high <= low:
            low, high = (self.size - 1) / 4, 3 * (self.size - 1) / 4
        # OMS cells draw from their own stream, so the other cells are the same with or without.
        oms_rng = np.random.default_rng([self.seed, _stream("oms circuit")])
        is_oms = np.array([t == "oms" for t in self.cell_types], dtype=bool)
        self.cell_centres = np.empty((self.n_cells, 2))
        self.cell_centres[~is_oms] = rng.uniform(low, high, size=(int((~is_oms).sum()), 2))
        middle = (self.size - 1) / 2
        self.cell_centres[is_oms] = oms_rng.uniform(
            middle - OMS_CENTRE_SPREAD_PX,
            middle + OMS_CENTRE_SPREAD_PX,
            size=(int(is_oms.sum()), 2),
        )
        self._excitation, self._inhibition, self._polyaxonal_inhibition = self._ganglion_weights(
            rng, oms_rng
        )
        if self.has_oms:
            pool = _gaussian_weights(
                self.subunit_positions, self.subunit_positions, POLYAXONAL_DENDRITE_SIGMA_PX
            )
            self._polyaxonal_pool = (pool / pool.sum(axis=1, keepdims=True)).T
            self.polyaxonal_filter = _lowpass(POLYAXONAL_TAU_S)

        self._threshold, self._scale, self._adaptation_reference = self._calibrate(
            np.random.default_rng([self.seed, _stream("calibration")])
        )

    def _amacrine_pooling(self) -> np.ndarray:
        """(bipolar units, amacrine units): each amacrine averages its input types nearby."""
        n_sub = self.subunit_positions.shape[0]
        pool = _gaussian_weights(self.subunit_positions, self.subunit_positions, AMACRINE_SIGMA_PX)
        pool /= pool.sum(axis=1, keepdims=True)
        matrix = np.zeros((len(BIPOLAR_TYPES) * n_sub, len(AMACRINE_TYPES) * n_sub))
        for a, amacrine_type in enumerate(AMACRINE_TYPES):
            inputs = AMACRINE_INPUTS[amacrine_type]
            for bipolar_type in inputs:
                b = BIPOLAR_TYPES.index(bipolar_type)
                matrix[b * n_sub : (b + 1) * n_sub, a * n_sub : (a + 1) * n_sub] = pool.T / len(
                    inputs
                )
        return matrix

    def _ganglion_weights(self, rng: np.random.Generator, oms_rng: np.random.Generator):
        """Excitation (bipolar units, cells), inhibition (amacrine units, cells) and polyaxonal
        inhibition (subunits, cells; None without OMS cells) matrices.

        Centre: Gaussian (CENTRE_SIGMA_PX) over the cell's bipolar types, each summing to 1;
        inhibition: Gaussian over its amacrine types summing to a per-cell surround strength;
        OMS cells: the polyaxonal annulus (:func:`inhibition_weights`) summing to
        POLYAXONAL_STRENGTH. OMS cells' jitter comes from ``oms_rng``.
        """
        n_sub = self.subunit_positions.shape[0]
        centre = _gaussian_weights(self.subunit_positions, self.cell_centres, CENTRE_SIGMA_PX)
        surround = _gaussian_weights(self.subunit_positions, self.cell_centres, AMACRINE_SIGMA_PX)
        excitation = np.zeros((self.n_cells, len(BIPOLAR_TYPES), n_sub))
        inhibition = np.zeros((self.n_cells, len(AMACRINE_TYPES), n_sub))
        polyaxonal = np.zeros((self.n_cells, n_sub)) if self.has_oms else None
        others = [i for i, t in enumerate(self.cell_types) if t != "oms"]
        strengths = np.zeros(self.n_cells)
        strengths[others] = rng.uniform(*SURROUND_STRENGTH, size=len(others))
        for i, cell_type in enumerate(self.cell_types):
            draw = oms_rng if cell_type == "oms" else rng
            for bipolar_type in GANGLION_BIPOLARS[cell_type]:
                w = centre[i] * draw.lognormal(0.0, WEIGHT_JITTER, size=n_sub)
                excitation[i, BIPOLAR_TYPES.index(bipolar_type)] = w / w.sum()
            for amacrine_type in GANGLION_AMACRINES[cell_type]:
                if amacrine_type == POLYAXONAL:
                    field = inhibition_weights(
                        POLYAXONAL, self.subunit_positions, self.cell_centres[i]
                    )
                    w = field * draw.lognormal(0.0, WEIGHT_JITTER, size=n_sub)
                    polyaxonal[i] = POLYAXONAL_STRENGTH * w / w.sum()
                    continue
                w = surround[i] * draw.lognormal(0.0, WEIGHT_JITTER, size=n_sub)
                inhibition[i, AMACRINE_TYPES.index(amacrine_type)] = strengths[i] * w / w.sum()
        return (
            excitation.reshape(self.n_cells, -1).T,
            inhibition.reshape(self.n_cells, -1).T,
            None if polyaxonal is None else polyaxonal.T,
        )

    def _calibrate(self, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """Per-cell softplus threshold and slope, so that white-noise drive gives realistic rates,
        and the mean normalised activity there (the slow adaptation's reference level)."""
        movie = white_noise_movie(int(round(CALIBRATION_SECONDS / DT)), self.size, rng)
        drive = self._run(movie, keep_internals=False)["ganglion_drive"]
        threshold = np.quantile(drive, CALIBRATION_THRESHOLD_QUANTILE, axis=1)
        peak = np.quantile(drive, CALIBRATION_PEAK_QUANTILE, axis=1)
        scale = SOFTPLUS_SHARPNESS / np.maximum(peak - threshold, 1e-9)
        return threshold, scale, self._activity(drive, threshold, scale).mean(axis=1)

    @staticmethod
    def _activity(drive: np.ndarray, threshold: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Output nonlinearity before adaptation: softplus, 1 at the calibration peak."""
        x = scale[:, None] * (drive.astype(np.float64) - threshold[:, None])
        return np.logaddexp(0.0, x) / np.logaddexp(0.0, SOFTPLUS_SHARPNESS)

    def _saccade_every(self) -> int:
        return max(1, int(round(float(self.params["saccade_seconds"]) / DT)))

    def _jitter(self) -> float:
        return float(self.params["jitter_px"])

    def respond(
        self, movie_uint8: np.ndarray, keep_internals: bool = True
    ) -> dict[str, np.ndarray]:
        """Noiseless response to a uint8 movie (T, size, size); the circuit starts at rest (grey).

        Returns (float32 internals, float64 rate):
            "rate": (n_cells, T) ganglion firing rate in Hz, before Poisson noise.
            "ganglion_drive": (n_cells, T) generator signal before the output nonlinearity.
            "bipolar": (n_bipolar_types, T, rows, cols) bipolar synaptic output onto ganglion
                cells (rectified, depressed, gain-controlled), types in ``bipolar_types``.
            "bipolar_linear": same shape, the linear bipolar drive before rectification (signed;
                OFF types already sign-inverted), in units of the white-noise drive std.
            "amacrine": (n_amacrine_types, T, rows, cols) amacrine output (subtractive
                inhibition onto ganglion cells), types in ``amacrine_types``.
            "gain": (T, rows, cols) divisive gain applied to all bipolar terminals (contrast
                adaptation: 1 at rest, lower after strong stimulation).
        With ``keep_internals=False`` only "rate" and "ganglion_drive" are returned (saves memory
        on long movies).
        """
        out = self._run(movie_uint8, keep_internals)
        drive = out["ganglion_drive"].astype(np.float64)
        activity = self._activity(drive, self._threshold, self._scale)
        rate = self.max_rate * _adapted(activity, self._adaptation_reference)
        ceiling = RATE_CEILING_FACTOR * self.max_rate
        out["rate"] = ceiling * np.tanh(rate / ceiling)
        return out

    def _run(self, movie_uint8: np.ndarray, keep_internals: bool) -> dict[str, np.ndarray]:
        movie = np.asarray(movie_uint8)
        if movie.ndim != 3 or movie.shape[1:] != (self.size, self.size):
            raise ValueError(f"movie must be (T, {self.size}, {self.size}), got {movie.shape}")
        n_frames = movie.shape[0]
        n_sub = self.subunit_positions.shape[0]
        n_bip, n_ama = len(BIPOLAR_TYPES), len(AMACRINE_TYPES)
        bip_filters = [_Filter(self.bipolar_filters[b], n_sub) for b in BIPOLAR_TYPES]
        ama_filter = _Filter(self.amacrine_filter, n_ama * n_sub)
        gain_filters = [(_Filter(_lowpass(tau), n_sub), k) for tau, k in GAIN_CONTROL]
        if self.has_oms:
            poly_filter = _Filter(self.polyaxonal_filter, n_sub)
            (poly_input,) = AMACRINE_INPUTS[POLYAXONAL]
            poly_cols = slice(
                BIPOLAR_TYPES.index(poly_input) * n_sub,
                (BIPOLAR_TYPES.index(poly_input) + 1) * n_sub,
            )
        vesicles = np.ones(n_bip * n_sub)

        drive = np.empty((self.n_cells, n_frames), dtype=np.float32)
        internals = {}
        if keep_internals:
            grid = self.grid_shape
            internals = {
                "bipolar": np.empty((n_bip, n_frames, *grid), dtype=np.float32),
                "bipolar_linear": np.empty((n_bip, n_frames, *grid), dtype=np.float32),
                "amacrine": np.empty((len(self.amacrine_types), n_frames, *grid), np.float32),
                "gain": np.empty((n_frames, *grid), dtype=np.float32),
            }
        for start in range(0, n_frames, CHUNK_FRAMES):
            chunk = movie[start : start + CHUNK_FRAMES]
            span = slice(start, start + chunk.shape[0])
            contrast = (chunk.reshape(chunk.shape[0], -1).astype(np.float64) - GREY) / GREY
            pooled = contrast @ self._dendrites
            linear = np.concatenate([f(pooled) for f in bip_filters], axis=1)
            rectified = np.maximum(linear - BIPOLAR_THRESHOLD, 0.0)
            released = rectified * _deplete(vesicles, rectified)
            amacrine = ama_filter(released @ self._amacrine_pool)
            activity = amacrine.reshape(-1, n_ama, n_sub).mean(axis=1)
            gain = 1.0 / (1.0 + sum(k * f(activity) for f, k in gain_filters))
            bipolar = released * np.tile(gain, n_bip)
            net = bipolar @ self._excitation - amacrine @ self._inhibition
            if self.has_oms:
                # Polyaxonal amacrines pool the rectified fast OFF terminals; OMS cells only.
                poly = poly_filter(bipolar[:, poly_cols] @ self._polyaxonal_pool)
                net = net - poly @ self._polyaxonal_inhibition
            drive[:, span] = net.T
            if keep_internals:
                amacrine_types = [amacrine, poly] if self.has_oms else [amacrine]
                shape = (chunk.shape[0], *self.grid_shape)
                for name, values in (
                    ("bipolar", bipolar),
                    ("bipolar_linear", linear),
                    ("amacrine", np.concatenate(amacrine_types, axis=1)),
                ):  # (time, type * subunit) -> (type, time, *grid)
                    by_type = values.reshape(chunk.shape[0], -1, n_sub).transpose(1, 0, 2)
                    internals[name][:, span] = by_type.reshape(-1, *shape)
                internals["gain"][span] = gain.reshape(shape)
        return {"ganglion_drive": drive, **internals}

    def stimulus(self, stimulus_class: str, n_frames: int, rng: np.random.Generator) -> np.ndarray:
        """A movie of the class used in the recordings ("whitenoise" or "naturalscene")."""
        if stimulus_class == "whitenoise":
            return white_noise_movie(n_frames, self.size, rng)
        if stimulus_class == "naturalscene":
            return natural_movie(n_frames, self.size, rng, self._saccade_every(), self._jitter())
        raise ValueError(
            f"unknown stimulus class {stimulus_class!r}; use whitenoise or naturalscene"
        )


def _deplete(vesicles: np.ndarray, rectified: np.ndarray) -> np.ndarray:
    """Vesicles available at each frame of a chunk; ``vesicles`` carries the state to the next.

    Depression is a linear recursion in the pool u given the drive: u <- u * c_t + recovery, with
    c_t the fraction a frame's release leaves.
    """
    recovery = DT / DEPRESSION_RECOVERY_S
    carry = np.maximum(1.0 - recovery - DEPRESSION_USE_PER_S * DT * rectified, 0.0)
    available = np.empty_like(rectified)
    for t in range(rectified.shape[0]):
        available[t] = vesicles
        vesicles *= carry[t]
        vesicles += recovery
    return available


def spike_counts(rate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson spike counts per 10 ms bin for rates in Hz."""
    return rng.poisson(rate * DT)


def expected_recorded_rate(rate: np.ndarray) -> np.ndarray:
    """The noiseless rate as a recording shows it: the expectation of :func:`smoothed_rate` of its
    Poisson counts (the same smoothing), so the exact ceiling correlates like with like."""
    return smoothed_rate(rate * DT)


def _repeated_test(retina, stimulus_class: str, params: dict, seed: int, streams: tuple[int, int]):
    """One repeated test movie: frames, smoothed repeats and the expected recorded rate."""
    key = _stream(stimulus_class)
    movie = retina.stimulus(
        stimulus_class,
        int(round(float(params["test_seconds"]) / DT)),
        np.random.default_rng([seed, key, streams[0]]),
    )
    true = retina.respond(movie, keep_internals=False)["rate"]
    repeats = np.repeat(true[:, None], int(params["repeats"]), axis=1)
    counts = spike_counts(repeats, np.random.default_rng([seed, key, streams[1]]))
    return movie, smoothed_rate(counts), expected_recorded_rate(true)


def simulate_recording(
    path: str | os.PathLike, stimulus_class: str, params: dict, seed: int
) -> None:
    """Simulate one experiment (``seed``) for one stimulus class and write it in deep-retina layout.

    Training movie once with Poisson spikes; test movie (own seed) repeated ``repeats`` times with
    independent spikes; a second, held-out test movie the same way from streams that nothing else
    draws from (the reported numbers use it: no modelling choice saw it). ``groundtruth/`` holds
    the noiseless rate of both test movies as a recording shows it (smoothed like the recorded
    rate, :func:`expected_recorded_rate`), cell types and centres.
    """
    retina = SimulatedRetina(params, seed)
    key = _stream(stimulus_class)
    train_movie = retina.stimulus(
        stimulus_class,
        int(round(float(params["train_seconds"]) / DT)),
        np.random.default_rng([seed, key, 0]),
    )
    test_movie = retina.stimulus(
        stimulus_class,
        int(round(float(params["test_seconds"]) / DT)),
        np.random.default_rng([seed, key, 1]),
    )
    spikes_rng = np.random.default_rng([seed, key, 2])
    train_true = retina.respond(train_movie, keep_internals=False)["rate"]
    test_true = retina.respond(test_movie, keep_internals=False)["rate"]
    train_counts = spike_counts(train_true, spikes_rng)
    repeats = int(params["repeats"])
    test_counts = spike_counts(np.repeat(test_true[:, None], repeats, axis=1), spikes_rng)
    heldout_movie, heldout_repeats, heldout_true = _repeated_test(
        retina, stimulus_class, params, seed, (3, 4)
    )
    write_recording(
        path,
        train_stimulus=train_movie,
        train_rate=smoothed_rate(train_counts),
        test_stimulus=test_movie,
        test_repeats=smoothed_rate(test_counts),
        train_counts=train_counts,
        heldout=(heldout_movie, heldout_repeats),
        attrs={
            "source": "simulated",
            "simulator": __name__,
            "simulator_version": SIMULATOR_VERSION,
            "seed": int(seed),
            "stimulus_class": stimulus_class,
            "parameters": json.dumps(params, sort_keys=True),
        },
        groundtruth={
            "test_rate": expected_recorded_rate(test_true),
            "heldout_rate": heldout_true,
            "cell_types": np.array(retina.cell_types),
            "cell_centres": retina.cell_centres,
        },
    )
