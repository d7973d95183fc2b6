"""Trained mosaic encoders: the water-filling setting learned by gradient descent on movie patches.

Each cell type is one space-time filter (a full patch-sized kernel, applied as a circular
convolution, the periodic setting of :mod:`insilico.efficient_coding.waterfill`) whose output is
kept every ``stride`` pixels (its cells) and every frame. White input noise is added to the patch
before the filters and white output noise to the cells' responses; a linear decoder (one
transposed strided filter per type) reconstructs the clean patch. The firing budget is met
exactly at every step: the summed rate deviation (linear: cells x std) or the summed mean rate
(rectified) per pixel is a degree-one homogeneous function of the filters and thresholds, so the
encoder is rescaled onto it and gradient descent moves only along the budget surface. The
rectified version passes each type through a threshold-linear function with a learned threshold.

Many encoders (seeds, type counts, strides, budgets) train at once as one stacked bank: a type
is a filter and a mask of its cell positions, a model with fewer types has empty masks. Their
parameters do not interact, so each trains as it would alone. Loss: squared reconstruction error
relative to the patches' variance. torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from insilico.core.checkpoint import RunState, digest, fingerprint
from insilico.core.training import train_loop
from insilico.efficient_coding.waterfill import Noise, sweep

CPU = torch.device("cpu")


@dataclass(frozen=True)
class Model:
    strides: tuple[int, ...]  # one entry per cell type (types may share a stride)
    budget: float  # summed rate deviation (linear) or mean rate (rectified) per pixel
    data: int  # index of the patch set (movie seed) it learns from
    rectified: bool = False


@dataclass(frozen=True)
class Training:
    steps: int
    batch_size: int
    learning_rate: float


class MosaicBank(torch.nn.Module):
    """Encoders and linear decoders of several mosaic models on (pixels, frames) patches."""

    def __init__(self, models: list[Model], pixels: int, frames: int, generator: torch.Generator):
        super().__init__()
        types = max(len(m.strides) for m in models)
        shape = (len(models), types, pixels, frames)
        device = generator.device
        draw = lambda: torch.randn(shape, generator=generator, device=device) / pixels  # noqa: E731
        self.filters, self.decoders = torch.nn.Parameter(draw()), torch.nn.Parameter(draw())
        self.thresholds = torch.nn.Parameter(torch.zeros(len(models), types, 1, 1, device=device))
        cells = torch.zeros(len(models), types, pixels, 1, device=device)
        for i, model in enumerate(models):
            for j, stride in enumerate(model.strides):
                cells[i, j, ::stride] = 1.0
        self.register_buffer("cells", cells)
        budget = torch.tensor([m.budget for m in models], device=device)
        self.register_buffer("budget", budget[:, None, None, None])
        self.register_buffer(
            "rectified", torch.tensor([m.rectified for m in models], device=device)
        )

    def drives(self, noisy: torch.Tensor) -> torch.Tensor:
        """Every type's response at every pixel (models, batch, types, pixels, frames)."""
        spectrum = torch.fft.fft2(noisy)[:, :, None]
        drive = torch.fft.ifft2(spectrum * torch.fft.fft2(self.filters)[:, None]).real
        rectified = torch.relu(drive - self.thresholds[:, None])
        return torch.where(self.rectified[:, None, None, None, None], rectified, drive)

    def costs(self, drive: torch.Tensor) -> torch.Tensor:
        """Each model's firing per pixel: cells x std (linear) or cells x mean rate (rectified)."""
        cells = self.cells[:, None]
        n_cells = self.cells.sum(dim=(2, 3))  # (models, types)
        samples = drive.shape[1] * drive.shape[-1] * n_cells.clamp(min=1)
        mean = (drive * cells).sum(dim=(1, 3, 4)) / samples
        power = (drive.square() * cells).sum(dim=(1, 3, 4)) / samples
        std = power.clamp(min=1e-20).sqrt()  # an empty type (no cells) costs nothing
        per_type = torch.where(self.rectified[:, None], mean, std) * n_cells
        return per_type.sum(dim=1) / drive.shape[3]

    def forward(self, noisy: torch.Tensor, noise: Noise, generator=None) -> torch.Tensor:
        """Reconstructions (models, batch, pixels, frames) from budget-scaled noisy responses."""
        drive = self.drives(noisy)
        scale = (self.budget[:, 0, 0, 0] / self.costs(drive))[:, None, None, None, None]
        rates = scale * drive + noise.output**0.5 * torch.randn(
            drive.shape, generator=generator, device=drive.device
        )
        upsampled = torch.fft.fft2(rates * self.cells[:, None])
        return torch.fft.ifft2(upsampled * torch.fft.fft2(self.decoders)[:, None]).real.sum(dim=2)


def symmetrised(patches: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each patch (..., pixels, frames) circularly shifted and reflected at random in space and time.

    This makes the patch distribution exactly shift- and reflection-invariant on the torus: its
    covariance is diagonal in Fourier space with the symmetrised periodogram as its diagonal
    (:func:`insilico.efficient_coding.spectrum.patch_spectrum`), the spectrum water-filling
    optimises for. Without it the non-periodic patch edges correlate aliased frequencies, which a
    mosaic can exploit and the theory ignores.
    """
    flat = patches.reshape(-1, *patches.shape[-2:])
    batch, pixels, frames = flat.shape
    axes = []
    for size in (pixels, frames):
        shift = torch.randint(size, (batch, 1), generator=generator, device=flat.device)
        sign = 2 * torch.randint(2, (batch, 1), generator=generator, device=flat.device) - 1
        axes.append((sign * torch.arange(size, device=flat.device) + shift) % size)
    rows = torch.arange(batch, device=flat.device)[:, None, None]
    return flat[rows, axes[0][:, :, None], axes[1][:, None, :]].reshape(patches.shape)


def _batch(data: torch.Tensor, index: torch.Tensor, size: int, generator) -> torch.Tensor:
    """``size`` random patches per model from its own patch set: (models, size, pixels, frames)."""
    picks = torch.randint(
        data.shape[1], (len(index), size), generator=generator, device=data.device
    )
    return symmetrised(data[index[:, None], picks], generator)


def _noisy(patches: torch.Tensor, noise: Noise, generator: torch.Generator) -> torch.Tensor:
    return patches + noise.input**0.5 * torch.randn(
        patches.shape, generator=generator, device=patches.device
    )


def _on(device: torch.device, patches: np.ndarray, models, seed: int):
    """A seeded generator, the patches and each model's patch-set index, all on ``device``."""
    generator = torch.Generator(device=device).manual_seed(seed)
    data = torch.from_numpy(np.ascontiguousarray(patches, dtype=np.float32)).to(device)
    return generator, data, torch.tensor([m.data for m in models], device=device)


def train(
    models, patches, noise: Noise, training: Training, seed: int, log, checkpoint, device=CPU
):
    """Adam on random batches of each model's patches (sets, n, pixels, frames), cosine schedule,
    through the shared loop: one step per unit, the mean loss recorded (and the checkpoint at
    ``checkpoint`` written) every tenth of the run."""
    generator, data, index = _on(device, patches, models, seed)
    bank = MosaicBank(models, data.shape[2], data.shape[3], generator)
    optimiser = torch.optim.Adam(bank.parameters(), lr=training.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, training.steps)
    variance = data.square().mean(dim=(1, 2, 3))[index]
    every = max(1, training.steps // 10)
    run = RunState(
        checkpoint,
        fingerprint(
            models=[asdict(model) for model in models],
            noise=asdict(noise),
            training=asdict(training),
            seed=seed,
            data=digest(patches),
        ),
        device,
        log,
        components={"bank": bank, "optimiser": optimiser, "schedule": schedule},
        generators={"batches": generator},
        curves=("loss",),
    )

    def one_step(unit: int):
        batch = _batch(data, index, training.batch_size, generator)
        losses = (bank(_noisy(batch, noise, generator), noise, generator) - batch).square()
        losses = losses.mean(dim=(1, 2, 3)) / variance
        optimiser.zero_grad()
        losses.sum().backward()
        optimiser.step()
        schedule.step()
        return {"loss": losses.mean().item()} if unit % every == 0 else None

    train_loop(
        run,
        training.steps,
        one_step,
        describe=lambda values: f"mean loss {values['loss']:.4f} over {len(models)} models",
        save_every=every,
    )
    run.finish()
    return bank


def relative_errors(bank, models, patches, noise: Noise, seed: int, batches: int, device=CPU):
    """Each model's squared error over its patches' summed square, on fresh shifts and noise."""
    generator, data, index = _on(device, patches, models, seed)
    error = torch.zeros(len(models), dtype=torch.float64, device=device)
    total = torch.zeros(len(models), dtype=torch.float64, device=device)
    with torch.no_grad():
        for _ in range(batches):
            batch = _batch(data, index, 256, generator)
            decoded = bank(_noisy(batch, noise, generator), noise, generator)
            error += (decoded - batch).square().sum(dim=(1, 2, 3)).double()
            total += batch.square().sum(dim=(1, 2, 3)).double()
    return (error / total).cpu().numpy()


KINDS = ("one", "two", "rectified", "control")


def _models(spectra: dict, settings: dict, noise: Noise) -> dict:
    """The encoders of each (seed, budget): the best single mosaic and pair by theory, and the
    pair doubled (two filters per stride) rectified and, as the control, linear."""
    models = {}
    for data, (seed, power) in enumerate(spectra.items()):
        best = sweep(
            power,
            noise,
            settings["strides"],
            settings["train"]["budgets"],
            settings["budget_shares"],
        )
        for b, budget in enumerate(settings["train"]["budgets"]):
            pair = (int(best["coarse_stride"][b]), int(best["fine_stride"][b]))
            doubled = (pair[0], pair[0], pair[1], pair[1])
            models[seed, budget, "one"] = Model((int(best["one_stride"][b]),), budget, data)
            models[seed, budget, "two"] = Model(pair, budget, data)
            models[seed, budget, "rectified"] = Model(doubled, budget, data, rectified=True)
            models[seed, budget, "control"] = Model(doubled, budget, data)
            models[seed, budget, "theory"] = (best["one_error"][b], best["pair_error"][b])
    return models


def trained(patches: dict, spectra: dict, settings: dict, log, checkpoints, device=CPU):
    """Train every encoder of every seed and budget (two stacked banks, each checkpointing to
    ``checkpoints/<kinds>.pt`` as it trains); their errors and filters as a Dataset."""
    noise = Noise(settings["noise"]["input"], settings["noise"]["output"])
    training = Training(
        **{k: settings["train"][k] for k in ("steps", "batch_size", "learning_rate")}
    )
    models = _models(spectra, settings, noise)
    stacked = np.stack(list(patches.values()))
    seeds, budgets = list(spectra), settings["train"]["budgets"]
    shape = (len(seeds), len(budgets), len(KINDS))
    error, strides = np.full(shape, np.nan), np.full((*shape, 4), np.nan)
    filters = np.full((*shape, 4, *stacked.shape[2:]), np.nan, dtype=np.float32)
    for kinds in (("one", "two"), ("rectified", "control")):
        keys = [(s, b, k) for s in seeds for b in budgets for k in kinds]
        group = [models[key] for key in keys]
        checkpoint = Path(checkpoints) / f"{'_'.join(kinds)}.pt"
        bank = train(
            group, stacked, noise, training, settings["train"]["seed"], log, checkpoint, device
        )
        batches = settings["train"]["eval_batches"]
        errors = relative_errors(bank, group, stacked, noise, 1, batches, device)
        for i, (seed, budget, kind) in enumerate(keys):
            at = (seeds.index(seed), budgets.index(budget), KINDS.index(kind))
            types = len(models[seed, budget, kind].strides)
            error[at] = errors[i]
            strides[at][:types] = models[seed, budget, kind].strides
            filters[at][:types] = bank.filters[i, :types].detach().cpu().numpy()
    theory = np.array([[models[s, b, "theory"] for b in budgets] for s in seeds])
    return xr.Dataset(
        {
            "error": (("seed", "budget", "kind"), error),
            "theory_one": (("seed", "budget"), theory[..., 0]),
            "theory_pair": (("seed", "budget"), theory[..., 1]),
            "stride": (("seed", "budget", "kind", "type"), strides),
            "filter": (("seed", "budget", "kind", "type", "x", "t"), filters),
        },
        coords={"seed": seeds, "budget": budgets, "kind": list(KINDS), "type": np.arange(4)},
    )
