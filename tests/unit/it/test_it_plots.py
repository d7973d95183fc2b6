"""The late-solved figure plots the solution-time data it is given (checked on the axes)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.it import plots as it  # noqa: E402


def test_late_solved_figure_plots_decoding_per_kind_and_solved_shares(tmp_path, monkeypatch):
    starts = np.arange(70, 130, 10)
    kinds = np.array(["clean"] * 4 + ["occluded"] * 2)
    performance = np.tile(np.linspace(0.5, 1.0, len(starts)), (6, 1))
    performance[kinds == "occluded"] *= 0.8
    times = xr.Dataset(
        {
            "performance": (("stimulus", "time_bin"), performance),
            "solution_time_ms": ("stimulus", [80.0, 90.0, 100.0, 110.0, np.nan, 120.0]),
        },
        coords={
            "image_kind": ("stimulus", kinds),
            "time_bin_start": ("time_bin", starts),
            "time_bin_end": ("time_bin", starts + 10),
        },
        attrs={"region": "IT", "criterion": 0.8},
    )
    figures = []
    monkeypatch.setattr(it, "save_figure", lambda fig, path: figures.append(fig))
    it.late_solved(times, xr.Dataset(), tmp_path / "late.png")
    decoding, solved = figures[0].axes[:2]
    lines = {line.get_label(): line for line in decoding.get_lines()}
    np.testing.assert_allclose(lines["clean (4 images)"].get_ydata(), performance[0])
    np.testing.assert_allclose(lines["occluded (2 images)"].get_ydata(), performance[4])
    shares = {line.get_label(): line.get_ydata() for line in solved.get_lines()}
    np.testing.assert_allclose(shares["clean (4 images)"], [0, 0.25, 0.5, 0.75, 1, 1])
    np.testing.assert_allclose(shares["occluded (2 images)"], [0, 0, 0, 0, 0, 0.5])
    plt.close("all")
