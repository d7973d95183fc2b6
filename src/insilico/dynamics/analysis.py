"""Fixed points and transitions of every network of one training job, as one netCDF file.

For each stack of the job (networks of one architecture and size): run the networks on probe
trials of their task, draw ``initial_states`` states per network and input condition from those
trajectories (the same draws for every network), add Gaussian noise of ``noise_std``, search all of
them at once (:func:`insilico.dynamics.fixed_points.find_fixed_points`, float64), then run the
transition trajectories of :mod:`insilico.dynamics.topology` from the points found.

Layout of the file (one row per point of every network; ``state`` padded with nan where a
network's state is shorter than the longest in the file):

- ``point_network (point)``: index along ``network``; ``condition (point)``: index along
  ``condition`` of the constant input; ``xstar (point, state)``; ``q (point)``; ``fixed (point)``
  (q < ``tol_q``: a fixed point, else a slow point); ``eig_real/eig_imag (point, mode)`` by
  decreasing modulus; ``lead_vector (point, state)``; ``n_unstable``; ``stable`` (max |lambda| < 1);
  ``snapshot`` (a slow point captured where its search first got slow, tracing slow manifolds such
  as line attractors; see :func:`insilico.dynamics.fixed_points.find_fixed_points`);
  ``jacobian (point, state, state_in)`` when ``store_jacobians``;
- ``edge_network/edge_source/edge_target/edge_kind/edge_pulse (edge)``: transitions, sources and
  targets as indices along ``point`` (-1: the trajectory did not settle at a found point);
- per network: ``n_fixed``, ``n_stable_fixed``, ``n_slow``, ``val_loss``, ``val_nmse`` (validation
  loss over the target variance: 0 perfect, 1 no better than a constant) and its hyperparameters.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
import xarray as xr

from insilico.core.io import write_netcdf
from insilico.dynamics.fixed_points import FixedPointOptions, find_fixed_points
from insilico.dynamics.tasks import generator, make_task
from insilico.dynamics.topology import TransitionOptions, transitions
from insilico.dynamics.train import Stack, load_chunk, network_coords

DTYPE = torch.float64


def initial_states(
    stack: Stack, task, settings: dict, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Initial states ``(N, C*K, S)``, their constant inputs ``(N, C*K, I)`` and condition keys."""
    draws = generator(settings["seed"])
    probe = task.sample(settings["probe_trials"], draws)
    with torch.no_grad():
        trajectories = stack.run(probe.inputs.to(device, DTYPE))
    n, batch, steps, size = trajectories.shape
    flat = trajectories.reshape(n, batch * steps, size)
    conditions = task.conditions().to(device, DTYPE)
    k = settings["initial_states"]
    picks = torch.randint(batch * steps, (conditions.shape[0] * k,), generator=draws)
    noise = torch.randn(n, len(picks), size, generator=draws, dtype=DTYPE)
    states = flat[:, picks.to(device)] + settings["noise_std"] * noise.to(device)
    keys = torch.arange(conditions.shape[0], device=device).repeat_interleave(k)
    inputs = conditions[keys].expand(n, -1, -1)
    return states, inputs, keys.expand(n, -1)


def analyse_chunk(
    model_path,
    fixed_point_settings: dict,
    topology_settings: dict,
    out_path,
    device: torch.device,
    log: logging.Logger,
) -> xr.Dataset:
    """Fixed points and transitions of every network of a training job; written to ``out_path``."""
    stacks, meta = load_chunk(model_path)
    task = make_task(meta["task"], meta["task_params"])
    options = FixedPointOptions.from_config(fixed_point_settings)
    transition_options = TransitionOptions.from_config(topology_settings)
    store_jacobians = fixed_point_settings.get("store_jacobians", True)
    networks = meta["networks"]
    width = max(stack.state_size for stack in stacks)
    rows: dict[str, list] = {name: [] for name in _POINT_VARIABLES}
    edges: dict[str, list] = {name: [] for name in _EDGE_VARIABLES}
    offset = 0
    for stack in stacks:
        started = time.perf_counter()
        stack = stack.to(device, DTYPE)
        members = [networks.index(spec) for spec in stack.networks]
        states, inputs, keys = initial_states(stack, task, fixed_point_settings, device)
        points = find_fixed_points(stack.step, states, inputs, options, keys)
        moves = transitions(
            stack.step,
            points,
            task.conditions().to(device, DTYPE),
            task.pulses().to(device, DTYPE),
            task.pulse_steps,
            len(stack.networks),
            transition_options,
        )
        log.info(
            "%s %s h%d: %d networks, %d initial states each, %d points (%d fixed), %d edges, %.1f s",
            task.name,
            stack.arch,
            stack.hidden,
            len(stack.networks),
            states.shape[1],
            len(points),
            int((points.q < options.tol_q).sum()),
            len(moves.source),
            time.perf_counter() - started,
        )
        _append_points(rows, points, members, width, store_jacobians)
        edges["edge_network"].extend(np.asarray(members)[points.group.cpu().numpy()[moves.source]])
        edges["edge_source"].extend(moves.source + offset)
        edges["edge_target"].extend(np.where(moves.target >= 0, moves.target + offset, -1))
        edges["edge_kind"].extend(moves.kind)
        edges["edge_pulse"].extend(moves.pulse)
        offset += len(points)
    dataset = _dataset(rows, edges, networks, meta, task, width, options, store_jacobians)
    write_netcdf(dataset, out_path)
    return dataset


_POINT_VARIABLES = (
    "point_network",
    "condition",
    "xstar",
    "q",
    "n_iters",
    "eig_real",
    "eig_imag",
    "lead_vector",
    "n_unstable",
    "stable",
    "snapshot",
    "jacobian",
)
_EDGE_VARIABLES = ("edge_network", "edge_source", "edge_target", "edge_kind", "edge_pulse")


def _pad(values: np.ndarray, width: int, axes: tuple[int, ...]) -> np.ndarray:
    padding = [(0, 0)] * values.ndim
    for axis in axes:
        padding[axis] = (0, width - values.shape[axis])
    return np.pad(values, padding, constant_values=np.nan)


def _append_points(rows, points, members, width, store_jacobians: bool) -> None:
    eigenvalues = points.eigenvalues.cpu().numpy()
    rows["point_network"].extend(np.asarray(members)[points.group.cpu().numpy()])
    rows["condition"].extend(points.key.cpu().numpy())
    rows["xstar"].extend(_pad(points.states.cpu().numpy(), width, (1,)))
    rows["q"].extend(points.q.cpu().numpy())
    rows["n_iters"].extend(points.n_iters.cpu().numpy())
    rows["eig_real"].extend(_pad(eigenvalues.real, width, (1,)))
    rows["eig_imag"].extend(_pad(eigenvalues.imag, width, (1,)))
    rows["lead_vector"].extend(_pad(points.lead_vectors.cpu().numpy(), width, (1,)))
    rows["n_unstable"].extend(points.n_unstable.cpu().numpy())
    rows["stable"].extend(points.stable.cpu().numpy())
    rows["snapshot"].extend(points.snapshot.cpu().numpy())
    if store_jacobians:
        rows["jacobian"].extend(_pad(points.jacobians.cpu().numpy(), width, (1, 2)))


def _dataset(rows, edges, networks, meta, task, width, options, store_jacobians) -> xr.Dataset:
    n_points = len(rows["q"])

    def array(name, shape, dtype=float):
        return np.asarray(rows[name], dtype=dtype).reshape(shape) if n_points else np.zeros(shape)

    q = array("q", (n_points,))
    point_network = array("point_network", (n_points,), np.int64)
    stable = array("stable", (n_points,), bool)
    fixed = q < options.tol_q
    counts = {
        "n_fixed": np.bincount(point_network[fixed], minlength=len(networks)),
        "n_stable_fixed": np.bincount(point_network[fixed & stable], minlength=len(networks)),
        "n_slow": np.bincount(point_network[~fixed], minlength=len(networks)),
    }
    data = {
        "point_network": ("point", point_network),
        "condition": ("point", array("condition", (n_points,), np.int64)),
        "xstar": (("point", "state"), array("xstar", (n_points, width))),
        "q": ("point", q),
        "fixed": ("point", fixed),
        "n_iters": ("point", array("n_iters", (n_points,), np.int64)),
        "eig_real": (("point", "mode"), array("eig_real", (n_points, width))),
        "eig_imag": (("point", "mode"), array("eig_imag", (n_points, width))),
        "lead_vector": (("point", "state"), array("lead_vector", (n_points, width))),
        "n_unstable": ("point", array("n_unstable", (n_points,), np.int64)),
        "stable": ("point", stable),
        "snapshot": ("point", array("snapshot", (n_points,), bool)),
        "edge_network": ("edge", np.asarray(edges["edge_network"], dtype=np.int64)),
        "edge_source": ("edge", np.asarray(edges["edge_source"], dtype=np.int64)),
        "edge_target": ("edge", np.asarray(edges["edge_target"], dtype=np.int64)),
        "edge_kind": ("edge", np.asarray(edges["edge_kind"], dtype=str)),
        "edge_pulse": ("edge", np.asarray(edges["edge_pulse"], dtype=np.int64)),
        "condition_input": (("condition", "input"), task.conditions().numpy()),
        "pulse_input": (("pulse", "input"), task.pulses().numpy().reshape(-1, task.n_inputs)),
        "val_loss": ("network", np.asarray(meta["val_loss"])),
        "val_nmse": ("network", np.asarray(meta["val_loss"]) / meta["target_variance"]),
        **{name: ("network", value) for name, value in counts.items()},
    }
    if store_jacobians:
        data["jacobian"] = (
            ("point", "state", "state_in"),
            array("jacobian", (n_points, width, width)),
        )
    dataset = xr.Dataset(data, coords=network_coords(networks))
    dataset.attrs.update(
        task=task.name,
        tol_q=options.tol_q,
        keep_q=options.keep_q,
        slow_q=options.slow_q,
        pulse_steps=task.pulse_steps,
    )
    return dataset
