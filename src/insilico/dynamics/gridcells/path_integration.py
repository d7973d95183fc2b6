"""Path-integrating recurrent networks (Sorscher et al. 2019), trained many at a time.

A vanilla RNN ``h_t = f(h_{t-1} W + v_t U)`` is driven by the velocity ``v_t`` and starts from a
linear encoding of the start position's place code, ``h_0 = p(x_0) E``; a linear decoder and a
softmax report the place code, trained with the cross-entropy against the true code ``p(x_t)``
plus ``weight_decay * |W|^2`` on the recurrent weights. ``f`` is ReLU (grids expected) or, as
controls, tanh or the identity.

Networks of one activation and size are *stacked*: parameters carry a leading network dimension
and run as one batched computation, each network with its own seed, place-cell code and weight
decay. The summed loss gives each network the gradient it would get alone, and Adam acts
elementwise, so a network's result does not depend on its stack-mates. Networks that share a seed
start from the same weights and see the same trajectories.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from insilico.core.checkpoint import RunState, fingerprint
from insilico.core.training import train_loop
from insilico.dynamics.gridcells import place_cells as pc
from insilico.dynamics.gridcells.analysis import rate_maps
from insilico.dynamics.gridcells.population import GridNetwork
from insilico.dynamics.gridcells.trajectories import Batch, Motion, sample

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "linear": lambda x: x}


def init_parameters(network: GridNetwork, n_place: int) -> dict[str, torch.Tensor]:
    """Gaussian weights scaled by fan-in, from the network's seed (the same for shared seeds)."""
    gen = torch.Generator().manual_seed(int(network.seed))
    h = network.hidden

    def normal(rows: int, cols: int) -> torch.Tensor:
        return torch.randn(rows, cols, generator=gen) / np.sqrt(rows)

    return {
        "encoder": normal(n_place, h) * n_place,
        "input": normal(2, h),
        "recurrent": normal(h, h),
        "decoder": normal(h, n_place),
    }


def run_network(params, activation: str, start_code, velocity) -> torch.Tensor:
    """Hidden states ``(N, B, T, H)`` from start codes ``(N, B, P)`` and velocities ``(N, B, T, 2)``."""
    f = ACTIVATIONS[activation]
    state = torch.bmm(start_code, params["encoder"])
    drive = torch.einsum("nbti,nih->nbth", velocity, params["input"])
    states = []
    for t in range(velocity.shape[2]):
        state = f(torch.bmm(state, params["recurrent"]) + drive[:, :, t])
        states.append(state)
    return torch.stack(states, dim=2)


def cross_entropy(params, states: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-network cross-entropy ``(N,)`` of the softmax readout against the place code."""
    logits = torch.einsum("nbth,nhp->nbtp", states, params["decoder"])
    return -(targets * torch.log_softmax(logits, dim=-1)).sum(-1).mean(dim=(1, 2))


@dataclass
class Episode:
    """Tensors for one batch of trajectories per network: inputs, targets, true positions."""

    start_code: torch.Tensor
    velocity: torch.Tensor
    targets: torch.Tensor
    position: np.ndarray  # (N, B, T, 2)

    def to(self, device) -> Episode:
        move = {k: getattr(self, k).to(device) for k in ("start_code", "velocity", "targets")}
        return Episode(**move, position=self.position)


def episode(networks: list[GridNetwork], n_place: int, box: float, paths: list[Batch]) -> Episode:
    """Network ``i`` runs along ``paths[i]`` and reports its own place-cell code."""
    starts, targets = [], []
    for net, path in zip(networks, paths, strict=True):
        cells = net.cells(n_place, box)
        centres = _centres(cells)
        starts.append(pc.code(cells, path.start, centres))
        targets.append(pc.code(cells, path.position, centres))

    def tensor(arrays: list[np.ndarray]) -> torch.Tensor:
        return torch.as_tensor(np.stack(arrays), dtype=torch.float32)

    return Episode(
        tensor(starts),
        tensor([p.velocity for p in paths]),
        tensor(targets),
        np.stack([p.position for p in paths]),
    )


_CENTRE_CACHE: dict[pc.PlaceCells, np.ndarray] = {}


def _centres(cells: pc.PlaceCells) -> np.ndarray:
    if cells not in _CENTRE_CACHE:
        _CENTRE_CACHE[cells] = cells.centres()
    return _CENTRE_CACHE[cells]


def train_stack(
    networks: list[GridNetwork],
    n_place: int,
    motion: Motion,
    train: dict,
    log: logging.Logger,
    checkpoint: Path,
    device: torch.device | str = "cpu",
) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """Train networks of one activation and size together on ``device`` through the shared loop
    (one Adam step per unit, checkpointed to ``checkpoint`` every tenth of the run); returns the
    parameters (on the CPU) and the loss ``(N, steps)``."""
    device = torch.device(device)
    params = torch.nn.ParameterDict(
        {
            key: torch.stack([init_parameters(net, n_place)[key] for net in networks]).to(device)
            for key in ("encoder", "input", "recurrent", "decoder")
        }
    )
    decay = torch.tensor([net.weight_decay for net in networks], device=device)
    optimiser = torch.optim.Adam(params.values(), lr=train["learning_rate"])
    rngs = {seed: np.random.default_rng([seed, 1]) for seed in sorted({n.seed for n in networks})}
    steps, every = train["steps"], max(1, train["steps"] // 10)
    run = RunState(
        checkpoint,
        fingerprint(
            networks=[net.as_dict() for net in networks],
            n_place=n_place,
            motion=asdict(motion),
            train=train,
        ),
        device,
        log,
        components={"params": params, "optimiser": optimiser},
        generators={f"paths{seed}": rng for seed, rng in rngs.items()},
    )
    run.parts["history"] = []

    def one_step(unit: int):
        paths = {seed: sample(train["batch_size"], motion, rng) for seed, rng in rngs.items()}
        batch = episode(networks, n_place, motion.box, [paths[n.seed] for n in networks]).to(device)
        states = run_network(params, networks[0].activation, batch.start_code, batch.velocity)
        loss = cross_entropy(params, states, batch.targets)
        penalty = decay * params["recurrent"].square().sum(dim=(1, 2))
        optimiser.zero_grad()
        (loss + penalty).sum().backward()
        optimiser.step()
        run.parts["history"].append(loss.detach().cpu().numpy().tolist())
        return {"loss": run.parts["history"][-1]} if unit % every == 0 else None

    train_loop(
        run,
        steps,
        one_step,
        describe=lambda values: (
            f"cross-entropy {np.array2string(np.array(values['loss']), precision=3)}"
        ),
        save_every=every,
        label=f"{networks[0].activation} h{networks[0].hidden}: ",
    )
    run.finish()
    history = np.array(run.parts["history"], dtype=float).T
    return {k: v.detach().cpu() for k, v in params.items()}, history


def evaluate(
    params: dict[str, torch.Tensor],
    networks: list[GridNetwork],
    n_place: int,
    motion: Motion,
    batch: int,
    seed: int,
    device: torch.device | str = "cpu",
) -> dict[str, np.ndarray]:
    """Activity on fresh trajectories (the same for every network, from ``seed``).

    Returns positions ``(B*T, 2)``, hidden activity ``(N, B*T, H)``, and per network the mean
    decoding error (m) of the top-3 place-cell readout and the error of a shuffled guess (chance).
    """
    path = sample(batch, motion, np.random.default_rng([seed, 2]))
    ep = episode(networks, n_place, motion.box, [path] * len(networks)).to(device)
    params = {k: v.to(device) for k, v in params.items()}
    with torch.no_grad():
        states = run_network(params, networks[0].activation, ep.start_code, ep.velocity)
        logits = torch.einsum("nbth,nhp->nbtp", states, params["decoder"])
    states, logits = states.cpu(), logits.cpu()
    position = ep.position[0].reshape(-1, 2)
    errors, chance = [], []
    shuffled = position[np.random.default_rng(seed).permutation(len(position))]
    for i, net in enumerate(networks):
        centres = _centres(net.cells(n_place, motion.box))
        decoded = pc.decode(logits[i].reshape(-1, n_place).numpy(), centres)
        errors.append(np.linalg.norm(decoded - position, axis=1).mean())
        chance.append(np.linalg.norm(shuffled - position, axis=1).mean())
    return {
        "position": position,
        "activity": states.reshape(len(networks), -1, states.shape[-1]).numpy(),
        "decoding_error": np.array(errors),
        "chance_error": np.array(chance),
    }


def motion_of(config: dict) -> Motion:
    """The motion model of the ``dynamics.grid_cells`` config section."""
    return Motion(box=config["box"], steps=config["sequence_length"])


def train_chunk(
    networks: list[GridNetwork], config: dict, log: logging.Logger, checkpoint: Path, device="cpu"
) -> tuple[dict, xr.Dataset]:
    """Train one job's networks (one stack, checkpointed to ``checkpoint``), then map every unit
    on fresh trajectories.

    Returns the checkpoint (parameters and specs) and a Dataset of rate maps
    ``(network, unit, x, y)``, training loss and decoding errors.
    """
    activations = {net.activation for net in networks}
    if len(activations) != 1 or len({net.hidden for net in networks}) != 1:
        raise ValueError("a grid-cell training job holds networks of one activation and size")
    motion, n_place, evaluation = motion_of(config), config["n_place"], config["evaluation"]
    params, history = train_stack(
        networks, n_place, motion, config["train"], log, checkpoint, device
    )
    result = evaluate(
        params, networks, n_place, motion, evaluation["trajectories"], evaluation["seed"], device
    )
    log.info("decoding error (m) %s, chance %s", result["decoding_error"], result["chance_error"])
    maps = rate_maps(result["position"], result["activity"], motion.box, evaluation["resolution"])
    centres = (np.arange(evaluation["resolution"]) + 0.5) / evaluation["resolution"] - 0.5
    dataset = xr.Dataset(
        {
            "rate_map": (("network", "unit", "x", "y"), maps.astype(np.float32)),
            "train_loss": (("network", "step"), history),
            "decoding_error": ("network", result["decoding_error"]),
            "chance_error": ("network", result["chance_error"]),
        },
        coords={
            **network_coords(networks),
            "unit": np.arange(networks[0].hidden),
            "x": centres * motion.box,
            "y": centres * motion.box,
            "step": np.arange(1, history.shape[1] + 1),
        },
        attrs={"box": motion.box, "n_place": n_place},
    )
    checkpoint = {"networks": [net.as_dict() for net in networks], "params": params}
    return checkpoint, dataset


def network_coords(networks: list[GridNetwork]) -> dict:
    """Coordinates naming each network and its hyperparameters along ``network``."""
    fields = ("activation", "hidden", "width", "surround", "weight_decay", "seed")
    coords = {"network": [net.name for net in networks]}
    coords.update({f: ("network", [getattr(net, f) for net in networks]) for f in fields})
    return coords
