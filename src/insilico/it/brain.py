"""The hidden ground-truth ventral stream of the simulated IT experiment (torch).

A fixed Gabor-energy V1, a trained V4 convolution and a recurrent IT stage with local recurrence
and feedback, trained briefly on category and identity of its own images; the neuroids of
:mod:`insilico.it.experiment` are noisy readouts of its stages. It lives apart from the renderer
(:mod:`insilico.it.simulator`) so that the jobs that only render images (task images, stimulus
sets) do not import torch.

Ground-truth "brain": a hidden network that sees only pixels and is never one of the scored
models (its own architecture, width, seed, training images and loss):

    image -> resized to ``brain_resolution``
      V1 (fixed): quadrature Gabor pairs, 4 orientations x 2 wavelengths, energy, divisive
          normalisation by the local mean energy; standardised by constants of its training set
      V4 (trained): 5x5 convolution of V1 (pooled 2x2) to ``brain.width`` maps, ReLU
      IT (trained, recurrent): a feedforward sweep, then ``brain.iterations`` iterations with
          feedback (IT scales V4 by 1 + tanh(W_fb * IT)) and local recurrence (3x3 convolution
          of the IT maps); the IT code is a ReLU layer of ``brain.it_units`` on the spatial mean
    trained (:func:`train_hidden_network`) briefly with Adam on category + identity of its own
    rendered images (half of them hard), the loss summed over iterations with later ones
    weighted more: the feedforward sweep solves what it can, recurrence adds the rest.

The workflow trains it once and caches the checkpoint under a content key of its settings
(:func:`network_settings`). A V4 site reads 2-3 V4 maps through a local Gaussian receptive field
(sites scatter around one point, like a Utah array); an IT site reads a sparse random mixture of
the IT code. Both are rectified above a per-site quantile of their drive on the brain's own
calibration images and scaled so that the 98th percentile is 1, so a drive is a fixed function of
the image, whatever else is in the stimulus set.

Time course (per 10 ms bin; the image is on from 0 to ``image_on_ms``): at ``t`` ms a site reports
its stage's state at iteration ``(t - latency) / brain.iteration_ms`` (linear between iterations,
the last held), times an envelope ``k(t - latency)``: a rise (10 ms), a transient that adapts to a
sustained level, and a decay after the image goes off. V4 latencies are 60-80 ms, IT latencies
90-110 ms; with 4 iterations of 25 ms, IT settles at about 200 ms and what the recurrence adds
develops after about 150 ms (``late_share`` in the ground truth measures it per image).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from insilico.core.checkpoint import RunState, fingerprint
from insilico.core.training import train_loop
from insilico.core.units import IT_BIN_MS
from insilico.it import cache_keys
from insilico.it.simulator import SIMULATOR_VERSION, random_stream, task_images

_log = logging.getLogger(__name__)
_CHUNK_IMAGES = 64  # images through the ground-truth brain at a time (bounds memory)

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


def time_course(bin_starts_ms: np.ndarray, latency_ms: np.ndarray, image_on_ms: float):
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


class HiddenVentralStream(torch.nn.Module):
    """The trainable part of the ground truth: V4 and a recurrent IT stage above a fixed V1.

    V4: 5x5 convolution of the V1 channels (standardised, 2x2 average-pooled) to ``width`` maps,
    ReLU. IT, iteration 0 (the feedforward sweep): ``h_0 = relu(W_in * pool(V4))`` with
    ``2 width`` maps. Iteration k > 0: feedback from IT scales V4 by
    ``1 + tanh(W_fb * upsample(h_{k-1}))``, local recurrence adds ``W_loc * h_{k-1}``, and the
    state moves from the feedforward sweep towards the recurrent one by the sweep's own
    uncertainty ``u`` (entropy of its category read-out over log n_categories, 0..1):
    ``h_k = h_0 + u (relu(W_in * pool(V4_k) + W_loc * h_{k-1}) - h_0)``. An image the sweep
    already resolves is changed little by recurrence; one it leaves ambiguous (as occlusion,
    clutter, low contrast or an unusual pose do) is mostly recomputed, late.
    IT code: ``relu(linear(mean of h_k over positions))`` (``it_units``); one linear head reads the
    category and identity logits from it at every iteration (deep supervision).
    """

    def __init__(self, n_v1: int, width: int, it_units: int, n_categories: int, n_objects: int):
        super().__init__()
        self.n_categories = n_categories
        self.v4 = torch.nn.Conv2d(n_v1, width, 5, padding=2)
        self.it_input = torch.nn.Conv2d(width, 2 * width, 3, padding=1)
        self.local = torch.nn.Conv2d(2 * width, 2 * width, 3, padding=1)
        self.feedback = torch.nn.Conv2d(2 * width, width, 1)
        self.it = torch.nn.Linear(2 * width, it_units)
        self.head = torch.nn.Linear(it_units, n_categories + n_objects)

    def forward(self, v1: torch.Tensor, iterations: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(V4 maps, IT code) at iterations 0..``iterations``."""
        v4_ff = F.relu(self.v4(F.avg_pool2d(v1, 2)))
        h0 = F.relu(self.it_input(F.avg_pool2d(v4_ff, 2)))
        it = F.relu(self.it(h0.mean(dim=(2, 3))))
        states, h = [(v4_ff, it)], h0
        uncertainty = self.uncertainty(it).detach()[:, None, None, None]
        for _ in range(iterations):
            up = F.interpolate(h, size=v4_ff.shape[-2:], mode="nearest")
            v4 = v4_ff * (1 + torch.tanh(self.feedback(up)))
            recurrent = F.relu(self.it_input(F.avg_pool2d(v4, 2)) + self.local(h))
            h = h0 + uncertainty * (recurrent - h0)
            states.append((v4, F.relu(self.it(h.mean(dim=(2, 3))))))
        return states

    def uncertainty(self, it: torch.Tensor) -> torch.Tensor:
        """Entropy of the category read-out of an IT code over its maximum, per image (0..1)."""
        p = torch.softmax(self.head(it)[:, : self.n_categories], dim=1)
        return -(p * torch.log(p + 1e-12)).sum(1) / math.log(self.n_categories)


def network_settings(params: dict) -> dict:
    """Everything the hidden network's weights depend on (its cache key hashes these)."""
    return cache_keys.network_settings(params, SIMULATOR_VERSION)


def fixed_v1(images: np.ndarray, resolution: int, gabors: torch.Tensor) -> torch.Tensor:
    """Normalised V1 energy ``(n, channels, res, res)`` of uint8 images (fixed, never trained).

    Quadrature Gabor pairs, energy ``sqrt(even^2 + odd^2)``, divided by the local mean energy.
    """
    chunks = []
    for start in range(0, len(images), _CHUNK_IMAGES):
        chunk = np.asarray(images[start : start + _CHUNK_IMAGES], np.float32)
        x = torch.from_numpy(chunk)[:, None] / 255.0
        if x.shape[-1] != resolution:
            x = F.interpolate(x, size=(resolution,) * 2, mode="area")
        x = (x - x.mean(dim=(2, 3), keepdim=True)) / 0.25
        responses = _fft_conv(x, gabors)
        half = responses.shape[1] // 2
        v1 = torch.sqrt(responses[:, :half] ** 2 + responses[:, half:] ** 2 + 1e-6)
        pooled = F.avg_pool2d(v1.mean(1, keepdim=True), 5, stride=1, padding=2)
        chunks.append(v1 / (V1_SEMISATURATION + pooled))
    return torch.cat(chunks)


def train_hidden_network(params: dict, checkpoint: Path | None = None) -> dict:
    """Train the hidden network briefly on category and identity (its own images); return a
    checkpoint: ``state`` (weights), ``settings`` and held-out accuracy per iteration and kind.

    Its images (stream ``brain-train``/``brain-test``) are disjoint from the neural stimuli and
    from the scored models' task images; the losses of all iterations are summed, later ones
    weighted more, so the feedforward sweep does what it can and recurrence adds the rest. It
    trains through the shared loop, one Adam step per unit, saving its run state to
    ``checkpoint`` every 100 steps (in memory only when None).
    """
    config, seed = params["brain"], int(params["seed"])
    n_cat = int(params["n_categories"])
    gabors = gabor_bank(int(params["brain_resolution"]))
    v1, v1_mean, v1_std, targets = _training_set(params, gabors)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        network = HiddenVentralStream(
            v1.shape[1],
            config["width"],
            config["it_units"],
            n_cat,
            n_cat * int(params["objects_per_category"]),
        )
    optimiser = torch.optim.Adam(network.parameters(), lr=config["learning_rate"])
    rng = random_stream(seed, "brain-batches")
    weights = np.arange(1, config["iterations"] + 2) / (config["iterations"] + 1)
    run = RunState(
        checkpoint,
        fingerprint(settings=network_settings(params)),
        torch.device("cpu"),
        _log,
        components={"network": network, "optimiser": optimiser},
        generators={"batches": rng},
    )

    def one_step(unit: int):
        batch = torch.from_numpy(rng.integers(0, len(v1), config["batch_size"]))
        states = network(v1[batch], config["iterations"])
        loss = sum(
            w * _head_loss(network.head(it), targets[batch], n_cat)
            for w, (_, it) in zip(weights, states, strict=True)
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        return {"loss": float(loss.detach())} if unit % 100 == 1 else None

    train_loop(
        run,
        config["steps"],
        one_step,
        describe=lambda values: f"loss {values['loss']:.3f}",
        save_every=100,
        label="hidden network ",
    )
    run.finish()
    return {
        "state": network.state_dict(),
        "v1_mean": v1_mean,
        "v1_std": v1_std,
        "settings": network_settings(params),
        "accuracy": _held_out_accuracy(network, params, gabors, v1_mean, v1_std),
    }


def _training_set(params: dict, gabors: torch.Tensor):
    """The hidden network's own training images as standardised V1 energy, the standardisation
    constants, and the (category, object) targets."""
    n_cat, seed = int(params["n_categories"]), int(params["seed"])
    count = params["brain"]["train_images"]
    images, categories, design = task_images(params, seed, count, "brain-train")
    v1 = fixed_v1(images, int(params["brain_resolution"]), gabors)
    v1_mean, v1_std = v1.mean(dim=(0, 2, 3)), v1.std(dim=(0, 2, 3))
    targets = torch.from_numpy(np.stack([categories, n_cat + design["object_index"]], 1))
    return _standard(v1, v1_mean, v1_std), v1_mean, v1_std, targets


def _standard(v1: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """V1 channels standardised by the fixed constants of the hidden network's training images."""
    return (v1 - mean[None, :, None, None]) / std[None, :, None, None]


def _head_loss(logits: torch.Tensor, targets: torch.Tensor, n_cat: int) -> torch.Tensor:
    return F.cross_entropy(logits[:, :n_cat], targets[:, 0]) + F.cross_entropy(
        logits[:, n_cat:], targets[:, 1] - n_cat
    )


@torch.no_grad()
def _held_out_accuracy(network: HiddenVentralStream, params: dict, gabors, mean, std) -> dict:
    """Category accuracy of the hidden network's own head per iteration, clean vs hard images."""
    n_cat = int(params["n_categories"])
    images, categories, design = task_images(params, int(params["seed"]), 1000, "brain-test")
    v1 = _standard(fixed_v1(images, int(params["brain_resolution"]), gabors), mean, std)
    states = network(v1, params["brain"]["iterations"])
    correct = np.stack(
        [(network.head(it)[:, :n_cat].argmax(1).numpy() == categories) for _, it in states]
    )  # (iterations + 1, n)
    clean = design["image_kind"].to_numpy() == "clean"
    return {
        "clean": correct[:, clean].mean(1).tolist(),
        "hard": correct[:, ~clean].mean(1).tolist(),
    }


class GroundTruthBrain:
    """The hidden V1 -> V4 -> recurrent IT network and the neuroids that read it out.

    ``params`` is ``config["data"]["simulated"]["it"]``; ``checkpoint`` the result of
    :func:`train_hidden_network` for these params (trained here when omitted). Everything random
    in the readouts comes from ``seed``. Neuroids see only pixels: :meth:`drives` takes images.
    """

    def __init__(self, params: dict, seed: int, checkpoint: dict | None = None) -> None:
        self.params = params
        checkpoint = checkpoint or train_hidden_network(params)
        if checkpoint["settings"] != network_settings(params):
            raise ValueError("the hidden network was trained for other settings than these params")
        self.accuracy = checkpoint["accuracy"]
        self.iterations = int(params["brain"]["iterations"])
        self.resolution = int(params["brain_resolution"])
        self.n_v4, self.n_it = int(params["v4_neuroids"]), int(params["it_neuroids"])
        self.gabors = gabor_bank(self.resolution)
        width, it_units = int(params["brain"]["width"]), int(params["brain"]["it_units"])
        n_cat = int(params["n_categories"])
        n_objects = n_cat * int(params["objects_per_category"])
        self.network = HiddenVentralStream(
            self.gabors.shape[0] // 2, width, it_units, n_cat, n_objects
        )
        self.network.load_state_dict(checkpoint["state"])
        self.v1_mean, self.v1_std = checkpoint["v1_mean"], checkpoint["v1_std"]
        self.network.eval()
        rng = random_stream(seed, "brain")
        # V4 sites: 2-3 V4 maps each, pooled by a local Gaussian receptive field; like a Utah
        # array they sample one patch of cortex around a point near the fovea.
        res = self.resolution // 2
        grid = (torch.arange(res) + 0.5) / res * 2 - 1
        self.v4_weights = _sparse_conjunctions(rng, self.n_v4, width)
        array_center = rng.uniform(-0.1, 0.1, size=2)
        self.v4_center = array_center + rng.normal(0, V4_RF_SCATTER, size=(self.n_v4, 2))
        self.v4_rf = _gaussian_fields(grid, self.v4_center, rng.uniform(*V4_RF_SIGMA, self.n_v4))
        # IT sites: sparse random mixtures of the IT code.
        self.it_weights = rng.normal(size=(it_units, self.n_it)) * (
            rng.random((it_units, self.n_it)) < IT_READOUT_DENSITY
        )
        self.threshold_quantile = rng.uniform(*THRESHOLD_QUANTILE, self.n_v4 + self.n_it)
        self.it_center = np.zeros((self.n_it, 2))  # IT fields are wide and centred (for x, y)
        # Rates and timing per neuroid: V4 first, then IT.
        n = self.n_v4 + self.n_it
        self.baseline = rng.uniform(*params["baseline_hz"], size=n)
        self.gain = rng.uniform(*params["peak_hz"], size=n)
        self.fano = rng.uniform(*params["fano_factor"], size=n)
        self.latency = np.concatenate(
            [rng.uniform(*V4_LATENCY_MS, self.n_v4), rng.uniform(*IT_LATENCY_MS, self.n_it)]
        )
        self.region = np.array(["V4"] * self.n_v4 + ["IT"] * self.n_it)
        self._calibrate(seed)

    @torch.no_grad()
    def _states(self, images: np.ndarray):
        """Per chunk of images: the network's (V4, IT code) states and the sweep's uncertainty."""
        for start in range(0, len(images), _CHUNK_IMAGES):
            v1 = fixed_v1(images[start : start + _CHUNK_IMAGES], self.resolution, self.gabors)
            states = self.network(_standard(v1, self.v1_mean, self.v1_std), self.iterations)
            yield states, self.network.uncertainty(states[0][1]).numpy()

    def _readouts(self, images: np.ndarray) -> np.ndarray:
        """Linear readouts before rectification ``(n, iterations + 1, n_v4 + n_it)``.

        The IT code of iteration k enters scaled by ``1 - rank(u) (1 - (k / iterations)^2)``, where
        ``rank(u)`` is the share of the brain's calibration images whose feedforward sweep was
        more certain: an image the sweep resolves drives IT at once, one it leaves ambiguous
        builds up its IT response over the recurrent iterations (after about 150 ms).
        """
        out = []
        for states, uncertainty in self._states(images):
            rank = np.searchsorted(self.uncertainty_reference, uncertainty) / len(
                self.uncertainty_reference
            )
            per_iteration = []
            for k, (v4, it) in enumerate(states):
                pooled = torch.einsum("ncxy,uxy->nuc", v4, self.v4_rf)  # (n, n_v4, width)
                v4_sites = (pooled * self.v4_weights[None]).sum(-1).numpy()
                commitment = 1 - rank * (1 - (k / max(self.iterations, 1)) ** 2)
                it_sites = (it.numpy() * commitment[:, None]) @ self.it_weights
                per_iteration.append(np.concatenate([v4_sites, it_sites], 1))
            out.append(np.stack(per_iteration, 1))
        return np.concatenate(out)

    def _calibrate(self, seed: int) -> None:
        """Fix the uncertainty ranks, thresholds and scales on the brain's own images (never the
        stimuli): a site fires above its own quantile of its final-iteration readout, and its 98th
        percentile maps to 1.

        Responses are then a fixed function of the image: the same image always gives the same
        drive, whatever else is in the stimulus set or how it is chunked.
        """
        images, _, _ = task_images(self.params, seed, CALIBRATION_IMAGES, "calibration")
        self.uncertainty_reference = np.sort(np.concatenate([u for _, u in self._states(images)]))
        final = self._readouts(images)[:, -1]
        self.threshold = np.array(
            [np.quantile(final[:, i], q) for i, q in enumerate(self.threshold_quantile)]
        )
        rectified = np.maximum(final - self.threshold, 0)
        self.scale = np.maximum(np.percentile(rectified, 98, axis=0), 1e-9)

    def drives(self, images: np.ndarray) -> np.ndarray:
        """Noiseless drives ``(n_images, iterations + 1, n_neuroids)``, about 0..1, from pixels."""
        return np.maximum(self._readouts(images) - self.threshold, 0) / self.scale

    def rates(self, drives: np.ndarray, bin_starts_ms: np.ndarray) -> np.ndarray:
        """Noiseless rates (Hz) ``(n_images, n_neuroids, n_bins)`` in bins starting at the given ms.

        A neuroid's drive at time t is its stage's state at iteration ``(t - latency) /
        iteration_ms`` (linear between iterations, the last one held), times the response
        envelope of :func:`time_course`.
        """
        image_on = float(self.params["image_on_ms"])
        envelope = time_course(bin_starts_ms, self.latency, image_on)  # (n_neuroids, n_bins)
        weights = _iteration_weights(
            bin_starts_ms,
            self.latency,
            float(self.params["brain"]["iteration_ms"]),
            self.iterations,
        )  # (n_neuroids, n_bins, iterations + 1)
        driven = np.einsum("ikn,nbk->inb", drives, weights) * envelope[None]
        return self.baseline[None, :, None] + self.gain[None, :, None] * driven


def _iteration_weights(bin_starts_ms, latency_ms, iteration_ms: float, iterations: int):
    """Interpolation weights ``(n_neuroids, n_bins, iterations + 1)``: over each 10 ms bin, the
    mean of the hat functions of ``(t - latency) / iteration_ms`` (clipped to 0..iterations)."""
    t = np.asarray(bin_starts_ms, float)[None, :, None] + np.arange(0.5, IT_BIN_MS)[None, None, :]
    position = np.clip((t - np.asarray(latency_ms)[:, None, None]) / iteration_ms, 0, iterations)
    k = np.arange(iterations + 1)
    hats = np.maximum(1 - np.abs(position[..., None] - k), 0)  # (n, bins, ms, k)
    return hats.mean(axis=2)


def _sparse_conjunctions(rng: np.random.Generator, n_units: int, n_channels: int) -> torch.Tensor:
    """Weights ``(n_units, n_channels)``: 2-3 channels each, mostly excitatory."""
    weights = np.zeros((n_units, n_channels))
    for unit in range(n_units):
        chosen = rng.choice(n_channels, size=rng.integers(2, 4), replace=False)
        signs = np.where(rng.random(len(chosen)) < 0.8, 1.0, -0.5)
        weights[unit, chosen] = signs * rng.uniform(0.5, 1.0, len(chosen))
    return torch.from_numpy(weights).float()


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
