"""The table, trends and figures read the right numbers (synthetic probes with known fields)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from insilico.bottleneck import plots, summary

SIZE = 15


def _fields(kind: str, n: int) -> np.ndarray:
    rows, cols = np.indices((SIZE, SIZE)) - SIZE // 2
    d2 = rows**2 + cols**2
    if kind == "dog":
        field = np.exp(-d2 / 4.5) / 2.25 - np.exp(-d2 / 24.5) / 12.25
    else:
        field = np.exp(-d2 / 18) * np.cos(2 * np.pi * cols / 6)
    return np.repeat(field[None], n, axis=0)


def _probe(n_bn: int, retina: str, v1: str, linearity: list[float]) -> xr.Dataset:
    """One width's probe: d_vvs 0 (no v1) and 2, two seeds; 3 units (v1) or n_bn (bottleneck)."""
    units = max(n_bn, 3)
    rf = np.full((2, 2, 2, units, SIZE, SIZE), np.nan)
    rf[:, :, 0, :n_bn] = _fields(retina, n_bn)
    rf[1, :, 1, :3] = _fields(v1, 3)
    lin = np.full((2, 2, units), np.nan)
    lin[:, :, :n_bn] = np.array(linearity)[:, None, None]
    return xr.Dataset(
        {
            "gradient_rf": (("d_vvs", "seed", "stage", "unit", "row", "col"), rf),
            "sta_rf": (
                ("d_vvs", "seed", "contrast", "stage", "unit", "row", "col"),
                rf[:, :, None],
            ),
            "linearity": (("d_vvs", "seed", "unit"), lin),
            "separability": (("d_vvs", "seed"), np.full((2, 2), 0.5)),
            "test_accuracy": (("d_vvs", "seed"), np.full((2, 2), 0.6)),
        },
        coords={"d_vvs": [0, 2], "seed": [0, 1], "stage": ["bottleneck", "v1"], "contrast": [1.0]},
        attrs={"n_bn": n_bn},
    )


@pytest.fixture(scope="module")
def results():
    probes = [_probe(1, "dog", "gabor", [0.3, 0.6]), _probe(4, "gabor", "gabor", [0.5, 0.5])]
    measures = summary.collect(probes)
    reference = summary.reference_indices(
        xr.Dataset(
            {"rf": (("cell", "row", "col"), _fields("dog", 2))},
            coords={"cell": [0, 1], "cell_type": ("cell", ["on", "off_fast"])},
        )
    )
    frame = summary.table(measures, reference)
    return measures, reference, frame


def test_table_has_one_row_per_width_depth_and_stage_and_the_reference(results):
    _, _, frame = results
    networks = frame[frame["n_bn"].notna()]
    assert len(networks) == 2 * (1 + 2)  # widths x (d_vvs 0: bottleneck; d_vvs 2: both stages)
    narrow = networks[(networks["n_bn"] == 1) & (networks["d_vvs"] == 2)].set_index("stage")
    assert narrow.loc["bottleneck", "centre_surround_gradient"] > 0.8
    assert narrow.loc["v1", "orientedness_gradient"] > 0.8
    assert narrow.loc["bottleneck", "n_units"] == 2  # 1 unit x 2 seeds
    assert narrow.loc["bottleneck", "linearity"] == pytest.approx(0.6)
    assert narrow.loc["bottleneck", "rf_agreement_c1"] == pytest.approx(1.0)
    assert narrow.loc["v1", "orientedness_sta_c1"] > 0.8
    wide = networks[(networks["n_bn"] == 4) & (networks["d_vvs"] == 2)].set_index("stage")
    assert wide.loc["bottleneck", "orientedness_gradient"] > 0.8
    assert set(frame["stage"]) >= {"simulated_retina:all", "simulated_retina:on"}
    reference = frame[frame["stage"] == "simulated_retina:all"].iloc[0]
    assert reference["centre_surround_sta"] > 0.8 and reference["n_units"] == 2


def test_table_sems_are_over_seeds_of_per_network_means(results):
    measures, _, frame = results
    row = frame[(frame["n_bn"] == 4) & (frame["d_vvs"] == 2) & (frame["stage"] == "v1")].iloc[0]
    per_seed = (
        measures["orientedness_gradient"]
        .sel(n_bn=4, d_vvs=2, stage="v1")
        .mean("unit", skipna=True)
        .values
    )
    assert row["orientedness_gradient"] == pytest.approx(per_seed.mean())
    assert row["orientedness_gradient_sem"] == pytest.approx(
        per_seed.std(ddof=1) / np.sqrt(len(per_seed)), nan_ok=True
    )


def test_trends_state_the_claims(results):
    _, _, frame = results
    trends = summary.trends(frame)
    assert trends["narrow"]["n_bn"] == 1 and trends["wide"]["n_bn"] == 4
    assert trends["narrow"]["bottleneck_centre_surround"] > 0.8
    assert trends["wide"]["bottleneck_orientedness"] > 0.8
    assert trends["linearity"]["1"] == pytest.approx({"0": 0.3, "2": 0.6})
    assert trends["simulated_retina"]["centre_surround"] > 0.8


def test_figures_plot_the_table(results):
    measures, reference, frame = results
    fig = plots.indices_against_width(frame)
    left = fig.axes[0]
    lines = {line.get_label(): line for line in left.get_lines()}
    bottleneck = next(line for line in left.containers if line.get_label() == "bottleneck, D_VVS=2")
    np.testing.assert_allclose(np.asarray(bottleneck.lines[0].get_xdata(), float), [1, 4])
    reference_line = lines["simulated retina (ganglion cells)"]
    assert reference_line.get_ydata()[0] == pytest.approx(
        frame.loc[frame["stage"] == "simulated_retina:all", "orientedness_sta"].iloc[0]
    )
    fig = plots.linearity_against_depth(frame)
    narrow = next(c for c in fig.axes[0].containers if c.get_label() == "N_BN=1")
    np.testing.assert_allclose(np.asarray(narrow.lines[0].get_ydata(), float), [0.3, 0.6])
    fig = plots.example_fields(measures, reference)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == (1 + 3) + (4 + 3) + 2  # n_bn=1: 1 + 3 v1, n_bn=4: 4 + 3, 2 cells
