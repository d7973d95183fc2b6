"""Probing trained networks: receptive fields and the bottleneck's responses to images.

For every channel of a stage (the bottleneck, the first ventral layer) the probed unit is the one
at the centre pixel of its map, and its response the stage's pre-activation (before the ReLU):

- gradient receptive field: d response / d image at the blank image (all pixels at the mean
  grey, 0 after standardisation), one backward pass for all channels of a stage at once (a batch
  of blank images, channel ``c`` differentiated in batch element ``c``);
- STA receptive field: the spike-triggered average of white-noise images (Gaussian pixels of
  standard deviation ``contrast``, standardised units; one field per contrast of config
  ``sta.contrasts``) weighted by the rectified response, with the retina branch's STA code
  (:func:`insilico.core.sta.spike_triggered_average`, a history of one frame). For a linear
  unit both are its weights. For a ReLU network the noise-weighted average of the gradient is
  what the STA measures (Stein's lemma), so at a faint contrast the two agree wherever the unit
  is differentiable at the blank image, and at full contrast their correlation per unit says how
  far from linear the unit is over the noise.

The bottleneck's rectified responses (what the ventral stream sees) to held-out images give
the linearity (the centre units) and linear separability (the whole output, pooled) measures of
:mod:`insilico.bottleneck.analysis`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from insilico.core.sta import spike_triggered_average

_BATCH = 500


def _device(model) -> torch.device:
    return next(model.parameters(), torch.empty(0)).device


def gradient_fields(model, stage: str, size: int) -> np.ndarray:
    """(channels, size, size): gradient of each centre unit's pre-activation at the blank image."""
    device = _device(model)
    n_channels = model.stage(torch.zeros(1, 1, size, size, device=device), stage).shape[1]
    blank = torch.zeros(n_channels, 1, size, size, device=device, requires_grad=True)
    response = model.stage(blank, stage)[:, :, size // 2, size // 2]
    response.diagonal().sum().backward()
    return blank.grad[:, 0].cpu().numpy()


@torch.no_grad()
def centre_responses(model, stage: str, images: torch.Tensor) -> torch.Tensor:
    """(N, channels) pre-activations of the centre units to standardised images (N, 1, H, W)."""
    centre = images.shape[-1] // 2
    return torch.cat([model.stage(x, stage)[:, :, centre, centre] for x in images.split(_BATCH)])


def white_noise(n_images: int, size: int, contrast: float, seed: int, device="cpu") -> torch.Tensor:
    """Gaussian white-noise images (N, 1, size, size), standardised units, from ``seed`` (drawn on
    the CPU, so every device probes with the same images)."""
    generator = torch.Generator().manual_seed(seed)
    return (contrast * torch.randn(n_images, 1, size, size, generator=generator)).to(device)


def sta_fields(model, stage: str, noise: torch.Tensor) -> np.ndarray:
    """(channels, size, size): STA of the noise images weighted by the rectified centre response."""
    response = F.relu(centre_responses(model, stage, noise))
    ends = torch.arange(len(noise), device=noise.device)
    return spike_triggered_average(lambda index: noise[index], response, ends)[:, 0].cpu().numpy()


@torch.no_grad()
def bottleneck_output(model, images: torch.Tensor, pool: int) -> np.ndarray:
    """Rectified bottleneck output (N, n_bn, H / pool, W / pool), average-pooled ``pool`` x ``pool``."""
    return (
        torch.cat(
            [F.avg_pool2d(F.relu(model.stage(x, "bottleneck")), pool) for x in images.split(_BATCH)]
        )
        .cpu()
        .numpy()
    )


def _padded(fields: np.ndarray, n_units: int) -> np.ndarray:
    """``fields`` (units, ...) padded with nan to ``n_units`` units."""
    out = np.full((n_units, *fields.shape[1:]), np.nan, dtype=np.float32)
    out[: len(fields)] = fields
    return out


def probe_model(path, images, settings: dict, device="cpu") -> dict[str, np.ndarray]:
    """Receptive fields, linearity and separability of one network (see the module docstring).

    ``images`` is the image set Dataset, ``settings`` config ``bottleneck.probe``. Fields are
    (stage, unit, row, col), STA fields (contrast, stage, unit, row, col), with the units of each
    stage padded with nan to the widest stage.
    """
    from insilico.bottleneck import analysis
    from insilico.bottleneck.model import STAGES, load_model
    from insilico.core.classification import standardise

    model, meta = load_model(path)
    model.to(device)
    size, n_units = meta["size"], max(meta["n_bn"], meta["architecture"]["vvs_channels"])
    sta, pool = settings["sta"], settings["separability"]["pool"]
    shape = (len(STAGES), n_units, size, size)
    gradient = np.full(shape, np.nan, np.float32)
    triggered = np.full((len(sta["contrasts"]), *shape), np.nan, np.float32)
    stages = STAGES[: 1 + (meta["d_vvs"] > 0)]
    for index, stage in enumerate(stages):
        gradient[index] = _padded(gradient_fields(model, stage, size), n_units)
    for level, contrast in enumerate(sta["contrasts"]):
        noise = white_noise(sta["n_images"], size, contrast, sta["seed"], device)
        for index, stage in enumerate(stages):
            triggered[level, index] = _padded(sta_fields(model, stage, noise), n_units)

    def standardised(name):
        return standardise(images[name].values, meta["image_mean"], meta["image_std"], device)

    test = standardised("test_images")
    responses = F.relu(centre_responses(model, "bottleneck", test)).cpu().numpy()
    linear = settings["linearity"]
    n_train = settings["separability"]["n_train"]
    train = standardised("train_images")[:n_train]
    return {
        "gradient_rf": gradient,
        "sta_rf": triggered,
        "linearity": _padded(
            analysis.linearity(
                test[:, 0].cpu().numpy(), responses, linear["fit"], linear["select"]
            ),
            n_units,
        ),
        "separability": np.float32(
            analysis.separability(
                bottleneck_output(model, train, pool),
                images["train_labels"].values[:n_train],
                bottleneck_output(model, test, pool),
                images["test_labels"].values,
                settings["separability"]["relative_ridge"],
            )
        ),
        "test_accuracy": np.float32(meta["test_accuracy"]),
    }


def probe_group(paths: dict, images, settings: dict, n_bn: int, device="cpu"):
    """:func:`probe_model` for every (d_vvs, seed) network of one bottleneck width, as a Dataset
    with dimensions (d_vvs, seed, [contrast,] stage, unit, row, col)."""
    import xarray as xr

    from insilico.bottleneck.model import STAGES

    d_values = sorted({d for d, _ in paths})
    seeds = sorted({s for _, s in paths})
    results = {key: probe_model(path, images, settings, device) for key, path in paths.items()}
    dims = {
        "gradient_rf": ("stage", "unit", "row", "col"),
        "sta_rf": ("contrast", "stage", "unit", "row", "col"),
        "linearity": ("unit",),
        "separability": (),
        "test_accuracy": (),
    }
    data = {
        name: (
            ("d_vvs", "seed", *dim),
            np.stack([np.stack([results[(d, s)][name] for s in seeds]) for d in d_values]),
        )
        for name, dim in dims.items()
    }
    return xr.Dataset(
        data,
        coords={
            "d_vvs": d_values,
            "seed": seeds,
            "stage": list(STAGES),
            "contrast": list(settings["sta"]["contrasts"]),
        },
        attrs={"n_bn": n_bn},
    )
