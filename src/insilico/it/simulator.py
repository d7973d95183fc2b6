"""Synthetic HvM-like images: procedural objects rendered at variation levels, on 1/f backgrounds.

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

The hidden ground-truth network the neuroids read out is :mod:`insilico.it.brain`; the experiment
(stimulus set, spikes, assemblies) is assembled by :mod:`insilico.it.experiment`, above both.

Every random choice comes from numpy Generators seeded from ``seed`` and a fixed name per use, so
the objects, the brain, its training, the neural stimuli, the task-training images and the spikes
are independent streams and the same seed always gives the same experiment.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

SIMULATOR_VERSION = "2.1.0"

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


def random_stream(seed: int, stream: str) -> np.random.Generator:
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
    rng = random_stream(seed, "objects")
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
    rng = random_stream(seed, f"{stream}:poses")
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
        random_stream(seed, f"{stream}:pixels"),
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
    rng = random_stream(seed, f"{stream}:design")
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
