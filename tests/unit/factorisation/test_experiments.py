"""The studies on tiny sizes: shapes, theory against simulation, and the figures' plotted data."""

import numpy as np
import pytest

from insilico.factorisation import experiments as ex
from insilico.factorisation import plots, summary

AMP = {"max_iter": 100, "damping": 0.0, "tol": 1e-6, "init_scale": 0.1}


@pytest.fixture(scope="module")
def overlap2():
    study = {
        "prior": {"kind": "rademacher"},
        "alphas": [1, 1],
        "rank": 1,
        "snr_range": [0.3, 4],
        "n_theory": 40,
        "n_points": 4,
        "n": [50, 200],
        "trials": 2,
    }
    return ex.overlap_vs_snr(study, AMP, seed=0)


def test_overlap_study_puts_theory_next_to_simulation(overlap2):
    assert overlap2.attrs["threshold_information"] == pytest.approx(1.0, rel=0.1)
    amp = overlap2["amp_overlap"].sel(start="uninformative", n=200).mean(("trial", "mode"))
    theory = overlap2["theory_bayes"].mean("mode").interp(snr_theory=overlap2["snr"].values)
    assert np.abs(amp.values - theory.values).max() < 0.15
    assert summary.crossing(overlap2["snr_theory"], theory.values * 0 + [0, 0, 0.5, 1], 0.25) > 0


def test_overlap_figure_plots_the_dataset(overlap2):
    fig = plots.overlap_figure(overlap2)
    ax = fig.axes[0]
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), overlap2["theory_uninformed"].mean("mode").values
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "AMP N=200, informed" in labels and "information threshold" in labels


def test_amp_beats_als_in_noise_and_the_figure_shows_the_gap():
    study = {
        "prior": {"kind": "nonnegative", "rho": 1.0},
        "alphas": [1, 1, 1],
        "n": 20,
        "rank": 1,
        "trials": 2,
        "n_init": 2,
        "snr_range": [0.5, 30],
        "n_points": 3,
    }
    ds = ex.amp_vs_als(study, AMP, {"n_iter_max": 100, "tol": 1e-8}, seed=0)
    assert ds["mse_gap"].values[0] > 0.5  # ALS fits the noise at low snr
    assert ds["mse"].sel(algorithm="amp").max() < 1.0
    fig = plots.amp_als_figure(ds)
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), ds["mse_gap"].values)


def test_phase_diagram_order2_threshold_follows_the_shape():
    ds = ex.phase_diagram(
        {
            "prior": {"kind": "gaussian"},
            "order": 2,
            "shape_range": [0.5, 2],
            "n_shapes": 3,
            "snr_range": [0.3, 3],
            "n_snr": 40,
        }
    )
    np.testing.assert_allclose(ds["threshold_information"], 1 / np.sqrt(ds["shape"]), rtol=0.08)
    assert set(np.unique(ds["phase"])) == {0, 2}  # no hard phase at order 2


def test_cnmf_benchmark_times_every_method_to_mu_final_loss():
    params = {
        "n": 40,
        "k": 2,
        "l": 6,
        "t": 300,
        "rate": 0.03,
        "noise": 0.05,
        "methods": ["mu", "hals"],
        "max_iter": 60,
        "tol": 0.0,
        "max_time": 5,
    }
    ds = ex.cnmf_benchmark(params, seed=0)
    mu = ds.sel(algorithm="mu")
    assert float(mu["time_to_mu_final"]) == pytest.approx(float(mu["time"].max()))
    assert float(ds.sel(algorithm="hals")["final_loss"]) <= float(mu["final_loss"]) * 1.05
    fig = plots.cnmf_figure(ds)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), mu["loss"].values)
    rows = summary.table(summary.cnmf_rows(ds))
    assert "cnmf_hals_speedup_vs_mu" in set(rows["quantity"])


def test_crossing_interpolates_in_log_snr():
    assert summary.crossing([1, 4], [0.0, 1.0], 0.5) == pytest.approx(2.0)
    assert np.isnan(summary.crossing([1, 4], [0.0, 0.2], 0.5))
