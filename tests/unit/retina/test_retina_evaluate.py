"""evaluate / reliability / collect on a tiny fake recording and model (real modules where present)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import xarray as xr

from insilico.core.io import write_netcdf
from insilico.core.stats import pearson
from insilico.retina import evaluate as retina_eval

pytestmark = pytest.mark.usefixtures("one_torch_thread")


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
    h5 = types.ModuleType("insilico.retina.recording")
    h5.read_recording = lambda path, cells=None, test_set="test": recordings[str(path)]
    training = types.ModuleType("insilico.retina.inference")
    meta = {"kind": "cnn", "history": HISTORY, "cell_names": list(CELLS)}
    training.load_model = lambda path: (object(), dict(meta))
    training.predict = lambda model, meta, stimulus, **closed_loop: (
        2 * recordings["sim.h5"].true_test_rate[:, meta["history"] - 1 :] + 1
    )
    monkeypatch.setitem(sys.modules, "insilico.retina.recording", h5)
    monkeypatch.setitem(sys.modules, "insilico.retina.inference", training)
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
    # the prediction is an affine map of the noiseless rate: r with the truth itself is 1
    np.testing.assert_allclose(ds["truth_correlation"], 1.0)
    assert "truth_correlation" not in retina_eval.evaluate("model.pt", "real.h5", cells=None)
    assert ds["fev"].dims == ("cell",)
    assert (ds["fev"] < ds["correlation"] ** 2).all()  # gain 2 + offset is penalised by FEV only
    assert ds.attrs["model_kind"] == "cnn" and ds.attrs["history"] == HISTORY


def test_evaluate_refuses_model_of_other_cells(fakes, monkeypatch):
    _, meta = fakes
    meta = {**meta, "cell_names": ["cell01", "cell02"]}
    monkeypatch.setattr(
        sys.modules["insilico.retina.inference"], "load_model", lambda path: (object(), meta)
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
    real = retina_eval.reliability("real.h5", None, n_splits=6, seed=0)
    assert "true_ceiling" not in real and "true_ceiling_same_bins" not in real


def test_same_bins_ceilings_use_only_the_bins_r_is_scored_on(fakes):
    recordings, _ = fakes
    recording = recordings["sim.h5"]
    first = HISTORY - 1
    ceiling = retina_eval.reliability("sim.h5", None, n_splits=6, seed=0, first_bin=first)
    expected = pearson(recording.true_test_rate[:, first:], recording.test_rate[:, first:])
    np.testing.assert_allclose(ceiling["true_ceiling_same_bins"], expected)
    assert not np.allclose(ceiling["true_ceiling_same_bins"], ceiling["true_ceiling"])
    # a perfect model (the noiseless rate) scores exactly the same-bins exact ceiling
    evaluation = retina_eval.evaluate("model.pt", "sim.h5", cells=None)
    np.testing.assert_allclose(evaluation["correlation"], ceiling["true_ceiling_same_bins"])
    assert ceiling.attrs["first_bin"] == first
    assert retina_eval.reference_ceiling(ceiling)[0] == "true_ceiling_same_bins"


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
    reordered = retina_eval.collect(
        {key: paths[key] for key in [("ln", 0), ("cnn", 0)]}, ceiling_path
    )
    assert list(reordered["model"].values) == ["ln", "cnn"]  # the order given (configured)
    assert np.allclose(ds["correlation"].sel(model="ln", seed=0), evaluation["correlation"] - 0.2)
    assert np.isnan(ds["correlation"].sel(model="ln", seed=1)).all()  # never evaluated
    assert {"ceiling", "true_ceiling"} <= set(ds.data_vars)

    write_netcdf(evaluation.isel(cell=[0, 1]), paths[("ln", 0)])
    with pytest.raises(ValueError, match="differ from the ceiling"):
        retina_eval.collect(paths, ceiling_path)


def test_with_real_reader_and_trainer(tmp_path):
    """evaluate/reliability/collect on a tiny file from write_recording and a 1-epoch CNN."""
    import logging

    from insilico.retina.recording import read_recording, write_recording
    from insilico.retina.train import train_model

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
    from insilico.retina.evaluate import summarize

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
    # one definition: the mean of the per-cell ratios (per-cell r 0.3, 0.5 over 0.8, 0.9 for ln)
    np.testing.assert_allclose(
        table["fraction_of_ceiling"], [(0.3 / 0.8 + 0.5 / 0.9) / 2, (0.6 / 0.8 + 0.8 / 0.9) / 2]
    )
    np.testing.assert_allclose(table["fev_limit"], (0.8**2 + 0.9**2) / 2)
    assert (table["ceiling_used"] == "ceiling").all()


# -- data efficiency, generalisation, receptive fields on real files and tiny trained models -------

PLANTED_HISTORY, PLANTED_SIZE = 3, 6
QUICK_TRAIN = {
    "epochs": 10,
    "batch_size": 128,
    "learning_rate": 0.05,
    "weight_decay": 0.0,
    "patience": 4,
    "val_fraction": 0.2,
    "seed": 0,
    "lr_plateau_factor": 0.0,
}


def _planted_rate(movie: np.ndarray) -> np.ndarray:
    """Two LN cells (ON at pixel (1, 1), OFF at (4, 3)) on contrast, rates in Hz."""
    contrast = (movie.astype(float) - 128) / 128
    temporal = np.array([0.3, 1.0, 0.5])  # oldest .. newest
    rates = []
    for sign, (row, col) in ((1, (1, 1)), (-1, (4, 3))):
        drive = np.convolve(contrast[:, row, col], temporal[::-1], mode="full")[: len(movie)]
        rates.append(20 * np.log1p(np.exp(3 * sign * drive)))
    return np.array(rates)


def _planted_file(path, stimulus_class: str, seed: int) -> None:
    """Same two cells, white noise (full contrast) or a low-contrast 'natural' movie."""
    rng = np.random.default_rng(seed)

    def movie(n):
        if stimulus_class == "whitenoise":
            return (rng.integers(0, 2, size=(n, PLANTED_SIZE, PLANTED_SIZE)) * 255).astype(np.uint8)
        return (
            rng.normal(128, 30, size=(n, PLANTED_SIZE, PLANTED_SIZE)).clip(0, 255).astype(np.uint8)
        )

    train, test = movie(3000), movie(300)
    counts = rng.poisson(_planted_rate(train) * 0.01)
    test_rate = _planted_rate(test)
    write_recording(
        path,
        train_stimulus=train,
        train_rate=counts / 0.01,
        train_counts=counts,
        test_stimulus=test,
        test_repeats=rng.poisson(np.repeat(test_rate[:, None] * 0.01, 4, axis=1)) / 0.01,
        attrs={"source": "test"},
        groundtruth={"test_rate": test_rate},
    )


@pytest.fixture(scope="module")
def planted_experiment(tmp_path_factory):
    """Two recordings of the same cells and LN models trained on each (one at half the data)."""
    import logging

    from insilico.retina.train import train_model

    folder = tmp_path_factory.mktemp("planted")
    recordings = {}
    models = {}
    for seed, stimulus in enumerate(["whitenoise", "naturalscene"]):
        recordings[stimulus] = folder / f"{stimulus}.h5"
        _planted_file(recordings[stimulus], stimulus, seed)
        for fraction in (0.5, 1.0):
            path = folder / f"ln_{stimulus}_{fraction}.pt"
            train_model(
                read_recording(recordings[stimulus]),
                kind="ln",
                model_params={"history": PLANTED_HISTORY},
                train_params={**QUICK_TRAIN, "train_fraction": fraction},
                model_out=path,
                history_out=folder / "history.nc",
                checkpoint_path=folder / "checkpoint.pt",
                log=logging.getLogger("test"),
            )
            models[(stimulus, fraction)] = path
    for stimulus, path in recordings.items():
        write_netcdf(
            retina_eval.reliability(path, None, n_splits=3, seed=0), folder / f"{stimulus}.nc"
        )
    return folder, recordings, models


def read_recording(path):
    from insilico.retina.recording import read_recording as read

    return read(path)


def write_recording(path, **arrays):
    from insilico.retina.recording import write_recording as write

    write(path, **arrays)


def test_data_efficiency_scores_each_run_on_its_own_split(planted_experiment):
    from insilico.retina.inference import load_model, predict
    from insilico.retina.windows import split_bins

    _, recordings, models = planted_experiment
    runs = {("ln", fraction, 0): models[("whitenoise", fraction)] for fraction in (1.0, 0.5)}
    ds = retina_eval.data_efficiency(runs, recordings["whitenoise"], None)
    assert ds["test_correlation"].dims == ("model", "fraction", "seed", "cell")
    assert list(ds["fraction"].values) == [0.5, 1.0]  # sorted, whatever the order given
    assert ds["train_minutes"].values == pytest.approx([1196 / 6000, 2396 / 6000], abs=1e-3)
    full = retina_eval.evaluate(models[("whitenoise", 1.0)], recordings["whitenoise"], None)
    assert np.allclose(
        ds["test_correlation"].sel(fraction=1.0, seed=0, model="ln"), full["correlation"]
    )
    # training correlation on exactly the windows of the half-data run
    recording = read_recording(recordings["whitenoise"])
    model, meta = load_model(models[("whitenoise", 0.5)])
    train_ends, val_ends = split_bins(3000, PLANTED_HISTORY, 0.2, 0.5)
    prediction = predict(model, meta, recording.train_stimulus)
    expected = pearson(prediction[:, train_ends - 2], recording.train_rate[:, train_ends])
    assert np.allclose(ds["train_correlation"].sel(fraction=0.5, model="ln", seed=0), expected)
    assert (ds["test_correlation"] > 0.3).all()  # the planted LN cells are learnt ...
    test = ds["test_correlation"].sel(model="ln", seed=0)
    assert (test.sel(fraction=1.0) > test.sel(fraction=0.5)).all()  # ... better with more data
    half = ds.sel(model="ln", seed=0, fraction=0.5)
    assert (half["train_correlation"] > half["val_correlation"]).all()  # overfitting shows
    with pytest.raises(ValueError, match="trained on fraction 0.5, listed as fraction 1.0"):
        retina_eval.data_efficiency(
            {("ln", 1.0, 0): models[("whitenoise", 0.5)]}, recordings["whitenoise"], None
        )


def test_generalization_is_a_train_by_test_matrix(planted_experiment):
    folder, recordings, models = planted_experiment
    runs = {("ln", stimulus, 0): models[(stimulus, 1.0)] for stimulus in recordings}
    ceilings = {stimulus: folder / f"{stimulus}.nc" for stimulus in recordings}
    ds = retina_eval.generalization(runs, recordings, ceilings, None)
    assert ds["correlation"].dims == ("model", "train_stimulus", "test_stimulus", "seed", "cell")
    assert list(ds["test_stimulus"].values) == ["whitenoise", "naturalscene"]
    assert ds["ceiling"].dims == ("test_stimulus", "cell")
    for stimulus in recordings:  # the diagonal is the within-class evaluation
        within = retina_eval.evaluate(models[(stimulus, 1.0)], recordings[stimulus], None)
        selected = ds["correlation"].sel(
            model="ln", train_stimulus=stimulus, test_stimulus=stimulus
        )
        assert np.allclose(selected.sel(seed=0), within["correlation"])
    assert (ds["correlation"] > 0.15).all()
    loss = ds["transfer_loss"].sel(model="ln", seed=0)
    for train, test in [("whitenoise", "naturalscene"), ("naturalscene", "whitenoise")]:
        within = ds["correlation"].sel(model="ln", seed=0, train_stimulus=test, test_stimulus=test)
        across = ds["correlation"].sel(model="ln", seed=0, train_stimulus=train, test_stimulus=test)
        assert np.allclose(loss.sel(train_stimulus=train, test_stimulus=test), within - across)
        assert (loss.sel(train_stimulus=test, test_stimulus=test) == 0).all()
    # ... and the scaling convention matters off the diagonal only
    by_model = retina_eval.generalization(runs, recordings, ceilings, None, standardise="model")
    off = dict(train_stimulus="naturalscene", test_stimulus="whitenoise")
    on = dict(train_stimulus="whitenoise", test_stimulus="whitenoise")
    assert np.allclose(by_model["correlation"].sel(on), ds["correlation"].sel(on))
    assert not np.allclose(by_model["fev"].sel(off), ds["fev"].sel(off))
    assert "its own recording" in ds.attrs["standardise"]


def test_transfer_loss_is_nan_without_a_model_trained_on_the_test_class():
    correlation = xr.DataArray(
        [[[0.5], [0.2]]],
        dims=("train_stimulus", "test_stimulus", "cell"),
        coords={"train_stimulus": ["whitenoise"], "test_stimulus": ["whitenoise", "naturalscene"]},
    )
    loss = retina_eval.transfer_loss(correlation)
    assert loss.dims == correlation.dims
    assert loss.sel(test_stimulus="whitenoise").item() == 0
    assert np.isnan(loss.sel(test_stimulus="naturalscene").item())


def test_receptive_fields_of_planted_cells(planted_experiment):
    _, recordings, models = planted_experiment
    runs = {("ln", stimulus): models[(stimulus, 1.0)] for stimulus in recordings}
    ds = retina_eval.receptive_fields(recordings["whitenoise"], runs, None)
    shape = (2, PLANTED_HISTORY, PLANTED_SIZE, PLANTED_SIZE)
    assert ds["data_sta"].shape == shape and ds["model_sta"].shape == (1, 2, *shape)
    assert ds["lag"].values == pytest.approx([0.02, 0.01, 0.0])
    data = ds["data_sta"].values
    assert np.unravel_index(np.abs(data[0]).argmax(), data[0].shape) == (1, 1, 1)  # ON centre
    assert data[0, 1, 1, 1] > 0 and data[1, 1, 4, 3] < 0  # OFF cell: negative
    assert (ds["similarity"].sel(train_stimulus="whitenoise") > 0.8).all()
    assert (ds["similarity"].sel(train_stimulus="naturalscene") > 0.4).all()
