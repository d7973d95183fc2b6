"""Synthetic HvM-like experiment: rendered objects, a hidden ground-truth ventral stream, spikes.

The default IT data of the pipeline come from here. The experiment follows the design of the
HvM set behind Brain-Score's MajajHong2015 benchmarks: ``n_categories`` x ``objects_per_category``
procedural objects, each shown at variation levels 0 (centred, fixed size and pose), 3 and 6
(growing ranges of position, scale, in-plane and simulated out-of-plane rotation) on a new
natural-like (1/f) background per image; "V4" and "IT" neuroids respond with latencies, in 10 ms
bins, with trial-to-trial noise over many repetitions.

Objects. A silhouette is a radial function ``r(phi) = 1 + sum_k a_k cos(k phi + p_k)`` (k = 2..7):
each category has its own prototype (two dominant harmonics, an elongation, a texture spatial
frequency, some categories hollow like rings), each object perturbs the prototype and has its own
luminance, texture orientation and contrast. Out-of-plane rotation is rendered as foreshortening
along the rotated axis plus a shading gradient.

Ground-truth "brain" (fixed, never trained, and on purpose unlike the networks it is compared to):

    image -> resized to ``brain_resolution``, contrast (x - mean) / 0.25
      V1: quadrature Gabor pairs, 4 orientations x 2 wavelengths, energy sqrt(even^2 + odd^2),
          divisive normalisation by the local mean energy over all channels
      V4 unit: a conjunction of 2-3 V1 channels at each position, threshold-squared
          (relu(sum_c w_c V1_c(x) - theta)^2), pooled by a Gaussian receptive field at a random
          position: local, position-specific, nonlinear
      IT unit: a mixture of three parts, gain-modulated by position and size (pose):
          features - V4-like conjunction maps pooled over a wide field (position tolerant),
                     combined by random sparse weights through a softplus
          category - the category of the rendered object (sparse random preference)
          identity - the object's identity (random preference over objects)

The category and identity parts read the object's labels from the renderer: they stand in for the
unknown computation by which real IT becomes category- and identity-selective across pose, which
is what task-trained networks learn and random networks lack. Mixing weights, latencies, gains and
Fano factors are drawn per neuroid.

Time course (per 10 ms bin; the image is on from 0 to ``image_on_ms``): each part follows
``k(tau)`` of the time since its latency, a rise (10 ms), a transient that adapts to a sustained
level, and a decay after the image goes off. V4 latencies are 60-80 ms, IT latencies 90-110 ms;
the abstract (category/identity) part of IT starts 15-35 ms after its feature part, so category
information grows over the IT response. Spike counts per bin are negative binomial with the
neuroid's Fano factor (Poisson at 1); rates are reported in Hz (count / 0.01 s).

Every random choice comes from numpy Generators seeded from ``seed`` and a fixed name per use, so
the objects, the brain, the neural stimuli, the task-training images and the spikes are
independent streams and the same seed always gives the same experiment.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import xarray as xr
from torch.nn import functional as F

from insilico.core.io import write_netcdf
from insilico.core.units import IT_BIN_MS
from insilico.it.assembly import write_assembly, write_stimulus_set

SIMULATOR_VERSION = "1.0.0"

STIMULUS_SET_IDENTIFIER = "insilico.SimulatedHvM"
ASSEMBLY_IDENTIFIER = "insilico.SimulatedHvM2015"
VARIATION_LEVELS = (0, 3, 6)
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

# Time course of every response component (ms).
RISE_MS = 10.0
ADAPT_MS = 40.0
SUSTAINED = 0.55  # sustained level relative to the transient peak
DECAY_MS = 40.0
V4_LATENCY_MS = (60.0, 80.0)
IT_LATENCY_MS = (90.0, 110.0)
IT_ABSTRACT_DELAY_MS = (15.0, 35.0)

# V1 divisive normalisation: energy / (V1_SEMISATURATION + local mean energy); V4 conjunctions
# are rectified and raised to V4_EXPONENT.
V1_SEMISATURATION = 0.5
V1_MODE = "energy"
V4_EXPONENT = 2.0
V4_RF_SIGMA = (0.1, 0.2)  # receptive-field sigma, half-image units
V4_THRESHOLD = (0.0, 0.4)
# Like a Utah array, the V4 sites sample one patch of cortex: receptive-field centres scatter
# with this standard deviation (half-image units) around a point near the fovea.
V4_RF_SCATTER = 0.35

POSE_GAIN_FLOOR = 0.4  # IT gain far from the preferred position, relative to at it
CALIBRATION_IMAGES = 256  # the brain's own images that fix its normalisation constants
_CHUNK_IMAGES = 64  # images through the ground-truth brain at a time (bounds memory)

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
    chunk: int = 64,
) -> np.ndarray:
    """Grey-scale images ``(n, size, size)`` uint8 of the given objects and poses.

    Anti-aliased by a soft edge one pixel wide; every image gets its own background from ``rng``.
    """
    object_index = np.asarray(object_index)
    n = len(object_index)
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
        background = 0.5 + BACKGROUND_CONTRAST * pink_noise(len(idx), size, rng)
        image = mask * surface + (1 - mask) * background
        images[sl] = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    return images


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * np.clip(x, -60, 60)))


def stimulus_design(
    objects: ObjectBank, variations: list[int], images_per_object: int, seed: int, stream: str
) -> pd.DataFrame:
    """One row per image: object, category, variation and pose (Brain-Score column names)."""
    rng = _rng(seed, f"{stream}:poses")
    rows = [
        (o, v)
        for v in variations
        for o in range(objects.n_objects)
        for _ in range(images_per_object)
    ]
    object_index = np.array([o for o, _ in rows], dtype=int)
    variation = np.array([v for _, v in rows], dtype=int)
    poses = sample_poses(variation, rng)
    table = pd.DataFrame(
        {
            "stimulus_id": [f"{stream}{i:05d}" for i in range(len(rows))],
            "object_index": object_index,
            "object_name": np.asarray(objects.object_names)[object_index],
            "category_index": objects.category[object_index],
            "category_name": np.asarray(objects.category_names)[objects.category[object_index]],
            "variation": variation,
            **poses,
        }
    )
    return table


def render_design(objects: ObjectBank, design: pd.DataFrame, size: int, seed: int, stream: str):
    """The images of a design table, with backgrounds from the design's own stream."""
    poses = {key: design[key].to_numpy() for key in ("ty", "tz", "s", "rxy", "rxz", "ryz")}
    return render(
        objects, design["object_index"].to_numpy(), poses, size, _rng(seed, f"{stream}:pixels")
    )


def task_images(
    params: dict, seed: int, n_images: int, stream: str, size: int | None = None
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Images for task training or testing, disjoint from the neural stimulus set.

    Objects are the simulated experiment's objects (from ``params["seed"]``); poses, variation
    levels (uniform over 0..6, not only the recorded levels) and backgrounds come from the random
    stream (``seed``, ``stream``), so no task image equals a neural stimulus. Returns (images
    uint8, category labels, design table).
    """
    objects = make_objects(params["n_categories"], params["objects_per_category"], params["seed"])
    rng = _rng(seed, f"{stream}:design")
    object_index = rng.integers(0, objects.n_objects, size=n_images)
    variation = rng.uniform(0, MAX_VARIATION, size=n_images)
    poses = sample_poses(variation, rng)
    images = render(objects, object_index, poses, size or params["image_size"], rng)
    design = pd.DataFrame({"object_index": object_index, "variation": variation, **poses})
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


def gabor_bank(resolution: int) -> torch.Tensor:
    """Quadrature Gabor pairs ``(2 * n_channels, 1, k, k)``: even filters, then odd filters."""
    filters_even, filters_odd = [], []
    for fraction in GABOR_WAVELENGTHS:
        wavelength = max(fraction * resolution, 2.5)
        sigma = 0.45 * wavelength
        half = max(1, int(math.ceil(2.5 * sigma)))
        k = np.arange(-half, half + 1)
        yy, xx = np.meshgrid(k, k, indexing="ij")
        envelope = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
        for i in range(GABOR_ORIENTATIONS):
            theta = np.pi * i / GABOR_ORIENTATIONS
            carrier = xx * np.cos(theta) + yy * np.sin(theta)
            even = envelope * np.cos(2 * np.pi * carrier / wavelength)
            odd = envelope * np.sin(2 * np.pi * carrier / wavelength)
            even -= even.mean()
            filters_even.append(even / np.abs(even).sum())
            filters_odd.append(odd / np.abs(odd).sum())
    size = max(f.shape[0] for f in filters_even)
    bank = np.zeros((2 * len(filters_even), 1, size, size))
    for i, (even, odd) in enumerate(zip(filters_even, filters_odd, strict=True)):
        pad = (size - even.shape[0]) // 2
        bank[i, 0, pad : pad + even.shape[0], pad : pad + even.shape[0]] = even
        bank[len(filters_even) + i, 0, pad : pad + odd.shape[0], pad : pad + odd.shape[0]] = odd
    return torch.from_numpy(bank).float()


class GroundTruthBrain:
    """The hidden V1 -> V4 -> IT network; ``respond`` gives noiseless drives per neuroid.

    ``params`` is ``config["data"]["simulated"]["it"]``; everything random comes from ``seed``.
    """

    def __init__(self, params: dict, seed: int) -> None:
        self.params = params
        self.resolution = int(params["brain_resolution"])
        self.n_v4, self.n_it = int(params["v4_neuroids"]), int(params["it_neuroids"])
        self.n_categories = int(params["n_categories"])
        self.n_objects = self.n_categories * int(params["objects_per_category"])
        rng = _rng(seed, "brain")
        self.gabors = gabor_bank(self.resolution)
        n_v1 = self.gabors.shape[0] // 2 if V1_MODE == "energy" else 2 * self.gabors.shape[0]
        res = self.resolution
        grid = (torch.arange(res) + 0.5) / res * 2 - 1

        # V4: conjunctions of 2-3 V1 channels at each position, local Gaussian receptive fields.
        self.v4_weights = _sparse_conjunctions(rng, self.n_v4, n_v1)
        self.v4_threshold = torch.from_numpy(rng.uniform(*V4_THRESHOLD, self.n_v4)).float()
        array_center = rng.uniform(-0.1, 0.1, size=2)
        self.v4_center = array_center + rng.normal(0, V4_RF_SCATTER, size=(self.n_v4, 2))
        self.v4_sigma = rng.uniform(*V4_RF_SIGMA, size=self.n_v4)
        self.v4_rf = _gaussian_fields(grid, self.v4_center, self.v4_sigma)

        # IT features: a bank of V4-like conjunction maps pooled over a wide field.
        n_bank = int(params["it_feature_bank"])
        self.bank_weights = _sparse_conjunctions(rng, n_bank, n_v1)
        self.bank_threshold = torch.from_numpy(rng.uniform(*V4_THRESHOLD, n_bank)).float()
        self.it_center = rng.normal(0, 0.15, size=(self.n_it, 2))
        self.it_sigma = rng.uniform(0.6, 1.0, size=self.n_it)
        self.it_rf = _gaussian_fields(grid, self.it_center, self.it_sigma)
        self.it_feature_weights = rng.normal(size=(self.n_it, n_bank)) * (
            rng.random((self.n_it, n_bank)) < 0.3
        )
        # IT abstract parts: sparse category preference, dense identity preference.
        category = rng.normal(0, 0.3, size=(self.n_it, self.n_categories))
        preferred = rng.integers(0, self.n_categories, size=self.n_it)
        category[np.arange(self.n_it), preferred] += rng.uniform(1.5, 3.0, self.n_it)
        self.it_category_weights = category
        self.it_identity_weights = rng.normal(size=(self.n_it, self.n_objects))
        mix = rng.dirichlet(
            [params["it_mix"][part] * 10 for part in ("features", "category", "identity")],
            size=self.n_it,
        )
        self.it_mix = mix  # (n_it, 3): features, category, identity
        # Pose gain: broad position tuning and a size exponent.
        self.it_position = rng.normal(0, 0.25, size=(self.n_it, 2))
        self.it_position_sigma = rng.uniform(0.4, 0.8, size=self.n_it)
        self.it_size_exponent = rng.normal(0, 0.5, size=self.n_it)

        # Rates and timing per neuroid: V4 first, then IT.
        n = self.n_v4 + self.n_it
        self.baseline = rng.uniform(*params["baseline_hz"], size=n)
        self.gain = rng.uniform(*params["peak_hz"], size=n)
        self.fano = rng.uniform(*params["fano_factor"], size=n)
        self.latency = np.concatenate(
            [rng.uniform(*V4_LATENCY_MS, self.n_v4), rng.uniform(*IT_LATENCY_MS, self.n_it)]
        )
        self.abstract_delay = np.concatenate(
            [np.zeros(self.n_v4), rng.uniform(*IT_ABSTRACT_DELAY_MS, self.n_it)]
        )
        self.region = np.array(["V4"] * self.n_v4 + ["IT"] * self.n_it)
        self._calibrate(seed)

    def v1(self, images: np.ndarray) -> torch.Tensor:
        """Normalised V1 energy ``(n, channels, res, res)`` of uint8 images."""
        x = torch.from_numpy(np.asarray(images, np.float32))[:, None] / 255.0
        if x.shape[-1] != self.resolution:
            x = F.interpolate(x, size=(self.resolution,) * 2, mode="area")
        x = (x - x.mean(dim=(2, 3), keepdim=True)) / 0.25
        responses = _fft_conv(x, self.gabors)
        if V1_MODE == "energy":
            half = responses.shape[1] // 2
            v1 = torch.sqrt(responses[:, :half] ** 2 + responses[:, half:] ** 2 + 1e-6)
        else:  # simple cells of both polarities, max-pooled over 3x3 positions (position jitter)
            v1 = F.max_pool2d(torch.cat([F.relu(responses), F.relu(-responses)], 1), 3, 1, 1)
        pooled = F.avg_pool2d(v1.mean(1, keepdim=True), 5, stride=1, padding=2)
        return v1 / (V1_SEMISATURATION + pooled)

    def _image_parts(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Uncalibrated image-computed drives: V4 ``(n, n_v4)`` and pooled IT features ``(n, n_it, bank)``."""
        outputs: dict[str, list[np.ndarray]] = {"v4": [], "pooled": []}
        for start in range(0, len(images), _CHUNK_IMAGES):
            v1 = self.v1(images[start : start + _CHUNK_IMAGES])
            v4 = _conjunction_maps(v1, self.v4_weights, self.v4_threshold)
            outputs["v4"].append((v4 * self.v4_rf[None]).sum(dim=(2, 3)).numpy())
            bank = _conjunction_maps(v1, self.bank_weights, self.bank_threshold).flatten(2)
            pooled = (bank @ self.it_rf.flatten(1).T).transpose(1, 2).numpy()  # (n, it, bank)
            outputs["pooled"].append(np.log1p(pooled))
        return {key: np.concatenate(value) for key, value in outputs.items()}

    def _calibrate(self, seed: int) -> None:
        """Fix every normalisation constant on the brain's own image set (never the stimuli).

        Responses are then a fixed function of the image: the same image always gives the same
        drive, whatever else is in the stimulus set or how it is chunked.
        """
        images, _, _ = task_images(self.params, seed, CALIBRATION_IMAGES, "calibration")
        parts = self._image_parts(images)
        self.pooled_mean = parts["pooled"].mean(axis=0)
        self.pooled_std = parts["pooled"].std(axis=0) + 1e-9
        features = self._features(parts["pooled"])
        self.scales = {
            "v4": _range(parts["v4"]),
            "it_features": _range(features),
            # the label-driven parts take every value of their table equally often
            "it_category": _range(_softplus(self.it_category_weights.T - 1)),
            "it_identity": _range(_softplus(self.it_identity_weights.T - 1)),
        }

    def _features(self, pooled: np.ndarray) -> np.ndarray:
        standard = (pooled - self.pooled_mean) / self.pooled_std
        return _softplus((standard * self.it_feature_weights[None]).sum(-1) / 1.5)

    def drives(self, images: np.ndarray, design: pd.DataFrame) -> dict[str, np.ndarray]:
        """Noiseless drives, about 0..1 per image and neuroid, by part.

        Returns ``v4`` (n, n_v4), ``it_features``, ``it_category``, ``it_identity`` (n, n_it) and
        ``it_pose_gain`` (n, n_it). Each part is mapped by fixed constants (from
        :meth:`_calibrate`) so that its 2nd..98th percentile on the calibration images spans 0..1.
        """
        parts = self._image_parts(images)
        raw = {
            "v4": parts["v4"],
            "it_features": self._features(parts["pooled"]),
            "it_category": _softplus(
                self.it_category_weights[:, design["category_index"].to_numpy()].T - 1
            ),
            "it_identity": _softplus(
                self.it_identity_weights[:, design["object_index"].to_numpy()].T - 1
            ),
        }
        drives = {
            key: np.clip((value - self.scales[key][0]) / self.scales[key][1], 0, None)
            for key, value in raw.items()
        }
        position = np.stack([design["ty"].to_numpy(), design["tz"].to_numpy()], axis=1)
        distance2 = ((position[:, None, :] - self.it_position[None]) ** 2).sum(-1)
        drives["it_pose_gain"] = (
            POSE_GAIN_FLOOR
            + (1 - POSE_GAIN_FLOOR) * np.exp(-distance2 / (2 * self.it_position_sigma**2))
        ) * design["s"].to_numpy()[:, None] ** self.it_size_exponent[None]
        return drives

    def rates(self, drives: dict[str, np.ndarray], bin_starts_ms: np.ndarray) -> np.ndarray:
        """Noiseless rates (Hz) ``(n_images, n_neuroids, n_bins)`` in bins starting at the given ms."""
        image_on = float(self.params["image_on_ms"])
        k = _time_course(bin_starts_ms, self.latency, image_on)  # (n_neuroids, n_bins)
        k_late = _time_course(bin_starts_ms, self.latency + self.abstract_delay, image_on)
        n_v4 = self.n_v4
        v4 = drives["v4"][:, :, None] * k[None, :n_v4]
        mix = self.it_mix
        early = mix[None, :, 0] * drives["it_features"]
        late = mix[None, :, 1] * drives["it_category"] + mix[None, :, 2] * drives["it_identity"]
        gain = drives["it_pose_gain"][:, :, None]
        it = gain * (early[:, :, None] * k[None, n_v4:] + late[:, :, None] * k_late[None, n_v4:])
        driven = np.concatenate([v4, it], axis=1)
        return self.baseline[None, :, None] + self.gain[None, :, None] * driven


def _sparse_conjunctions(rng: np.random.Generator, n_units: int, n_channels: int) -> torch.Tensor:
    """Weights ``(n_units, n_channels)``: 2-3 channels each, mostly excitatory."""
    weights = np.zeros((n_units, n_channels))
    for unit in range(n_units):
        chosen = rng.choice(n_channels, size=rng.integers(2, 4), replace=False)
        signs = np.where(rng.random(len(chosen)) < 0.8, 1.0, -0.5)
        weights[unit, chosen] = signs * rng.uniform(0.5, 1.0, len(chosen))
    return torch.from_numpy(weights).float()


def _conjunction_maps(v1: torch.Tensor, weights: torch.Tensor, threshold: torch.Tensor):
    """relu(sum_c w_c V1_c(x) - theta)^2 for every unit and position: ``(n, units, res, res)``."""
    combined = F.conv2d(v1, weights[:, :, None, None])
    return torch.relu(combined - threshold[None, :, None, None]) ** V4_EXPONENT


def _fft_conv(x: torch.Tensor, filters: torch.Tensor) -> torch.Tensor:
    """'Same'-size convolution of ``(n, 1, h, w)`` images with ``(c, 1, k, k)`` filters via FFT.

    Zero padding as in ``conv2d(padding=k // 2)``; the FFT makes large Gabor kernels cheap.
    """
    k = filters.shape[-1]
    h, w = x.shape[-2:]
    size = (h + k - 1, w + k - 1)
    spectrum = torch.fft.rfft2(x, s=size) * torch.fft.rfft2(filters[:, 0].flip(-1, -2), s=size)
    full = torch.fft.irfft2(spectrum, s=size)
    return full[..., k // 2 : k // 2 + h, k // 2 : k // 2 + w]


def _gaussian_fields(grid: torch.Tensor, centers: np.ndarray, sigmas: np.ndarray) -> torch.Tensor:
    """Normalised Gaussian receptive fields ``(n, res, res)``; centre (x right, y up)."""
    yy, xx = torch.meshgrid(-grid, grid, indexing="ij")
    cx = torch.from_numpy(centers[:, 0]).float()[:, None, None]
    cy = torch.from_numpy(centers[:, 1]).float()[:, None, None]
    sigma = torch.from_numpy(sigmas).float()[:, None, None]
    fields = torch.exp(-((xx[None] - cx) ** 2 + (yy[None] - cy) ** 2) / (2 * sigma**2))
    return fields / fields.sum(dim=(1, 2), keepdim=True)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, x)


def _range(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offset, scale) per column mapping its 2nd..98th percentile to 0..1."""
    low, high = np.percentile(x, [2, 98], axis=0)
    return low, np.maximum(high - low, 1e-9)


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
) -> dict:
    """Render the stimulus set, run the brain, draw spikes; write the five files.

    ``temporal_path``: NeuroidAssembly with one 10 ms bin per ``time_bins_ms`` step;
    ``assembly_path``: the same trials averaged over ``window_ms`` (one time bin), as
    MajajHong2015.public is; ``csv_path``/``zip_path``: the StimulusSet; ``groundtruth_path``:
    noiseless rates, per-neuroid parameters and exact reliabilities (netCDF). Returns a small
    summary for the log.
    """
    objects = make_objects(params["n_categories"], params["objects_per_category"], seed)
    design = stimulus_design(
        objects, list(params["variations"]), params["images_per_object"], seed, "hvm"
    )
    images = render_design(objects, design, params["image_size"], seed, "hvm")
    brain = GroundTruthBrain(params, seed)
    starts = bin_starts(params)
    rates = brain.rates(brain.drives(images, design), starts)  # (n_images, n_neuroids, n_bins), Hz
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
    write_netcdf(
        _groundtruth(brain, design, rates, starts, reliability_window, reliability_bins),
        groundtruth_path,
    )
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
    }


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
            "abstract_delay_ms": ("neuroid", brain.abstract_delay),
            "baseline_hz": ("neuroid", brain.baseline),
            "gain_hz": ("neuroid", brain.gain),
            "it_mix": (("it_neuroid", "part"), brain.it_mix),
            "true_reliability_window": ("neuroid", reliability_window),
            "true_reliability": (("neuroid", "time_bin"), reliability_bins),
        },
        coords={
            "stimulus_id": ("stimulus", design["stimulus_id"].to_numpy()),
            "neuroid_id": ("neuroid", neuroid_id),
            "region": ("neuroid", brain.region),
            "time_bin_start": ("time_bin", starts.astype(np.int64)),
            "time_bin_end": ("time_bin", (starts + IT_BIN_MS).astype(np.int64)),
            "it_neuroid_id": ("it_neuroid", neuroid_id[brain.region == "IT"]),
            "part": ("part", ["features", "category", "identity"]),
        },
        attrs={
            "simulator_version": SIMULATOR_VERSION,
            "description": "noiseless rates (Hz) and parameters of the simulated neuroids; "
            "true_reliability is the exact reliability of the repetition average that the "
            "split-half (Spearman-Brown) ceiling estimates",
        },
    )
