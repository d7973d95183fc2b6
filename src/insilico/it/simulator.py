"""Synthetic HvM-like experiment: rendered objects, a hidden ground-truth ventral stream, spikes.

The default IT data of the pipeline come from here. The experiment follows the design of the
HvM set behind Brain-Score's MajajHong2015 benchmarks: ``n_categories`` x ``objects_per_category``
procedural objects, each shown at variation levels 0 (centred, fixed size and pose), 3 and 6
(growing ranges of position, scale, in-plane and simulated out-of-plane rotation) on a new
natural-like (1/f) background per image, plus hard images at variation 3 (:data:`HARD_KINDS`:
two grey bars occluding the object, clutter of random blobs behind it, a low object contrast, an
unusual pose with both out-of-plane rotations at 60-80 degrees), the kinds of image Kar et al.
(2019) found IT to solve late. "V4" and "IT" neuroids respond with latencies, in 10 ms bins, with
trial-to-trial noise over many repetitions.

Objects. A silhouette is a radial function ``r(phi) = 1 + sum_k a_k cos(k phi + p_k)`` (k = 2..7):
each category has its own prototype (two dominant harmonics, an elongation, some categories
hollow like rings), each object perturbs the prototype and has its own luminance, texture
orientation and contrast. Out-of-plane rotation is rendered as foreshortening plus shading.

Ground-truth "brain": a hidden network that sees only pixels and is never one of the scored
models (its own architecture, width, seed, training images and loss):

    image -> resized to ``brain_resolution``
      V1 (fixed): quadrature Gabor pairs, 4 orientations x 2 wavelengths, energy, divisive
          normalisation by the local mean energy; standardised by constants of its training set
      V4 (trained): 5x5 convolution of V1 (pooled 2x2) to ``brain.width`` maps, ReLU
      IT (trained, recurrent): a feedforward sweep, then ``brain.iterations`` iterations with
          feedback (IT scales V4 by 1 + tanh(W_fb * IT)) and local recurrence (3x3 convolution
          of the IT maps); the IT code is a ReLU layer of ``brain.it_units`` on the spatial mean
    trained (:func:`insilico.it.brain.train_hidden_network`) briefly with Adam on category + identity of its own
    rendered images (half of them hard), the loss summed over iterations with later ones
    weighted more: the feedforward sweep solves what it can, recurrence adds the rest.

The workflow trains it once and caches the checkpoint under a content key of its settings
(:func:`insilico.it.brain.network_settings`). A V4 site reads 2-3 V4 maps through a local Gaussian receptive field
(sites scatter around one point, like a Utah array); an IT site reads a sparse random mixture of
the IT code. Both are rectified above a per-site quantile of their drive on the brain's own
calibration images and scaled so that the 98th percentile is 1, so a drive is a fixed function of
the image, whatever else is in the stimulus set.

Time course (per 10 ms bin; the image is on from 0 to ``image_on_ms``): at ``t`` ms a site reports
its stage's state at iteration ``(t - latency) / brain.iteration_ms`` (linear between iterations,
the last held), times an envelope ``k(t - latency)``: a rise (10 ms), a transient that adapts to a
sustained level, and a decay after the image goes off. V4 latencies are 60-80 ms, IT latencies
90-110 ms; with 4 iterations of 25 ms, IT settles at about 200 ms and what the recurrence adds
develops after about 150 ms (``late_share`` in the ground truth measures it per image). Spike
counts per bin are negative binomial with the neuroid's Fano factor (Poisson at 1); rates are
reported in Hz (count / 0.01 s). The exact reliability of every repetition average is exported.

Every random choice comes from numpy Generators seeded from ``seed`` and a fixed name per use, so
the objects, the brain, its training, the neural stimuli, the task-training images and the spikes
are independent streams and the same seed always gives the same experiment.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core.io import load_torch, write_netcdf
from insilico.core.units import IT_BIN_MS
from insilico.it.assembly import write_assembly, write_stimulus_set

if TYPE_CHECKING:
    from insilico.it.brain import GroundTruthBrain

SIMULATOR_VERSION = "2.1.0"

STIMULUS_SET_IDENTIFIER = "insilico.SimulatedHvM"
ASSEMBLY_IDENTIFIER = "insilico.SimulatedHvM2015"
MAX_VARIATION = 6
HARMONICS = np.arange(2, 8)  # radial harmonics of the silhouettes
# Shape is the category cue (prototype harmonics, elongation, hollowness); texture (luminance,
# grating frequency and orientation) is drawn per object, so it says nothing about the category.
PROTOTYPE_AMPLITUDE = (0.15, 0.3)
OBJECT_JITTER = 0.04
TEXTURE_FREQUENCY = (0.8, 3.0)  # cycles per object radius
OBJECT_RADIUS = 0.42  # object radius at size 1, in half-image units
BACKGROUND_CONTRAST = 0.10  # std of the background luminance (0..1 units)

# Pose ranges at the largest variation (6); a level v scales them by v / 6 (level 0: canonical).
MAX_SHIFT = 0.35  # position, half-image units
MAX_LOG_SIZE = math.log(1.6)  # size factor within [1/1.6, 1.6]
MAX_IN_PLANE_DEG = 90.0
MAX_OUT_OF_PLANE_DEG = 70.0

# Hard images (Kar et al. 2019's late-solved images are hard in these ways), rendered at the pose
# ranges of variation 3. "clean" images are the HvM-like ones of the variation levels.
IMAGE_KINDS = ("clean", "occluded", "cluttered", "low_contrast", "unusual_pose")
HARD_KINDS = IMAGE_KINDS[1:]
HARD_VARIATION = 3
OCCLUDERS = 2  # grey bars across the object, each 0.25-0.4 object radii wide
CLUTTER_SHAPES = 4  # distractor blobs (no object of the bank) behind the object
LOW_CONTRAST = 0.3  # object contrast against the mean background, relative to a clean image
UNUSUAL_OUT_OF_PLANE_DEG = (60.0, 80.0)  # both out-of-plane rotations, beyond variation 6's mean
TASK_HARD_FRACTION = 0.5  # share of hard images among task-training images (each kind equally)

# Time course of every response component (ms).
RISE_MS = 10.0
ADAPT_MS = 40.0
SUSTAINED = 0.55  # sustained level relative to the transient peak
DECAY_MS = 40.0
V4_LATENCY_MS = (60.0, 80.0)
IT_LATENCY_MS = (90.0, 110.0)

V1_SEMISATURATION = 0.5  # V1 divisive normalisation: energy / (this + local mean energy)
V4_RF_SIGMA = (0.1, 0.2)  # receptive-field sigma, half-image units
# Like a Utah array, the V4 sites sample one patch of cortex: receptive-field centres scatter
# with this standard deviation (half-image units) around a point near the fovea.
V4_RF_SCATTER = 0.35
IT_READOUT_DENSITY = 0.3  # share of the hidden IT units an IT site reads
THRESHOLD_QUANTILE = (0.2, 0.6)  # a site is silent below this quantile of its calibration drive

CALIBRATION_IMAGES = 256  # the brain's own images that fix its thresholds and scales

GABOR_ORIENTATIONS = 4
GABOR_WAVELENGTHS = (1 / 10, 1 / 5)  # fractions of the image width


def _rng(seed: int, stream: str) -> np.random.Generator:
    """An independent, reproducible random stream per purpose."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


# --- objects and rendering --------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectBank:
    """The procedural objects: one row per object, categories in blocks."""

    category: np.ndarray  # (n_objects,) int
    amplitudes: np.ndarray  # (n_objects, len(HARMONICS)) radial harmonic amplitudes
    phases: np.ndarray  # (n_objects, len(HARMONICS))
    elongation: np.ndarray  # (n_objects,) aspect ratio of the silhouette (>= 1)
    hollow: np.ndarray  # (n_objects,) bool: ring-like objects
    luminance: np.ndarray  # (n_objects,) mean luminance (0..1)
    texture_frequency: np.ndarray  # (n_objects,) cycles per object radius
    texture_orientation: np.ndarray  # (n_objects,) radians
    texture_contrast: np.ndarray  # (n_objects,)
    category_names: tuple[str, ...]
    object_names: tuple[str, ...]

    @property
    def n_objects(self) -> int:
        return len(self.category)

    @property
    def n_categories(self) -> int:
        return len(self.category_names)


def make_objects(n_categories: int, objects_per_category: int, seed: int) -> ObjectBank:
    """Category prototypes and their objects (deterministic from ``seed``)."""
    rng = _rng(seed, "objects")
    n_h = len(HARMONICS)
    proto_amp = np.zeros((n_categories, n_h))
    proto_phase = rng.uniform(0, 2 * np.pi, size=(n_categories, n_h))
    for c in range(n_categories):
        dominant = rng.choice(n_h, size=2, replace=False)
        proto_amp[c, dominant] = rng.uniform(*PROTOTYPE_AMPLITUDE, size=2)
    proto_elongation = rng.uniform(1.0, 1.7, size=n_categories)
    proto_hollow = np.zeros(n_categories, bool)
    proto_hollow[rng.choice(n_categories, size=max(1, n_categories // 4), replace=False)] = True

    n_objects = n_categories * objects_per_category
    category = np.repeat(np.arange(n_categories), objects_per_category)
    amplitudes = np.clip(
        proto_amp[category] + rng.normal(0, OBJECT_JITTER, size=(n_objects, n_h)), 0, None
    )
    phases = proto_phase[category] + rng.normal(0, 0.35, size=(n_objects, n_h))
    elongation = proto_elongation[category] * np.exp(rng.normal(0, 0.08, size=n_objects))
    luminance = np.where(rng.random(n_objects) < 0.5, 0.22, 0.78) + rng.normal(0, 0.05, n_objects)
    return ObjectBank(
        category=category,
        amplitudes=amplitudes,
        phases=phases,
        elongation=np.maximum(elongation, 1.0),
        hollow=proto_hollow[category],
        luminance=np.clip(luminance, 0.05, 0.95),
        texture_frequency=rng.uniform(*TEXTURE_FREQUENCY, n_objects),
        texture_orientation=rng.uniform(0, np.pi, n_objects),
        texture_contrast=rng.uniform(0.05, 0.18, n_objects),
        category_names=tuple(f"category{c:02d}" for c in range(n_categories)),
        object_names=tuple(
            f"category{c:02d}_object{o:02d}"
            for c in range(n_categories)
            for o in range(objects_per_category)
        ),
    )


def sample_poses(variation: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Pose per image (HvM names): position ``ty`` (horizontal), ``tz`` (vertical), size ``s``,
    rotations ``rxy`` (in plane), ``rxz`` and ``ryz`` (out of plane), degrees.

    Ranges grow linearly with the variation level; level 0 is the canonical view.
    """
    amount = np.asarray(variation, float) / MAX_VARIATION
    n = len(amount)

    def uniform(limit):
        return rng.uniform(-1, 1, size=n) * limit * amount

    return {
        "ty": uniform(MAX_SHIFT),
        "tz": uniform(MAX_SHIFT),
        "s": np.exp(uniform(MAX_LOG_SIZE)),
        "rxy": uniform(MAX_IN_PLANE_DEG),
        "rxz": uniform(MAX_OUT_OF_PLANE_DEG),
        "ryz": uniform(MAX_OUT_OF_PLANE_DEG),
    }


def pink_noise(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Natural-like backgrounds: 1/f amplitude spectrum (1/f^2 power), mean 0, std 1."""
    freq = np.fft.fftfreq(size)
    radius = np.hypot(freq[:, None], freq[None, :])
    radius[0, 0] = 1.0
    spectrum = (rng.normal(size=(n, size, size)) + 1j * rng.normal(size=(n, size, size))) / radius
    spectrum[:, 0, 0] = 0
    images = np.fft.ifft2(spectrum).real
    images -= images.mean(axis=(1, 2), keepdims=True)
    images /= images.std(axis=(1, 2), keepdims=True) + 1e-12
    return images


def render(
    objects: ObjectBank,
    object_index: np.ndarray,
    poses: dict[str, np.ndarray],
    size: int,
    rng: np.random.Generator,
    kinds: np.ndarray | None = None,
    chunk: int = 64,
) -> np.ndarray:
    """Grey-scale images ``(n, size, size)`` uint8 of the given objects, poses and image kinds.

    Anti-aliased by a soft edge one pixel wide; every image gets its own background from ``rng``.
    ``kinds`` (default all "clean") adds occluding bars, clutter behind the object or a low
    object contrast (an unusual pose is a pose, drawn by :func:`stimulus_design`). The random
    draws per image do not depend on its kind, so changing one image's kind changes only it.
    """
    object_index = np.asarray(object_index)
    n = len(object_index)
    kinds = np.full(n, "clean") if kinds is None else np.asarray(kinds).astype(str)
    images = np.empty((n, size, size), np.uint8)
    centers = (np.arange(size) + 0.5) / size * 2 - 1
    v, u = np.meshgrid(-centers, centers, indexing="ij")  # u to the right, v up
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        idx = object_index[sl]
        pose = {key: np.asarray(value)[sl][:, None, None] for key, value in poses.items()}
        radius = OBJECT_RADIUS * pose["s"]
        angle = np.deg2rad(pose["rxy"])
        du, dv = u[None] - pose["ty"], v[None] - pose["tz"]
        # Object frame: undo position, in-plane rotation, size, then out-of-plane foreshortening.
        x = (np.cos(angle) * du + np.sin(angle) * dv) / radius
        y = (-np.sin(angle) * du + np.cos(angle) * dv) / radius
        fore_x = np.maximum(np.cos(np.deg2rad(pose["ryz"])), 0.3)
        fore_y = np.maximum(np.cos(np.deg2rad(pose["rxz"])), 0.3)
        x, y = x / fore_x, y / fore_y
        elong = objects.elongation[idx][:, None, None]
        xs, ys = x / np.sqrt(elong), y * np.sqrt(elong)
        rho, phi = np.hypot(xs, ys), np.arctan2(ys, xs)
        amp = objects.amplitudes[idx][:, :, None, None]
        pha = objects.phases[idx][:, :, None, None]
        boundary = 1.0 + (amp * np.cos(HARMONICS[None, :, None, None] * phi[:, None] + pha)).sum(1)
        pixel = 2.0 / size / (radius * np.minimum(fore_x, fore_y))  # one pixel, object units
        mask = _sigmoid((boundary - rho) / pixel)
        hollow = objects.hollow[idx][:, None, None]
        mask = np.where(hollow, mask * _sigmoid((rho - 0.5 * boundary) / pixel), mask)
        ori = objects.texture_orientation[idx][:, None, None]
        freq = objects.texture_frequency[idx][:, None, None]
        texture = objects.texture_contrast[idx][:, None, None] * np.cos(
            2 * np.pi * freq * (x * np.cos(ori) + y * np.sin(ori))
        )
        shading = (
            0.12 * np.sin(np.deg2rad(pose["ryz"])) * x + 0.12 * np.sin(np.deg2rad(pose["rxz"])) * y
        )
        surface = objects.luminance[idx][:, None, None] + texture + shading
        kind = kinds[sl][:, None, None]
        surface = np.where(kind == "low_contrast", 0.5 + LOW_CONTRAST * (surface - 0.5), surface)
        background = 0.5 + BACKGROUND_CONTRAST * pink_noise(len(idx), size, rng)
        clutter, clutter_lum = _clutter(u, v, len(idx), size, rng)
        background = np.where(
            kind == "cluttered", background * (1 - clutter) + clutter_lum, background
        )
        image = mask * surface + (1 - mask) * background
        occluder, occluder_lum = _occluders(du, dv, radius, size, rng)
        image = np.where(kind == "occluded", image * (1 - occluder) + occluder_lum, image)
        images[sl] = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    return images


def _occluders(du: np.ndarray, dv: np.ndarray, radius: np.ndarray, size: int, rng):
    """Soft masks ``(n, size, size)`` of ``OCCLUDERS`` grey bars through the object, and their
    luminance image (mask times the bar's grey level), in the object-centred frame."""
    n = len(du)
    mask = np.zeros(du.shape)
    luminance = np.zeros(du.shape)
    for _ in range(OCCLUDERS):
        angle = rng.uniform(0, np.pi, n)[:, None, None]
        offset = rng.uniform(-0.5, 0.5, n)[:, None, None] * radius
        half_width = rng.uniform(0.12, 0.2, n)[:, None, None] * radius
        grey = rng.uniform(0.3, 0.7, n)[:, None, None]
        distance = np.abs(np.cos(angle) * du + np.sin(angle) * dv - offset)
        bar = _sigmoid((half_width - distance) * size / 2)
        luminance = luminance * (1 - bar) + grey * bar
        mask = 1 - (1 - mask) * (1 - bar)
    return mask, luminance


def _clutter(u: np.ndarray, v: np.ndarray, n: int, size: int, rng):
    """Soft masks ``(n, size, size)`` of ``CLUTTER_SHAPES`` random blobs (shapes of no object)
    and their luminance image, for the background of cluttered images."""
    mask = np.zeros((n, *u.shape))
    luminance = np.zeros((n, *u.shape))
    for _ in range(CLUTTER_SHAPES):
        cx, cy = (rng.uniform(-0.85, 0.85, n)[:, None, None] for _ in range(2))
        scale = rng.uniform(0.18, 0.32, n)[:, None, None]
        amp = rng.uniform(0.0, 0.3, (n, len(HARMONICS)))[:, :, None, None]
        pha = rng.uniform(0, 2 * np.pi, (n, len(HARMONICS)))[:, :, None, None]
        grey = rng.uniform(0.15, 0.85, n)[:, None, None]
        rho = np.hypot(u[None] - cx, v[None] - cy) / scale
        phi = np.arctan2(v[None] - cy, u[None] - cx)
        boundary = 1 + (amp * np.cos(HARMONICS[None, :, None, None] * phi[:, None] + pha)).sum(1)
        blob = _sigmoid((boundary - rho) * scale * size / 2)
        luminance = luminance * (1 - blob) + grey * blob
        mask = 1 - (1 - mask) * (1 - blob)
    return mask, luminance


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * np.clip(x, -60, 60)))


def stimulus_design(
    objects: ObjectBank,
    variations: list[int],
    images_per_object: int,
    seed: int,
    stream: str,
    hard_images_per_object: int = 0,
) -> pd.DataFrame:
    """One row per image: object, category, variation, image kind and pose (Brain-Score names).

    Clean images: ``images_per_object`` per object and variation level; then, per object and hard
    kind (:data:`HARD_KINDS`), ``hard_images_per_object`` images at variation ``HARD_VARIATION``.
    """
    rng = _rng(seed, f"{stream}:poses")
    rows = [
        (o, v, "clean")
        for v in variations
        for o in range(objects.n_objects)
        for _ in range(images_per_object)
    ] + [
        (o, HARD_VARIATION, kind)
        for kind in HARD_KINDS
        for o in range(objects.n_objects)
        for _ in range(hard_images_per_object)
    ]
    object_index = np.array([o for o, _, _ in rows], dtype=int)
    variation = np.array([v for _, v, _ in rows], dtype=int)
    kinds = np.array([k for _, _, k in rows])
    poses = _unusual_poses(sample_poses(variation, rng), kinds == "unusual_pose", rng)
    return pd.DataFrame(
        {
            "stimulus_id": [f"{stream}{i:05d}" for i in range(len(rows))],
            "object_index": object_index,
            "object_name": np.asarray(objects.object_names)[object_index],
            "category_index": objects.category[object_index],
            "category_name": np.asarray(objects.category_names)[objects.category[object_index]],
            "variation": variation,
            "image_kind": kinds,
            **poses,
        }
    )


def _unusual_poses(poses: dict, unusual: np.ndarray, rng: np.random.Generator) -> dict:
    """Both out-of-plane rotations set to +-(60..80) degrees where ``unusual`` (draws for all)."""
    out = dict(poses)
    for key in ("rxz", "ryz"):
        extreme = rng.uniform(*UNUSUAL_OUT_OF_PLANE_DEG, len(unusual)) * rng.choice(
            [-1, 1], len(unusual)
        )
        out[key] = np.where(unusual, extreme, poses[key])
    return out


def render_design(objects: ObjectBank, design: pd.DataFrame, size: int, seed: int, stream: str):
    """The images of a design table, with backgrounds from the design's own stream."""
    poses = {key: design[key].to_numpy() for key in ("ty", "tz", "s", "rxy", "rxz", "ryz")}
    kinds = design["image_kind"].to_numpy() if "image_kind" in design else None
    return render(
        objects,
        design["object_index"].to_numpy(),
        poses,
        size,
        _rng(seed, f"{stream}:pixels"),
        kinds,
    )


def task_images(
    params: dict, seed: int, n_images: int, stream: str, size: int | None = None
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Images for task training or testing, disjoint from the neural stimulus set.

    Objects are the simulated experiment's objects (from ``params["seed"]``); poses, variation
    levels (uniform over 0..6, not only the recorded levels), image kinds (a share
    ``TASK_HARD_FRACTION`` hard, at variation 3) and backgrounds come from the random stream
    (``seed``, ``stream``), so no task image equals a neural stimulus. Returns (images uint8,
    category labels, design table with ``object_index`` and ``image_kind``).
    """
    objects = make_objects(params["n_categories"], params["objects_per_category"], params["seed"])
    rng = _rng(seed, f"{stream}:design")
    object_index = rng.integers(0, objects.n_objects, size=n_images)
    hard = rng.random(n_images) < TASK_HARD_FRACTION
    kinds = np.where(
        hard, np.asarray(HARD_KINDS)[rng.integers(0, len(HARD_KINDS), n_images)], "clean"
    )
    variation = np.where(hard, HARD_VARIATION, rng.uniform(0, MAX_VARIATION, size=n_images))
    poses = _unusual_poses(sample_poses(variation, rng), kinds == "unusual_pose", rng)
    images = render(objects, object_index, poses, size or params["image_size"], rng, kinds)
    design = pd.DataFrame(
        {"object_index": object_index, "variation": variation, "image_kind": kinds, **poses}
    )
    design["category_index"] = objects.category[object_index]
    return images, objects.category[object_index], design


def task_image_set(params: dict, *, n_train: int, n_test: int, seed: int, size: int) -> xr.Dataset:
    """Training and test images for categorisation, rendered at the models' input ``size``."""
    train, train_labels, _ = task_images(params, seed, n_train, "task-train", size)
    test, test_labels, _ = task_images(params, seed, n_test, "task-test", size)
    return xr.Dataset(
        {
            "train_images": (("train_image", "y", "x"), train),
            "train_labels": ("train_image", train_labels.astype(np.int64)),
            "test_images": (("test_image", "y", "x"), test),
            "test_labels": ("test_image", test_labels.astype(np.int64)),
        },
        attrs={
            "n_categories": int(params["n_categories"]),
            "seed": int(seed),
            "simulator_version": SIMULATOR_VERSION,
            "description": "rendered objects of the simulated experiment at new poses (variation "
            "uniform over 0..6) and backgrounds; labels are category indices",
        },
    )


# --- ground-truth brain -----------------------------------------------------------------------


def _time_course(bin_starts_ms: np.ndarray, latency_ms: np.ndarray, image_on_ms: float):
    """Mean of the response kernel over each 10 ms bin: ``(n_neuroids, n_bins)``.

    ``k(tau)`` of the time since latency: rise ``1 - exp(-tau / RISE_MS)`` times an adapting
    transient ``SUSTAINED + (1 - SUSTAINED) exp(-tau / ADAPT_MS)`` while the image is on (its
    duration ``image_on_ms``), then an exponential decay with ``DECAY_MS`` from the value reached.
    """
    t = np.asarray(bin_starts_ms, float)[None, :, None] + np.arange(0.5, IT_BIN_MS)[None, None, :]
    tau = t - np.asarray(latency_ms, float)[:, None, None]

    def on(tau):
        tau = np.maximum(tau, 0)
        return (1 - np.exp(-tau / RISE_MS)) * (
            SUSTAINED + (1 - SUSTAINED) * np.exp(-tau / ADAPT_MS)
        )

    after = on(np.full_like(tau, image_on_ms)) * np.exp(
        -np.maximum(tau - image_on_ms, 0) / DECAY_MS
    )
    kernel = np.where(tau < 0, 0.0, np.where(tau < image_on_ms, on(tau), after))
    return kernel.mean(-1)


def spike_rates(
    rates: np.ndarray, fano: np.ndarray, repetitions: int, rng: np.random.Generator
) -> np.ndarray:
    """Noisy rates (Hz) ``(repetitions, *rates.shape)``: negative binomial counts per 10 ms bin.

    A count with mean ``m = rate * 0.01`` and Fano factor ``F`` has variance ``F m`` (Poisson when
    ``F`` is 1); ``fano`` is per neuroid (axis 1 of ``rates``).
    """
    mean = np.maximum(rates * IT_BIN_MS / 1000.0, 1e-9)
    excess = np.broadcast_to(np.asarray(fano, float)[None, :, None] - 1.0, mean.shape)
    shape = (repetitions, *mean.shape)
    # Negative binomial as a gamma-Poisson mixture: the gamma has mean m and variance (F - 1) m.
    over = excess > 1e-9
    intensity = np.broadcast_to(mean, shape).copy()
    if over.any():
        intensity[:, over] = rng.gamma(
            mean[over] / excess[over], excess[over], size=(repetitions, int(over.sum()))
        )
    return rng.poisson(intensity).astype(np.float64) * (1000.0 / IT_BIN_MS)


def true_reliability(rates: np.ndarray, fano: np.ndarray, repetitions: int) -> np.ndarray:
    """Exact reliability of the repetition average, per neuroid: what the split-half ceiling estimates.

    ``rates`` (n_images, n_neuroids, n_bins) noiseless, Hz; the response is the mean over the bins.
    Signal variance over images divided by signal plus noise variance of the average of
    ``repetitions`` trials (bins independent, count variance ``F m``).
    """
    n_bins = rates.shape[2]
    signal = rates.mean(axis=2)
    count_var = fano[None, :, None] * rates * IT_BIN_MS / 1000.0
    noise_var = (count_var * (1000.0 / IT_BIN_MS) ** 2).sum(axis=2) / n_bins**2 / repetitions
    signal_var = signal.var(axis=0, ddof=1)
    return signal_var / (signal_var + noise_var.mean(axis=0))


# --- the experiment ---------------------------------------------------------------------------


def bin_starts(params: dict) -> np.ndarray:
    """Start (ms after image onset) of every recorded 10 ms bin."""
    start, end = params["time_bins_ms"]
    return np.arange(start, end, IT_BIN_MS)


def simulate_experiment(
    params: dict,
    seed: int,
    *,
    assembly_path,
    temporal_path,
    csv_path,
    zip_path,
    groundtruth_path,
    network_path=None,
) -> dict:
    """Render the stimulus set, run the brain, draw spikes; write the five files.

    ``temporal_path``: NeuroidAssembly with one 10 ms bin per ``time_bins_ms`` step;
    ``assembly_path``: the same trials averaged over ``window_ms`` (one time bin), as
    MajajHong2015.public is; ``csv_path``/``zip_path``: the StimulusSet; ``groundtruth_path``:
    noiseless rates, per-iteration drives, per-neuroid parameters and exact reliabilities
    (netCDF). ``network_path``: the hidden network's checkpoint (:func:`insilico.it.brain.train_hidden_network`,
    cached by the workflow); trained here when omitted. Returns a small summary for the log.
    """
    objects = make_objects(params["n_categories"], params["objects_per_category"], seed)
    design = stimulus_design(
        objects,
        list(params["variations"]),
        params["images_per_object"],
        seed,
        "hvm",
        params["hard_images_per_object"],
    )
    images = render_design(objects, design, params["image_size"], seed, "hvm")
    checkpoint = None if network_path is None else load_torch(network_path)
    from insilico.it.brain import GroundTruthBrain  # torch: only this job runs the network

    brain = GroundTruthBrain(params, seed, checkpoint)
    starts = bin_starts(params)
    drives = brain.drives(images)  # (n_images, iterations + 1, n_neuroids), pixels only
    rates = brain.rates(drives, starts)  # (n_images, n_neuroids, n_bins), Hz
    repetitions = int(params["repetitions"])
    rng = _rng(seed, "spikes")
    trials = np.stack(
        [spike_rates(rates, brain.fano, 1, rng)[0].astype(np.float32) for _ in range(repetitions)]
    )  # (repetitions, n_images, n_neuroids, n_bins)

    window = _window_mask(starts, params["window_ms"])
    n_images = len(design)
    metadata = design[
        [
            "stimulus_id",
            "object_name",
            "category_name",
            "variation",
            "image_kind",
            "ty",
            "tz",
            "s",
            "rxy",
            "rxz",
            "ryz",
        ]
    ].copy()
    write_stimulus_set(images, metadata, csv_path, zip_path)

    presentation = {
        "stimulus_id": np.tile(design["stimulus_id"].to_numpy(), repetitions),
        "repetition": np.repeat(np.arange(repetitions), n_images),
        "object_name": np.tile(design["object_name"].to_numpy(), repetitions),
        "category_name": np.tile(design["category_name"].to_numpy(), repetitions),
        "variation": np.tile(design["variation"].to_numpy(), repetitions),
        "image_kind": np.tile(design["image_kind"].to_numpy(), repetitions),
    }
    neuroids = _neuroid_coords(brain)
    data = trials.reshape(repetitions * n_images, *trials.shape[2:])
    temporal = _assembly(
        data, presentation, neuroids, starts, starts + IT_BIN_MS, f"{ASSEMBLY_IDENTIFIER}.temporal"
    )
    write_assembly(temporal, temporal_path)
    averaged = data[:, :, window].mean(axis=2, keepdims=True)
    lo, hi = params["window_ms"]
    write_assembly(
        _assembly(averaged, presentation, neuroids, [lo], [hi], ASSEMBLY_IDENTIFIER), assembly_path
    )

    reliability_window = true_reliability(rates[:, :, window], brain.fano, repetitions)
    reliability_bins = np.stack(
        [true_reliability(rates[:, :, [b]], brain.fano, repetitions) for b in range(len(starts))],
        axis=1,
    )
    truth = _groundtruth(brain, design, rates, starts, reliability_window, reliability_bins)
    truth["drive"] = (("stimulus", "iteration", "neuroid"), drives.astype(np.float32))
    truth["late_share"] = ("stimulus", late_share(drives[:, :, brain.region == "IT"]))
    write_netcdf(truth, groundtruth_path)
    hard = design["image_kind"].to_numpy() != "clean"
    return {
        "n_stimuli": n_images,
        "n_presentations": repetitions * n_images,
        "n_neuroids": rates.shape[1],
        "n_bins": len(starts),
        "mean_rate_hz": float(rates.mean()),
        "true_reliability_median": {
            region: float(np.median(reliability_window[brain.region == region]))
            for region in ("V4", "IT")
        },
        "it_late_share_median": {
            "clean": float(np.median(truth["late_share"].values[~hard])),
            "hard": float(np.median(truth["late_share"].values[hard])),
        },
        "network_accuracy": brain.accuracy,
    }


def late_share(it_drives: np.ndarray, early_iteration: int = 1) -> np.ndarray:
    """Per image, the share of its final IT response pattern not yet there at ``early_iteration``.

    ``it_drives`` (n_images, iterations + 1, n_it): ``|d_K - d_e|^2 / |d_K - mean_K|^2`` over the
    IT sites, where ``mean_K`` is the mean final response over images; with the default
    ``iteration_ms`` (25) and IT latencies (90-110 ms), iteration 1 is reached at 115-135 ms, so
    this is the part of the response that develops after about 150 ms.
    """
    final = it_drives[:, -1]
    change = ((final - it_drives[:, early_iteration]) ** 2).sum(-1)
    spread = ((final - final.mean(0)) ** 2).sum(-1)
    return change / np.maximum(spread, 1e-12)


def _window_mask(starts: np.ndarray, window_ms) -> np.ndarray:
    lo, hi = window_ms
    mask = (starts >= lo) & (starts + IT_BIN_MS <= hi)
    if not mask.any():
        raise ValueError(f"window_ms {list(window_ms)} holds none of the bins starting at {starts}")
    return mask


def _neuroid_coords(brain: GroundTruthBrain) -> dict[str, np.ndarray]:
    """Neuroid metadata with MajajHong2015's coordinate names (simulated values)."""
    n = len(brain.region)
    centers = np.concatenate([brain.v4_center, brain.it_center])
    index_in_region = np.concatenate([np.arange(brain.n_v4), np.arange(brain.n_it)])
    return {
        "neuroid_id": np.array(
            [f"{r}_{i:03d}" for r, i in zip(brain.region, index_in_region, strict=True)]
        ),
        "region": brain.region,
        "subregion": brain.region,
        "animal": np.full(n, "simulated"),
        "hemisphere": np.full(n, "L"),
        "arr": brain.region,
        "row": index_in_region // 10,
        "col": index_in_region % 10,
        # receptive-field centre in degrees for images of 8 degrees, as HvM was shown
        "x": centers[:, 0] * 4.0,
        "y": centers[:, 1] * 4.0,
    }


def _assembly(data, presentation, neuroids, starts, ends, identifier) -> xr.DataArray:
    coords = {name: ("presentation", values) for name, values in presentation.items()}
    coords |= {name: ("neuroid", values) for name, values in neuroids.items()}
    coords |= {
        "time_bin_start": ("time_bin", np.asarray(starts, dtype=np.int64)),
        "time_bin_end": ("time_bin", np.asarray(ends, dtype=np.int64)),
    }
    return xr.DataArray(
        np.asarray(data, dtype=np.float32),
        dims=("presentation", "neuroid", "time_bin"),
        coords=coords,
        attrs={
            "identifier": identifier,
            "stimulus_set_identifier": STIMULUS_SET_IDENTIFIER,
            "units": "Hz (spike count per 10 ms bin / 0.01 s, averaged over the time bin)",
            "simulator_version": SIMULATOR_VERSION,
        },
    )


def _groundtruth(brain, design, rates, starts, reliability_window, reliability_bins):
    neuroid_id = _neuroid_coords(brain)["neuroid_id"]
    return xr.Dataset(
        {
            "rate": (("stimulus", "neuroid", "time_bin"), rates.astype(np.float32)),
            "fano": ("neuroid", brain.fano),
            "latency_ms": ("neuroid", brain.latency),
            "baseline_hz": ("neuroid", brain.baseline),
            "gain_hz": ("neuroid", brain.gain),
            "threshold": ("neuroid", brain.threshold),
            "network_accuracy_clean": ("iteration", brain.accuracy["clean"]),
            "network_accuracy_hard": ("iteration", brain.accuracy["hard"]),
            "true_reliability_window": ("neuroid", reliability_window),
            "true_reliability": (("neuroid", "time_bin"), reliability_bins),
        },
        coords={
            "stimulus_id": ("stimulus", design["stimulus_id"].to_numpy()),
            "image_kind": ("stimulus", design["image_kind"].to_numpy()),
            "iteration": np.arange(brain.iterations + 1),
            "iteration_ms": (
                "iteration",
                np.arange(brain.iterations + 1) * 1.0 * brain.params["brain"]["iteration_ms"],
            ),
            "neuroid_id": ("neuroid", neuroid_id),
            "region": ("neuroid", brain.region),
            "time_bin_start": ("time_bin", starts.astype(np.int64)),
            "time_bin_end": ("time_bin", (starts + IT_BIN_MS).astype(np.int64)),
        },
        attrs={
            "simulator_version": SIMULATOR_VERSION,
            "description": "noiseless rates (Hz), drives per iteration of the hidden network and "
            "parameters of the simulated neuroids; true_reliability is the exact reliability of "
            "the repetition average that the split-half (Spearman-Brown) ceiling estimates; "
            "network_accuracy_* the hidden network's own category accuracy per iteration "
            "(iteration_ms after each site's latency) on its held-out clean and hard images; "
            "late_share the share of an image's final IT pattern that develops after iteration 1",
        },
    )
