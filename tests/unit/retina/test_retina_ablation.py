"""The retina ablation: variants and their settings, the table and the figure."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from matplotlib.container import BarContainer

from insilico.retina import ablation, plots
from insilico.retina.models.cnn import RetinaCNN
from insilico.retina.train import OPTIONAL_TRAIN_PARAMS, TRAIN_PARAM_KEYS
from insilico.retina.windows import split_bins

MODEL = {
    "channels": [8, 8],
    "kernels": [9, 5],
    "noise_std": 0.1,
    "batchnorm": True,
    "l2": 0.001,
    "l1_activity": 0.0001,
}
TRAIN = {"epochs": 5, "learning_rate": 0.002, "val_fraction": 0.1, "train_fraction": 1.0}


def test_factors_are_the_cnn_hyperparameters_and_training_settings():
    assert set(ablation.MODEL_FACTORS) == set(RetinaCNN.DEFAULT_HPARAMS)
    assert set(ablation.TRAIN_FACTORS) <= TRAIN_PARAM_KEYS | set(OPTIONAL_TRAIN_PARAMS)


def test_variants_are_labelled_by_factor_and_value_baseline_first():
    labels = ablation.variants(
        {"data": [0.5, 2], "channels": [[16, 16]], "noise_std": [0.0], "batchnorm": [False]}
    )
    assert list(labels) == [
        "baseline",
        "data-0.5x",
        "data-2x",
        "channels-16-16",
        "noise_std-0",
        "batchnorm-false",
    ]
    assert labels["channels-16-16"] == ("channels", [16, 16])
    assert labels["baseline"] == (None, None)


@pytest.mark.parametrize(
    ("factors", "message"),
    [({"momentum": [0.9]}, "unknown ablation factor"), ({"l2": [0.01, 0.010]}, "twice")],
)
def test_bad_factors(factors, message):
    with pytest.raises(ValueError, match=message):
        ablation.variants(factors)


def settings(variant, multiple=1.0):
    return ablation.variant_settings(
        variant, history=20, model_params=MODEL, train_params=TRAIN, multiple=multiple
    )


def test_a_variant_changes_exactly_its_factor():
    base = settings((None, None))
    assert base == {"history": 20, "model": MODEL, "train": TRAIN}
    for variant, place, key in [
        (("history", 40), None, "history"),
        (("kernels", [13, 5]), "model", "kernels"),
        (("loss", "mse"), "train", "loss"),
        (("lr_plateau_factor", 0.0), "train", "lr_plateau_factor"),
    ]:
        changed = settings(variant)
        got = changed[key] if place is None else changed[place][key]
        assert got == variant[1]
        rest = {k: v for k, v in changed.items() if k != key}
        if place is not None:
            rest[place] = {k: v for k, v in changed[place].items() if k != key}
        expected = {k: v for k, v in base.items() if k != key}
        if place is not None:
            expected[place] = {k: v for k, v in base[place].items() if k != key}
        assert rest == expected, variant


def test_data_multiples_take_the_default_amount_from_a_longer_recording():
    """On a recording 4x as long, the baseline sees the default's training and validation windows
    (as many), data-2x twice the training windows and the same validation block length."""
    n_default, history = 1000, 20
    default_train, default_val = split_bins(n_default, history, 0.1, 1.0)
    for data, multiple in [(1.0, 4.0), (2.0, 4.0), (4.0, 4.0), (0.5, 1.0)]:
        train = settings(("data", data), multiple)["train"]
        ends, val = split_bins(
            int(n_default * multiple), history, train["val_fraction"], train["train_fraction"]
        )
        assert len(val) == len(default_val)
        assert len(ends) + history - 1 == pytest.approx(data * (len(default_train) + history - 1))
    with pytest.raises(ValueError, match="must be in"):
        settings(("data", 8.0), 4.0)


def test_recording_multiple():
    assert ablation.recording_multiple({"history": [40]}) == 1.0
    assert ablation.recording_multiple({"data": [0.5, 4]}) == 4.0


def result(offsets, n_cells=4, seed=0, val_offsets=None, loss_offsets=None, factors=None):
    """An ablation Dataset whose variant v has per-cell fraction 0.5 + offsets[v] + noise, best
    validation r 0.4 + val_offsets[v] (default: the test offsets) and, at that (last) epoch,
    validation loss 1 + loss_offsets[v] (0.5 at the first epoch, which was not kept)."""
    val_offsets = offsets if val_offsets is None else val_offsets
    loss_offsets = [0.0] * len(offsets) if loss_offsets is None else loss_offsets
    rng = np.random.default_rng(seed)
    labels = ablation.variants(factors or {"history": [40], "l2": [0.01]})
    ceiling = xr.Dataset(
        {
            "true_ceiling": ("cell", np.full(n_cells, 0.8)),
            "ceiling": ("cell", np.full(n_cells, 0.7)),
        },
        coords={"cell": [f"cell{i:02d}" for i in range(n_cells)]},
    )
    evaluations, curves = {}, {}
    for offset, val_offset, loss_offset, label in zip(
        offsets, val_offsets, loss_offsets, labels, strict=True
    ):
        fraction = 0.5 + offset + 0.01 * rng.standard_normal(n_cells)
        evaluations[label] = xr.Dataset(
            {"correlation": ("cell", 0.8 * fraction), "fev": ("cell", fraction**2)}
        )
        curves[label] = xr.Dataset(
            {
                "seconds": ("epoch", [1.0, 2.0]),
                "val_corr": ("epoch", [0.1, 0.4 + val_offset]),
                "val_loss": ("epoch", [0.5, 1.0 + loss_offset]),
            },
            coords={"epoch": [1, 2]},
            attrs={"best_epoch": 2},
        )
    return ablation.collect(evaluations, curves, ceiling, labels)


def test_collect_divides_by_the_exact_ceiling():
    data = result([0.0, 0.2, -0.1])
    assert data.attrs["ceiling"] == "true_ceiling"
    np.testing.assert_allclose(data["fraction_of_ceiling"], data["correlation"] / 0.8)
    assert list(data["factor"].values) == ["", "history", "l2"]
    assert list(data["value"].values) == ["", "40", "0.01"]
    assert (data["train_seconds"] == 3.0).all() and (data["epochs_run"] == 2).all()


def test_table_gives_means_sems_and_the_change_against_the_baseline():
    data = result([0.0, 0.2, -0.1])
    table = ablation.table({("sim01", "whitenoise"): data}).set_index("variant")
    fraction = data["fraction_of_ceiling"]
    for variant in data["variant"].values:
        values = fraction.sel(variant=variant).values
        row = table.loc[variant]
        assert row["fraction_of_ceiling"] == pytest.approx(values.mean())
        assert row["fraction_of_ceiling_sem"] == pytest.approx(values.std(ddof=1) / 2)
        diff = values - fraction.sel(variant="baseline").values
        assert row["delta_fraction"] == pytest.approx(diff.mean())
    assert table.loc["history-40", "delta_fraction"] == pytest.approx(0.2, abs=0.02)
    assert table.loc["l2-0.01", "delta_fraction"] == pytest.approx(-0.1, abs=0.02)
    assert table.loc["baseline", "delta_fraction"] == 0


def test_the_ranking_is_decided_on_the_validation_block_not_the_test_movie():
    # On test, l2 looks best; on validation, history is best: the rank follows validation.
    data = result([0.0, 0.1, 0.3], val_offsets=[0.0, 0.05, -0.02])
    table = ablation.table({("sim01", "whitenoise"): data}).set_index("variant")
    assert table["rank"].to_dict() == {"history-40": 1, "baseline": 2, "l2-0.01": 3}
    assert table.loc["history-40", "delta_val"] == pytest.approx(0.05)
    assert table.loc["l2-0.01", "val_correlation"] == pytest.approx(0.38)


def test_the_output_side_is_chosen_on_the_validation_loss_at_the_kept_epoch():
    # r cannot see an output gain: the output learning-rate variants tie on validation r, and
    # their validation Poisson loss at the kept epoch decides; a `loss` variant's is not comparable.
    factors = {"output_lr_factor": [1, 30], "loss": ["mse"]}
    data = result(
        [0.0, 0.0, 0.0, 0.0],
        val_offsets=[0.0, 0.0, 0.0, 0.0],
        loss_offsets=[0.0, 0.3, -0.1, -0.5],
        factors=factors,
    )
    table = ablation.table({("sim01", "whitenoise"): data}).set_index("variant")
    assert table.loc["output_lr_factor-30", "val_loss"] == pytest.approx(0.9)
    ranks = table["rank_val_loss"].to_dict()
    assert ranks["output_lr_factor-30"] == 1 and ranks["baseline"] == 2
    assert ranks["output_lr_factor-1"] == 3 and np.isnan(ranks["loss-mse"])


def test_ablation_figure_shows_each_variants_mean_fraction(tmp_path, artists):
    data = result([0.0, 0.2, -0.1])
    captured = []
    original = plots.save_figure
    plots.save_figure = lambda fig, path: captured.append(fig) or original(fig, path)
    try:
        plots.ablation(
            {"whitenoise": data, "naturalscene": result([0.0, 0.1, 0.0], seed=1)},
            tmp_path / "a.png",
        )
    finally:
        plots.save_figure = original
    (fig,) = captured
    ax = fig.axes[0]
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]  # widths are the values
    np.testing.assert_allclose(
        [bar.get_width() for bar in bars], data["fraction_of_ceiling"].mean("cell").values
    )
    points = artists.points(ax)[0]
    np.testing.assert_allclose(
        np.sort(points[:, 0]), np.sort(data["fraction_of_ceiling"].values.ravel())
    )
    assert artists.ticks(ax, "y") == ["baseline (3 s)", "history-40 (3 s)", "l2-0.01 (3 s)"]
    assert "exact ceiling" in ax.get_xlabel()
    assert (tmp_path / "a.png").stat().st_size > 0
