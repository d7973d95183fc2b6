from __future__ import annotations

import logging

import pytest
import torch

from insilico.core.io import read_netcdf
from insilico.dynamics.analysis import analyse_chunk
from insilico.dynamics.comparison import summary_table
from insilico.dynamics.population import NetworkSpec, chunks, population, stacks_of
from insilico.dynamics.tasks import make_task
from insilico.dynamics.train import load_chunk, train_chunk, train_stack

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LOG = logging.getLogger("test")
TRAIN = {"steps": 6, "batch_size": 8, "grad_clip": 1.0, "validation_trials": 16}
POPULATION = {
    "tasks": ["flipflop", "context"],
    "architectures": ["vanilla", "lstm"],
    "hidden_sizes": [4, 6],
    "learning_rates": [0.01],
    "l2": [0.0, 0.1],
    "seeds": [0, 1],
    "networks_per_job": 5,
}


def test_population_is_the_cartesian_product_cut_into_jobs_per_task():
    members = population(POPULATION)
    assert len(members) == 2 * 2 * 2 * 1 * 2 * 2 == len(set(members))
    jobs = chunks(POPULATION)
    assert [len(chunk) for chunk in jobs["flipflop"]] == [5, 5, 5, 1]
    assert all(spec.task == "context" for chunk in jobs["context"] for spec in chunk)
    assert [spec for chunk in jobs["flipflop"] for spec in chunk] == members[:16]
    groups = stacks_of(jobs["flipflop"][0])
    assert [(arch, hidden, len(indices)) for arch, hidden, indices in groups] == [
        ("vanilla", 4, 4),
        ("vanilla", 6, 1),
    ]


def _spec(arch="vanilla", lr=0.01, l2=0.0, seed=0):
    return NetworkSpec("flipflop", arch, 5, lr, l2, seed)


def test_a_network_trains_the_same_alone_or_stacked():
    task = make_task("flipflop", {"steps": 10})
    specs = [_spec(seed=0), _spec(lr=0.05, seed=1), _spec(l2=0.5, seed=0)]
    stacked, history = train_stack(task, "vanilla", 5, specs, TRAIN, torch.device("cpu"), LOG)
    for i, spec in enumerate(specs):
        alone, alone_history = train_stack(
            task, "vanilla", 5, [spec], TRAIN, torch.device("cpu"), LOG
        )
        for name, value in alone.params.items():
            assert torch.allclose(stacked.params[name][i], value[0], atol=1e-5), name
        assert history[i] == pytest.approx(alone_history[0], rel=1e-4)
    # Different hyperparameters, different networks; same seed, same start and same trials.
    assert not torch.allclose(stacked.params["W_h"][0], stacked.params["W_h"][2])


def test_training_is_deterministic_and_checkpoints_round_trip(tmp_path):
    specs = [_spec(arch="lstm", seed=0), _spec(arch="vanilla", seed=1)]
    for run in ("a", "b"):
        train_chunk(
            specs,
            {"steps": 10},
            TRAIN,
            tmp_path / f"{run}.pt",
            tmp_path / f"{run}.nc",
            torch.device("cpu"),
            LOG,
            checkpoint_path=tmp_path / f"{run}.ckpt",
        )
    first, meta = load_chunk(tmp_path / "a.pt")
    second, _ = load_chunk(tmp_path / "b.pt")
    assert [stack.arch for stack in first] == ["lstm", "vanilla"]
    assert meta["networks"] == specs
    for a, b in zip(first, second, strict=True):
        for name in a.params:
            assert torch.equal(a.params[name], b.params[name])
    history = read_netcdf(tmp_path / "a.nc")
    assert history["train_loss"].shape == (2, 6)
    assert list(history["arch"].values) == ["lstm", "vanilla"]
    assert (history["val_nmse"] > 0).all()


def test_a_job_killed_between_stacks_resumes_to_the_same_networks(tmp_path, monkeypatch):
    from insilico.dynamics import train

    specs = [_spec(arch="lstm", seed=0), _spec(arch="vanilla", seed=1), _spec(arch="gru", seed=2)]

    def job(name):
        train_chunk(
            specs,
            {"steps": 10},
            TRAIN,
            tmp_path / f"{name}.pt",
            tmp_path / f"{name}.nc",
            torch.device("cpu"),
            LOG,
            checkpoint_path=tmp_path / f"{name}.ckpt",
        )
        return (tmp_path / f"{name}.pt").read_bytes(), read_netcdf(tmp_path / f"{name}.nc")

    reference, reference_history = job("reference")
    real, calls = train.train_stack, []

    def killed_in_third_stack(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(train, "train_stack", killed_in_third_stack)
    with pytest.raises(KeyboardInterrupt):
        job("killed")
    assert (tmp_path / "killed.ckpt").exists() and not (tmp_path / "killed.pt").exists()
    calls.clear()
    monkeypatch.setattr(train, "train_stack", counted)
    resumed, resumed_history = job("killed")
    assert len(calls) == 1  # only the stack the kill interrupted is trained again
    first, _ = load_chunk(tmp_path / "reference.pt")
    second, _ = load_chunk(tmp_path / "killed.pt")
    for a, b in zip(first, second, strict=True):
        assert all(torch.equal(a.params[name], b.params[name]) for name in a.params)
    assert resumed_history.equals(reference_history)
    assert not (tmp_path / "killed.ckpt").exists()


def test_fixed_point_file_of_a_job(tmp_path):
    specs = [_spec(seed=0), _spec(arch="lstm", seed=0)]
    train_chunk(
        specs,
        {"steps": 10},
        TRAIN,
        tmp_path / "m.pt",
        tmp_path / "h.nc",
        torch.device("cpu"),
        LOG,
        checkpoint_path=tmp_path / "m.ckpt",
    )
    settings = {
        "probe_trials": 4,
        "initial_states": 8,
        "noise_std": 0.02,
        "seed": 0,
        "max_iters": 50,
        "newton_steps": 2,
        "tol_q": 1e-12,
        "keep_q": 1e-6,
        "store_jacobians": True,
    }
    points = analyse_chunk(
        tmp_path / "m.pt",
        settings,
        {"settle_steps": 20},
        tmp_path / "fp.nc",
        torch.device("cpu"),
        LOG,
    )
    assert read_netcdf(tmp_path / "fp.nc").sizes == points.sizes
    assert points.sizes["state"] == 10  # the LSTM's [h, c]
    vanilla = points["point_network"].values == 0
    assert vanilla.any()
    assert (
        points["xstar"].values[vanilla, 5:] != points["xstar"].values[vanilla, 5:]
    ).all()  # nan pad
    assert (points["q"] < 1e-6).all()
    assert int(points["n_fixed"].sum() + points["n_slow"].sum()) == points.sizes["point"]
    assert set(points["edge_kind"].values) <= {"relax", "pulse"}
    table = summary_table([points])
    assert list(table["network"]) == [spec.name for spec in specs]


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (
            {"task_params": {"sine": {"omega_min": 0.5, "omega_max": 0.2}}},
            "config key 'dynamics.task_params.sine.omega_min': expected a value below",
        ),
        (
            {"fixed_points": {"tol_q": 1e-3}},
            "config key 'dynamics.fixed_points.tol_q': expected a value below keep_q",
        ),
        (
            {"architectures": ["elman"]},
            "config key 'dynamics.architectures.0': expected one of",
        ),
    ],
)
def test_dynamics_config_mistakes_are_named(update, message):
    from pathlib import Path

    from insilico.branches import validate
    from insilico.core.config import ConfigError, load_schema, read_config_file

    repo = Path(__file__).parents[3]
    schema = load_schema(repo / "schemas" / "config.schema.yaml")
    with pytest.raises(ConfigError) as error:
        validate({"dynamics": update}, schema, read_config_file(repo / "config.yaml"))
    assert message in str(error.value)
