"""The chain the workflow runs, on tiny sizes: train -> score -> table -> figures."""

import logging

import numpy as np
import pytest

from insilico.dynamics.gridcells import analysis, path_integration, plots, population

CONFIG = {
    "box": 1.0,
    "sequence_length": 8,
    "n_place": 32,
    "hidden": 24,
    "base": {"activation": "relu", "width": 0.15, "surround": 2.0, "weight_decay": 1e-4},
    "seeds": [0],
    "sweep": {"activation": ["tanh"], "surround": [1.0]},
    "networks_per_job": 4,
    "train": {"learning_rate": 3e-3, "steps": 30, "batch_size": 16},
    "evaluation": {"trajectories": 100, "resolution": 10, "seed": 5},
    "gridness_threshold": 0.3,
    "coherence_threshold": 0.8,
    "grid_network_fraction": 0.1,
    "theory": {
        "spectrum_resolution": 24,
        "bins": 30,
        "periods": 4,
        "resolution": 24,
        "maps": 3,
        "steps": 150,
        "rate": 1.0,
        "seed": 0,
    },
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    jobs = population.chunks(population.population(CONFIG), CONFIG["networks_per_job"])
    maps, scores, checkpoints = [], [], tmp_path_factory.mktemp("checkpoints")
    for index, job in enumerate(jobs):
        checkpoint = checkpoints / f"chunk{index}.pt"
        _, ds = path_integration.train_chunk(job, CONFIG, logging.getLogger("test"), checkpoint)
        maps.append(ds)
        scores.append(analysis.score_maps(ds))
    maps, scores = analysis.combine(maps, scores)
    return maps, scores, analysis.network_table(scores, maps, CONFIG)


def test_table_has_one_row_per_network_with_theory_period(results):
    maps, scores, table = results
    assert list(table["factor"]) == ["base", "surround", "activation"]
    assert table.loc[0, "predicted_period"] == pytest.approx(
        2 * np.pi / (8.0113 * 0.12 / 0.15), rel=1e-3
    )
    assert np.isinf(table.loc[1, "predicted_period"])  # a Gaussian code has no k*
    assert ((table["grid_fraction"] >= 0) & (table["grid_fraction"] <= 1)).all()
    assert (table["decoding_error"] < table["chance_error"]).all()
    assert scores["gridness"].shape == (3, 24)


def test_theory_dataset_spectra_and_patterns():
    ds = analysis.theory(CONFIG)
    assert ds.attrs["measured_k_star"] == pytest.approx(ds.attrs["k_star"], rel=0.15)
    order = ds["hexagonal_order"].median("map")
    assert float(order.sel(condition="nonnegative")) > float(order.sel(condition="unconstrained"))
    fig = plots.theory(ds)
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata().max(), 1.0)
    assert "k*" in fig.axes[0].get_legend().get_texts()[-1].get_text()


def test_figures_plot_the_table(results):
    maps, scores, table = results
    fig = plots.sweep(table, 0.3)
    heights = [p.get_height() for p in fig.axes[0].patches]
    np.testing.assert_allclose(heights, [*table["gridness_only_fraction"], *table["grid_fraction"]])
    fig = plots.gridness_distributions(scores, table, 0.3)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(label.startswith("relu") for label in labels)
    fig = plots.rate_maps(maps, scores, list(table["network"][:2]), n_units=4)
    assert len(fig.axes) == 10
    plots.period_vs_theory(table)


def test_headline_counts_base_networks_and_controls(results):
    maps, scores, table = results
    numbers = analysis.headline(table, analysis.theory(CONFIG), CONFIG)
    assert numbers["base_networks"] == 1
    assert set(numbers["control_grid_fraction"]) == {"tanh"}
    assert numbers["predicted_period_m"] == pytest.approx(2 * np.pi / numbers["k_star"])


def test_analysis_and_figure_modules_do_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; import insilico.dynamics.gridcells.plots, insilico.dynamics.gridcells.analysis;"
        " sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
