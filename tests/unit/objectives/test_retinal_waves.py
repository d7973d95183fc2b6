"""The wave simulator: the deterministic front moves at its analytic speed, refractoriness bounds
how often a cell fires, and the default waves have the measured statistics in order of magnitude."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.objectives import waves


@pytest.mark.parametrize(("spacing", "dt"), [(100.0, 0.25), (50.0, 0.5)])
def test_deterministic_front_moves_one_cell_per_step(spacing, dt):
    params = waves.WaveParams(grid=32, spacing_um=spacing, dt_s=dt, recruit=1.0)
    assert waves.axis_front_speed(params, 12) == pytest.approx(spacing / dt)


def test_a_refractory_cell_does_not_fire_again_before_it_recovers():
    params = waves.WaveParams(grid=16, active_steps=2, refractory_steps=20, p_spontaneous=0.01)
    active = waves.simulate(params, 400, seed=0)
    stats = waves.wave_statistics(active, params)
    assert len(stats["interval_s"]) > 0
    assert (
        stats["interval_s"].min() >= (params.active_steps + params.refractory_steps) * params.dt_s
    )


def test_no_spontaneous_activity_means_no_waves():
    params = waves.WaveParams(grid=16, p_spontaneous=0.0)
    assert not waves.simulate(params, 50, seed=0).any()


def test_default_waves_have_the_measured_order_of_magnitude():
    params = waves.WaveParams(grid=32, spacing_um=100.0, p_spontaneous=4e-4, recruit=0.08)
    stats = waves.wave_statistics(waves.simulate(params, 1600, seed=0, burn_in=400), params)
    assert 30 < np.median(stats["speed_um_s"]) < 600  # recordings: ~100-300 um/s
    assert 10 < np.median(stats["interval_s"]) < 300  # tens of seconds to minutes
    assert stats["size_mm2"].max() > 3 * np.median(stats["size_mm2"])  # variable wave sizes


def test_render_averages_blocks_of_cells():
    active = np.zeros((1, 4, 4), dtype=bool)
    active[0, :2, :2] = True
    active[0, 2, 2] = True
    movie = waves.render(active, 2)
    assert movie.dtype == np.uint8
    np.testing.assert_array_equal(movie[0], [[255, 0], [0, 64]])
    np.testing.assert_array_equal(waves.render(active, 8)[0, :2, :4], [[255] * 4] * 2)
    with pytest.raises(ValueError, match="divide"):
        waves.render(active, 3)
