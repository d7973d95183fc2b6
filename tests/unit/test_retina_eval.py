"""evaluate / reliability / collect on a tiny fake recording and model (real modules where present)."""

from __future__ import annotations

import sys
import types

import numpy as np
import xarray as xr
import pytest

from insilico.analysis import retina_eval
from insilico.analysis.metrics import pearson
from insilico.io import write_netcdf

HISTORY = 5
CELLS = ("cell01", "cell02", "cell03")


def _fake_recording(simulated=True, seed=0, n_bins=400, n_repeats=5):
    rng = np.random.default_rng(seed)
    true_rate = 20 * np.exp(rng.normal(size=(len(CELLS), n_bins)) * 0.5)
    repeats = rng.poisson(true_rate[:, None, :] * 0.1, size=(len(CELLS), n_repeats, n_bins)) / 0.1
    return types.SimpleNamespace(
        test_stimulus=rng.integers(0, 256, size=(n_bins, 4, 4), dtype=np.uint8),
        test_repeats=repeats,
        test_rate=repeats.mean(axis=1),
        cell_names=CELLS,
        true_test_rate=true_rate if simulated else None,
    )


@pytest.fixture
def fakes(monkeypatch):
    """Replace read_recording, load_model and predict: the prediction is the noiseless rate."""
    recordings = {"sim.h5": _fake_recording(), "real.h5": _fake_recording(simulated=False)}
    h5 = types.ModuleType("insilico.data.retina_h5")
    h5.read_recording = lambda path, cells=None: recordings[str(path)]
    training = types.ModuleType("insilico.training")
    meta = {"kind": "cnn", "history": HISTORY, "cell_names": list(CELLS)}
    training.load_model = lambda path: (object(), dict(meta))
    training.predict = lambda model, meta, stimulus: (
        2 * recordings["sim.h5"].true_test_rate[:, meta["history"] - 1 :] + 1
    )
    monkeypatch.setitem(sys.modules, "insilico.data.retina_h5", h5)
    monkeypatch.setitem(sys.modules, "insilico.training", training)
    return recordings, meta


def test_evaluate_aligns_prediction_to_history(fakes):
    recordings, _ = fakes
    ds = retina_eval.evaluate("model.pt", "sim.h5", cells=None)
    recording = recordings["sim.h5"]
    n_time = recording.test_rate.shape[1] - HISTORY + 1
    assert ds["prediction"].dims == ("cell", "time")
    assert ds["target"].shape == (3, n_time)
    assert list(ds["cell"].values) == list(CELLS)
    assert ds["time"].values[0] == pytest.approx((HISTORY - 1) * 0.01)
    assert np.allclose(ds["target"], recording.test_rate[:, HISTORY - 1 :])
    expected = pearson(
        recording.true_test_rate[:, HISTORY - 1 :], recording.test_rate[:, HISTORY - 1 :]
    )
    assert np.allclose(ds["correlation"], expected)
    assert ds["fev"].dims == ("cell",)
    assert (ds["fev"] < ds["correlation"] ** 2).all()  # gain 2 + offset is penalised by FEV only
    assert ds.attrs["model_kind"] == "cnn" and ds.attrs["history"] == HISTORY


def test_evaluate_refuses_model_of_other_cells(fakes, monkeypatch):
    _, meta = fakes
    meta = {**meta, "cell_names": ["cell01", "cell02"]}
    monkeypatch.setattr(
        sys.modules["insilico.training"], "load_model", lambda path: (object(), meta)
    )
    with pytest.raises(ValueError, match="trained on cells"):
        retina_eval.evaluate("model.pt", "sim.h5", cells=None)


def test_reliability_has_true_ceiling_only_for_simulated(fakes):
    recordings, _ = fakes
    sim = retina_eval.reliability("sim.h5", None, n_splits=6, seed=0)
    assert sim["ceiling"].dims == ("cell",) and list(sim["cell"].values) == list(CELLS)
    recording = recordings["sim.h5"]
    assert np.allclose(sim["true_ceiling"], pearson(recording.true_test_rate, recording.test_rate))
    assert np.all((sim["ceiling"] > 0) & (sim["ceiling"] <= 1))
    assert sim.attrs["n_splits"] == 6 and "Spearman-Brown" in sim.attrs["estimator"]
    assert "true_ceiling" not in retina_eval.reliability("real.h5", None, n_splits=6, seed=0)


def test_collect_stacks_models_and_seeds(fakes, tmp_path):
    ceiling_path = tmp_path / "ceiling.nc"
    write_netcdf(retina_eval.reliability("sim.h5", None, n_splits=4, seed=0), ceiling_path)
    evaluation = retina_eval.evaluate("model.pt", "sim.h5", cells=None)
    paths = {}
    for model, seed, shift in [("cnn", 0, 0.0), ("cnn", 1, 0.1), ("ln", 0, 0.2)]:
        paths[(model, seed)] = tmp_path / f"{model}_{seed}.nc"
        write_netcdf(
            evaluation.assign(correlation=evaluation["correlation"] - shift), paths[(model, seed)]
        )
    ds = retina_eval.collect(paths, ceiling_path)
    assert ds["correlation"].dims == ("model", "seed", "cell")
    assert ds["fev"].shape == (2, 2, 3)
    assert list(ds["model"].values) == ["cnn", "ln"] and list(ds["seed"].values) == [0, 1]
    assert np.allclose(ds["correlation"].sel(model="ln", seed=0), evaluation["correlation"] - 0.2)
    assert np.isnan(ds["correlation"].sel(model="ln", seed=1)).all()  # never evaluated
    assert {"ceiling", "true_ceiling"} <= set(ds.data_vars)

    write_netcdf(evaluation.isel(cell=[0, 1]), paths[("ln", 0)])
    with pytest.raises(ValueError, match="differ from the ceiling"):
        retina_eval.collect(paths, ceiling_path)


def test_with_real_reader_and_trainer(tmp_path):
    """evaluate/reliability/collect on a tiny file from write_recording and a 1-epoch CNN."""
    import logging

    from insilico.data.retina_h5 import read_recording, write_recording
    from insilico.training import train_model

    rng = np.random.default_rng(0)
    n_cells, history = 2, 4
    true_rate = 10 + 5 * rng.random((n_cells, 120))
    write_recording(
        tmp_path / "rec.h5",
        train_stimulus=rng.integers(0, 256, size=(300, 8, 8), dtype=np.uint8),
        train_rate=10 + 5 * rng.random((n_cells, 300)),
        test_stimulus=rng.integers(0, 256, size=(120, 8, 8), dtype=np.uint8),
        test_repeats=true_rate[:, None] + rng.normal(size=(n_cells, 3, 120)),
        attrs={"source": "test"},
        groundtruth={"test_rate": true_rate},
    )
    train_model(
        read_recording(tmp_path / "rec.h5"),
        kind="cnn",
        model_params={"history": history, "channels": [2, 2], "kernels": [3, 3]},
        train_params={
            "epochs": 1,
            "batch_size": 64,
            "learning_rate": 1e-3,
            "weight_decay": 0.0,
            "patience": 1,
            "val_fraction": 0.2,
            "seed": 0,
            "lr_plateau_factor": 0.5,
        },
        model_out=tmp_path / "cnn.pt",
        history_out=tmp_path / "history.nc",
        checkpoint_path=tmp_path / "checkpoint.pt",
        log=logging.getLogger("test"),
    )
    evaluation = retina_eval.evaluate(tmp_path / "cnn.pt", tmp_path / "rec.h5", cells=None)
    assert evaluation["prediction"].shape == (n_cells, 120 - history + 1)
    assert list(evaluation["cell"].values) == ["cell01", "cell02"]
    with pytest.raises(ValueError, match="trained on cells"):
        retina_eval.evaluate(tmp_path / "cnn.pt", tmp_path / "rec.h5", cells=[2])

    ceiling = retina_eval.reliability(tmp_path / "rec.h5", None, n_splits=3, seed=0)
    analytic = np.sqrt((25 / 12) / (25 / 12 + 1 / 3))  # signal 5 * U(0, 1), noise var 1 / 3 repeats
    assert ceiling["true_ceiling"].values == pytest.approx([analytic] * 2, abs=0.05)
    assert np.abs(ceiling["ceiling"] - ceiling["true_ceiling"]).max() < 0.1
    write_netcdf(ceiling, tmp_path / "ceiling.nc")
    write_netcdf(evaluation, tmp_path / "eval.nc")
    performance = retina_eval.collect({("cnn", 0): tmp_path / "eval.nc"}, tmp_path / "ceiling.nc")
    assert performance["correlation"].shape == (1, 1, n_cells)


def test_summarize_averages_seeds_then_cells():
    from insilico.analysis.retina_eval import summarize

    correlation = np.array(
        [[[0.2, 0.4], [0.4, 0.6]], [[0.5, 0.7], [0.7, 0.9]]]
    )  # model x seed x cell
    performance = xr.Dataset(
        {
            "correlation": (("model", "seed", "cell"), correlation),
            "fev": (("model", "seed", "cell"), correlation**2),
            "ceiling": (("cell",), [0.8, 0.9]),
        },
        coords={"model": ["ln", "cnn"], "seed": [0, 1], "cell": ["cell01", "cell02"]},
    )
    table = summarize({("exp", "whitenoise"): performance})
    assert list(table["model"]) == ["ln", "cnn"]
    np.testing.assert_allclose(table["correlation"], [0.4, 0.7])
    np.testing.assert_allclose(table["sem"], [0.1, 0.1])  # per-cell means 0.3, 0.5 (ln)
    np.testing.assert_allclose(table["ceiling"], [0.85, 0.85])
    assert table["true_ceiling"].isna().all()
