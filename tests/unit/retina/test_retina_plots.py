"""Each retina figure, drawn from small synthetic inputs, shows exactly those inputs' numbers.

The ``drawn`` fixture (tests/unit/conftest.py) keeps each Figure; the tests read its lines,
scatter points, bars, images and labels back and compare them with the Dataset they came from.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from insilico.core.io import save_torch
from insilico.retina import plots as retina
from insilico.retina.evaluate import transfer_loss


@pytest.fixture
def figures(drawn):
    return drawn(retina)


@pytest.mark.parametrize("simulated", [True, False])
def test_model_comparison(tmp_path, figures, simulated, artists):
    rng = np.random.default_rng(0)
    cells = [f"cell{i:02d}" for i in range(1, 7)]
    performance = xr.Dataset(
        {
            "correlation": (("model", "seed", "cell"), rng.uniform(0.2, 0.8, size=(2, 2, 6))),
            "ceiling": ("cell", rng.uniform(0.7, 0.9, size=6)),
        },
        coords={"model": ["cnn", "ln"], "seed": [0, 1], "cell": cells},
    )
    performance["correlation"][1, 1, 2] = np.nan  # a missing seed must not break the means
    if simulated:
        performance["true_ceiling"] = performance["ceiling"] + 0.02
    retina.model_comparison(performance, tmp_path / "comparison.png")
    fig = figures["comparison"]
    assert len(fig.axes) == (3 if simulated else 2)
    per_cell = performance["correlation"].mean("seed", skipna=True).values  # (model, cell)
    ceiling = performance["ceiling"].values
    left, middle = fig.axes[:2]
    for points, values in zip(artists.points(left), per_cell, strict=True):
        np.testing.assert_allclose(points[:, 1], values)
    assert np.isfinite(per_cell[1, 2])  # the seed with a nan is skipped, not propagated
    assert artists.ticks(left) == ["cnn", "ln"]
    legend = [text.get_text() for text in left.get_legend().get_texts()]
    assert f"ceiling (split-half), mean {ceiling.mean():.2f}" in legend
    for points, values in zip(artists.points(middle), per_cell, strict=True):
        np.testing.assert_allclose(points, np.column_stack([ceiling, values]))
    assert middle.get_xlabel().startswith("ceiling of the cell")
    if simulated:
        (points,) = artists.points(fig.axes[2])
        true = performance["true_ceiling"].values
        np.testing.assert_allclose(points, np.column_stack([true, ceiling]))


def test_example_predictions(tmp_path, figures):
    rng = np.random.default_rng(1)
    cells = ["cell01", "cell02", "cell03"]
    target = rng.gamma(2.0, 10.0, size=(3, 1500))

    def evaluation(history, gain):
        time = (np.arange(1500 - history + 1) + history - 1) * 0.01
        aligned = target[:, history - 1 :]
        prediction = gain * aligned + rng.normal(size=aligned.shape)
        return xr.Dataset(
            {
                "prediction": (("cell", "time"), prediction),
                "target": (("cell", "time"), aligned),
                "correlation": ("cell", rng.uniform(0.3, 0.9, size=3)),
            },
            coords={"cell": cells, "time": time},
        )

    evals = {"cnn": evaluation(20, 1.0), "ln": evaluation(10, 0.5)}
    retina.example_predictions(evals, tmp_path / "examples.png", n_cells=2, seconds=3)
    axes = figures["examples"].axes
    assert len(axes) == 2  # n_cells
    window = slice(0.19, 0.19 + 3 - 1e-9)  # from the first bin every model predicts, 3 s
    for ax, cell in zip(axes, cells[:2], strict=True):
        assert ax.get_title(loc="left") == cell
        recorded, *predicted = ax.get_lines()
        target = evals["cnn"]["target"].sel(cell=cell, time=window)
        assert len(target) == 300  # 3 s of 10 ms bins
        np.testing.assert_allclose(recorded.get_xdata(), target["time"])
        np.testing.assert_allclose(recorded.get_ydata(), target)
        for line, (name, evaluation) in zip(predicted, evals.items(), strict=True):
            np.testing.assert_allclose(
                line.get_ydata(), evaluation["prediction"].sel(cell=cell, time=window)
            )
            r = float(evaluation["correlation"].sel(cell=cell))
            assert line.get_label() == f"{name} (r = {r:.2f})"
    assert axes[-1].get_xlabel() == "time in test movie (s)"


def test_rank1_filters_recover_separable_filter():
    temporal = np.sin(np.linspace(0, 3, 6))
    spatial = -np.outer(np.hanning(5), np.hanning(5))  # peak negative: the sign moves to time
    weight = (temporal[:, None, None] * spatial[None])[None]
    maps, profiles, fraction = retina.rank1_filters(weight)
    assert fraction == pytest.approx([1.0])
    assert maps[0].max() == pytest.approx(np.abs(maps[0]).max())
    assert np.allclose(profiles[0][:, None, None] * maps[0][None], weight[0])


def _cnn_checkpoint():
    """A tiny real RetinaCNN's state dict when insilico.retina.models exists, else a stand-in conv1."""
    try:
        from insilico.retina.models import build_model
    except ImportError:
        return {"kind": "cnn", "state_dict": {"conv1.weight": torch.randn(5, 6, 7, 7)}}
    model = build_model("cnn", history=6, size=12, n_cells=2, channels=[5, 4], kernels=[7, 3])
    return {"kind": "cnn", "state_dict": model.state_dict()}


def test_cnn_filters(tmp_path, figures):
    torch.manual_seed(0)
    model_path = tmp_path / "cnn.pt"
    checkpoint = _cnn_checkpoint()
    save_torch(checkpoint, model_path)
    retina.cnn_filters(model_path, tmp_path / "filters.png")
    spatial, temporal, fraction = retina.rank1_filters(
        checkpoint["state_dict"]["conv1.weight"].numpy()
    )
    axes = figures["filters"].axes
    n = len(spatial)  # 5 filters: one row of maps above one row of profiles, then the colour bar
    assert len(axes) == 2 * n + 1
    for i in range(n):
        (image,) = axes[i].get_images()
        np.testing.assert_allclose(image.get_array(), spatial[i])
        assert f"rank-1: {fraction[i]:.0%} of var." in axes[i].get_title()
        profile = axes[n + i].get_lines()[0]
        np.testing.assert_allclose(profile.get_ydata(), temporal[i])
        np.testing.assert_allclose(profile.get_xdata(), np.arange(5, -1, -1) * 10)  # ms before

    save_torch({"kind": "ln", "state_dict": {}}, tmp_path / "ln.pt")
    with pytest.raises(ValueError, match="needs a CNN"):
        retina.cnn_filters(tmp_path / "ln.pt", tmp_path / "ln.png")


MODELS = ["ln", "glm", "cnn"]
CELLS = [f"cell{i:02d}" for i in range(1, 5)]


def _performance(rng, n_seeds):
    return xr.Dataset(
        {
            "correlation": (
                ("model", "seed", "cell"),
                rng.uniform(0.2, 0.8, size=(3, n_seeds, len(CELLS))),
            ),
            "ceiling": ("cell", rng.uniform(0.7, 0.9, size=len(CELLS))),
        },
        coords={"model": MODELS, "seed": list(range(n_seeds)), "cell": CELLS},
    )


def test_model_comparison_classes(tmp_path, figures, artists):
    rng = np.random.default_rng(2)
    performances = {"whitenoise": _performance(rng, 2), "naturalscene": _performance(rng, 1)}
    retina.model_comparison_classes(performances, tmp_path / "classes.png")
    axes = figures["classes"].axes
    assert [ax.get_title().split("\n")[0] for ax in axes] == ["white noise", "natural scenes"]
    for ax, performance in zip(axes, performances.values(), strict=True):
        per_cell = performance["correlation"].mean("seed").values
        means = per_cell.mean(axis=1)
        np.testing.assert_allclose(np.concatenate(artists.bars(ax)), means)
        for points, values in zip(artists.points(ax), per_cell, strict=True):
            np.testing.assert_allclose(points[:, 1], values)
        ceiling = performance["ceiling"].values
        # the fraction is the mean of per-cell ratios, not the ratio of the means
        fractions = (per_cell / ceiling).mean(axis=1)
        assert artists.ticks(ax) == [
            f"{m.upper()}\n{mean:.2f} ({fraction:.0%})"
            for m, mean, fraction in zip(MODELS, means, fractions, strict=True)
        ]


def test_data_efficiency_figure(tmp_path, figures, artists):
    rng = np.random.default_rng(3)
    shape = (2, 3, 2, len(CELLS))  # model x fraction x seed x cell
    dims = ("model", "fraction", "seed", "cell")
    dataset = xr.Dataset(
        {
            "test_correlation": (dims, rng.uniform(0.1, 0.7, size=shape)),
            "train_correlation": (dims, rng.uniform(0.4, 0.9, size=shape)),
            "val_correlation": (dims, rng.uniform(0.1, 0.5, size=shape)),
            "train_minutes": ("fraction", [0.5, 1.5, 5.0]),
        },
        coords={"model": ["ln", "cnn"], "fraction": [0.1, 0.3, 1.0], "seed": [0, 1], "cell": CELLS},
    )
    dataset["test_correlation"][0, 0, 1] = np.nan  # a missing run must not break the means
    retina.data_efficiency({"whitenoise": dataset, "naturalscene": dataset}, tmp_path / "eff.png")
    top, _, bottom, _ = figures["eff"].axes  # 2 x 2, row by row
    per_seed = dataset.mean("cell", skipna=True)
    shown = {
        top: per_seed["test_correlation"],
        bottom: per_seed["train_correlation"] - per_seed["val_correlation"],
    }
    for ax, values in shown.items():
        for line, model in zip(artists.errorbars(ax), ["ln", "cnn"], strict=True):
            np.testing.assert_allclose(line.get_xdata(), [0.5, 1.5, 5.0])  # minutes, not fractions
            np.testing.assert_allclose(line.get_ydata(), values.sel(model=model).mean("seed"))
    assert np.isfinite(artists.errorbars(top)[0].get_ydata()).all()  # the nan run is skipped
    assert bottom.get_xscale() == "log" and artists.ticks(bottom) == ["0.5", "1.5", "5"]
    assert [text.get_text() for text in top.get_legend().get_texts()] == ["LN", "CNN"]
    assert top.get_ylabel() == "test correlation (trial average)"


def test_generalization_figure(tmp_path, figures, artists):
    rng = np.random.default_rng(4)
    stimuli = ["whitenoise", "naturalscene"]
    dataset = xr.Dataset(
        {
            "correlation": (
                ("model", "train_stimulus", "test_stimulus", "seed", "cell"),
                rng.uniform(0.0, 0.8, size=(3, 2, 2, 2, len(CELLS))),
            ),
            "ceiling": (("test_stimulus", "cell"), rng.uniform(0.7, 0.9, size=(2, len(CELLS)))),
        },
        coords={
            "model": MODELS,
            "train_stimulus": stimuli,
            "test_stimulus": stimuli,
            "seed": [0, 1],
            "cell": CELLS,
        },
    )
    dataset["transfer_loss"] = transfer_loss(dataset["correlation"])
    retina.generalization(dataset, tmp_path / "generalization.png")
    *matrices, transfer, _colorbar = figures["generalization"].axes
    per_cell = dataset["correlation"].mean("seed")
    for ax, model in zip(matrices, MODELS, strict=True):
        assert ax.get_title() == model.upper()
        assert artists.ticks(ax) == artists.ticks(ax, "y") == ["white noise", "natural scenes"]
        (image,) = ax.get_images()
        expected = per_cell.sel(model=model).mean("cell").transpose("train_stimulus", ...)
        np.testing.assert_allclose(image.get_array(), expected)
    losses = dataset["transfer_loss"].mean("seed").mean("cell")
    bars = artists.bars(
        transfer
    )  # one group per off-diagonal (train, test) pair, one bar per model
    assert len(bars) == 2
    np.testing.assert_allclose(
        bars[0], losses.sel(train_stimulus="whitenoise", test_stimulus="naturalscene")
    )
    np.testing.assert_allclose(
        bars[1], losses.sel(train_stimulus="naturalscene", test_stimulus="whitenoise")
    )


def test_receptive_fields_figure(tmp_path, figures):
    rng = np.random.default_rng(5)
    sta = rng.normal(size=(len(CELLS), 6, 8, 8))
    dataset = xr.Dataset(
        {
            "data_sta": (("cell", "lag", "row", "col"), sta),
            "model_sta": (
                ("model", "train_stimulus", "cell", "lag", "row", "col"),
                sta[None, None] + rng.normal(size=(2, 2, *sta.shape)),
            ),
            "similarity": (("model", "train_stimulus", "cell"), rng.uniform(size=(2, 2, 4))),
        },
        coords={
            "model": ["ln", "cnn"],
            "train_stimulus": ["whitenoise", "naturalscene"],
            "cell": CELLS,
            "lag": np.arange(5, -1, -1) * 0.01,
        },
    )
    retina.receptive_fields(dataset, tmp_path / "rf.png", n_cells=3)
    axes = np.array(figures["rf"].axes).reshape(3, 6)  # data, 2 models x 2 classes, profiles
    for row, cell in zip(axes, CELLS[:3], strict=True):
        data = dataset["data_sta"].sel(cell=cell).values
        lag, y, x = np.unravel_index(np.abs(data).argmax(), data.shape)
        stas = [data] + [
            dataset["model_sta"].sel(model=m, train_stimulus=s, cell=cell).values
            for m in ("ln", "cnn")
            for s in ("whitenoise", "naturalscene")
        ]
        assert row[0].get_ylabel() == cell
        r = float(dataset["similarity"].sel(model="ln", train_stimulus="whitenoise", cell=cell))
        assert row[1].get_title() == f"LN (white noise)\nr = {r:.2f}"
        for ax, sta, line in zip(row[:-1], stas, row[-1].get_lines(), strict=False):
            np.testing.assert_allclose(ax.get_images()[0].get_array(), sta[lag])
            profile = sta[:, y, x]
            np.testing.assert_allclose(line.get_ydata(), profile / np.abs(profile).max())
            np.testing.assert_allclose(line.get_xdata(), dataset["lag"].values * 1000)
