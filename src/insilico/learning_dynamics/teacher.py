"""Lampinen & Ganguli (2019) against simulation: a student (one hidden layer, small random start,
full-batch gradient descent) learns a noisy low-rank linear teacher; training and test error over
time against the theory, the noisy singular values against random matrices, early-stopped test
error against width, and transfer between two teachers of controlled alignment.

Data: y = W x + sigma z, W = s * sum_r u_r v_r^T (s = snr * sigma), P examples whose inputs are
orthonormal directions scaled by sqrt(P) (Sigma11 = I when P >= N_in, else the projection on
their span). Errors are divided by |W|_F^2: test |W_net - W|^2, training above the least-squares
floor |Sigma31 - W_net Sigma11|^2.
"""

from __future__ import annotations

import itertools

import numpy as np
import xarray as xr

from insilico.learning_dynamics import simulate as sim
from insilico.learning_dynamics import theory as th


def _orthonormal(rng, rows: int, cols: int) -> np.ndarray:
    """A random rows x cols matrix with orthonormal columns (rows >= cols) or rows."""
    q = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))[0]
    return q if rows >= cols else q.T


def teacher_task(rng, n: int, rank: int, snr: float, examples: int, sigma: float):
    """(Sigma11, Sigma31, teacher) of one training set of ``examples`` noisy examples."""
    u, v = _orthonormal(rng, n, rank), _orthonormal(rng, n, rank)
    teacher = snr * sigma * u @ v.T
    x = np.sqrt(examples) * _orthonormal(rng, n, examples)
    y = teacher @ x + sigma * rng.standard_normal((n, examples))
    return x @ x.T / examples, y @ x.T / examples, teacher


def _errors(sigma11, sigma31, teacher, rows=slice(None)):
    """Recorder of the normalised test error of the output ``rows`` (a head) and the training
    error (see the module docstring)."""
    norm = (teacher**2).sum((-1, -2))
    head = teacher[..., rows, :]

    def record(weights):
        w = sim.product(weights)
        return {
            "test": ((w[..., rows, :] - head) ** 2).sum((-1, -2)) / (head**2).sum((-1, -2)),
            "train": ((sigma31 - w @ sigma11) ** 2).sum((-1, -2)) / norm,
        }

    return record


def _train(cfg, hidden, sigma11, sigma31, teacher, rng, rows=slice(None)):
    """Train a batch of students from small random weights whose mode starts are s0 on average."""
    steps, every, times = sim.clock(cfg["horizon"], cfg["lr"], cfg["points"])
    n_out, n_in = sigma31.shape[-2:]
    scale = np.sqrt(2 * cfg["s0"] / hidden)  # E|p0 + q0|^2 / 4 = hidden * scale^2 / 2
    weights = sim.random_init(rng, (n_in, hidden, n_out), len(sigma31), scale)
    run = sim.train_linear(
        weights, sigma31, cfg["lr"], steps, every, _errors(sigma11, sigma31, teacher, rows), sigma11
    )
    return run, times


def single_task_theory(cfg, rank, snr, examples, times):
    """Theory's (test, training) errors over time for one condition, divided by |W|^2."""
    n, sigma = cfg["n"], cfg["sigma"]
    span = min(examples, n)
    s = snr * sigma
    test, train = th.learning_curves(
        np.diag(np.full(rank, s * np.sqrt(span / n))),
        np.ones(rank, bool),
        1.0,
        n,
        span,
        sigma**2 / examples,
        cfg["s0"],
        times,
        unlearnable=rank * s**2 * (1 - span / n),
    )
    return test / (rank * s**2), train / (rank * s**2)


def curves(cfg: dict, seed: int) -> xr.Dataset:
    """Training and test error over time for every (rank, snr, examples) and seed, one batch."""
    rng = np.random.default_rng(seed)
    grid = list(itertools.product(cfg["ranks"], cfg["snrs"], cfg["examples"]))
    tasks = [
        teacher_task(rng, cfg["n"], r, snr, int(round(e * cfg["n"])), cfg["sigma"])
        for r, snr, e in grid
        for _ in range(cfg["seeds"])
    ]
    sigma11, sigma31, teacher = (np.stack(a) for a in zip(*tasks, strict=True))
    run, times = _train(cfg, cfg["hidden"], sigma11, sigma31, teacher, rng)
    shape = (len(cfg["ranks"]), len(cfg["snrs"]), len(cfg["examples"]), cfg["seeds"], len(times))
    theory = np.stack(
        [
            np.stack(single_task_theory(cfg, r, snr, int(round(e * cfg["n"])), times))
            for r, snr, e in grid
        ]
    ).reshape(*shape[:3], 2, len(times))
    dims = ("rank", "snr", "examples", "seed", "time")
    return xr.Dataset(
        {
            "test": (dims, run["test"].reshape(shape)),
            "train": (dims, run["train"].reshape(shape)),
            "theory_test": (dims[:3] + ("time",), theory[:, :, :, 0]),
            "theory_train": (dims[:3] + ("time",), theory[:, :, :, 1]),
        },
        coords={
            "rank": cfg["ranks"],
            "snr": cfg["snrs"],
            "examples": cfg["examples"],
            "time": times,
        },
    )


def spectra(cfg: dict, seed: int) -> xr.Dataset:
    """Top singular value of a rank-1 teacher plus noise (n x n, variance sigma^2 / n per entry)
    over s / sigma, against (sigma^2 + s^2) / s above threshold and 2 sigma below; and one pure
    noise spectrum against the Marchenko-Pastur density."""
    rng = np.random.default_rng(seed)
    n, sigma = cfg["n"], cfg["sigma"]
    snrs = np.asarray(cfg["snrs"], float)
    tops = np.empty((len(snrs), cfg["seeds"]))
    for (i, snr), b in itertools.product(enumerate(snrs), range(cfg["seeds"])):
        u, v = _orthonormal(rng, n, 1), _orthonormal(rng, n, 1)
        noisy = snr * sigma * u @ v.T + sigma / np.sqrt(n) * rng.standard_normal((n, n))
        tops[i, b] = np.linalg.svd(noisy, compute_uv=False)[0]
    bulk = np.linalg.svd(sigma / np.sqrt(n) * rng.standard_normal((n, n)), compute_uv=False)
    theory = th.noisy_spectrum(snrs * sigma, n, n, sigma**2 / n)[0]
    return xr.Dataset(
        {
            "top": (("snr", "seed"), tops),
            "theory_top": ("snr", theory),
            "bulk": ("mode", bulk),
        },
        coords={"snr": snrs},
        attrs={"n": n, "sigma": sigma},
    )


def widths(cfg: dict, seed: int) -> xr.Dataset:
    """Early-stopped (best over time) test error against hidden width, same tasks for every width,
    with the theory's (width-free) curve."""
    rng = np.random.default_rng(seed)
    n, examples = cfg["n"], int(round(cfg["width_examples"] * cfg["n"]))
    tasks = [
        teacher_task(rng, n, cfg["width_rank"], cfg["width_snr"], examples, cfg["sigma"])
        for _ in range(cfg["seeds"])
    ]
    sigma11, sigma31, teacher = (np.stack(a) for a in zip(*tasks, strict=True))
    tests = []
    for hidden in cfg["widths"]:
        run, times = _train(
            cfg, hidden, sigma11, sigma31, teacher, np.random.default_rng([seed, hidden])
        )
        tests.append(run["test"])
    theory, _ = single_task_theory(cfg, cfg["width_rank"], cfg["width_snr"], examples, times)
    return xr.Dataset(
        {"test": (("width", "seed", "time"), np.stack(tests)), "theory_test": ("time", theory)},
        coords={"width": cfg["widths"], "time": times},
    )


def transfer_pair(rng, n: int, snrs: tuple[float, float], alignment: float, sigma: float):
    """Source and target rank-1 teachers sharing the inputs, input vectors of overlap
    ``alignment``, output spaces apart: (Sigma31 of both stacked, target's Sigma31, teacher)."""
    v = _orthonormal(rng, n, 2)
    v_target = alignment * v[:, :1] + np.sqrt(1 - alignment**2) * v[:, 1:]
    u = _orthonormal(rng, n, 1), _orthonormal(rng, n, 1)
    source = snrs[0] * sigma * u[0] @ v[:, :1].T
    target = snrs[1] * sigma * u[1] @ v_target.T
    x = np.sqrt(n) * _orthonormal(rng, n, n)
    ys = [w @ x + sigma * rng.standard_normal((n, n)) for w in (source, target)]
    joint = np.concatenate(ys) @ x.T / n
    return joint, joint[n:], target


def transfer_theory(cfg: dict, alignment: float, times) -> tuple[np.ndarray, np.ndarray]:
    """Theory's target test error over time trained with the source (shared hidden layer, two
    heads) and alone, divided by |W_target|^2."""
    n, sigma = cfg["n"], cfg["sigma"]
    s_src, s_tgt = (snr * sigma for snr in cfg["transfer_snrs"])
    both = np.array([[s_src, 0.0], [s_tgt * alignment, s_tgt * np.sqrt(1 - alignment**2)]])
    noise = sigma**2 / n
    joint, _ = th.learning_curves(
        both, np.array([False, True]), 0.5, 2 * n, n, noise, cfg["s0"], times
    )
    alone, _ = th.learning_curves(
        np.array([[s_tgt]]), np.array([True]), 1.0, n, n, noise, cfg["s0"], times
    )
    return joint / s_tgt**2, alone / s_tgt**2


def transfer(cfg: dict, seed: int) -> xr.Dataset:
    """Target test error over time with and without the source task, over their alignment."""
    rng = np.random.default_rng(seed)
    n, alignments = cfg["n"], cfg["alignments"]
    pairs = [
        transfer_pair(rng, n, cfg["transfer_snrs"], q, cfg["sigma"])
        for q in alignments
        for _ in range(cfg["seeds"])
    ]
    joint, alone, target = (np.stack(a) for a in zip(*pairs, strict=True))
    eye = np.broadcast_to(np.eye(n), (len(pairs), n, n))
    padded = np.concatenate([np.zeros_like(target), target], axis=1)
    run_joint, times = _train(cfg, cfg["hidden"], eye, joint, padded, rng, slice(n, None))
    run_alone, _ = _train(cfg, cfg["hidden"], eye, alone, target, rng)
    shape = (len(alignments), cfg["seeds"], len(times))
    theory = np.stack([np.stack(transfer_theory(cfg, q, times)) for q in alignments])
    return xr.Dataset(
        {
            "joint": (("alignment", "seed", "time"), run_joint["test"].reshape(shape)),
            "alone": (("alignment", "seed", "time"), run_alone["test"].reshape(shape)),
            "theory_joint": (("alignment", "time"), theory[:, 0]),
            "theory_alone": (("alignment", "time"), theory[:, 1]),
        },
        coords={"alignment": alignments, "time": times},
    )
