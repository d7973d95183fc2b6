"""Water-filling against closed forms and a numerical optimiser; mosaics' zones and type gains."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from insilico.efficient_coding import spectrum, waterfill

NOISE = waterfill.Noise(input=0.1, output=1.0)


def test_all_active_channels_match_the_closed_form():
    power = np.array([8.0, 4.0, 2.0])
    total = 30.0
    gain = np.sqrt(power * power / (power + NOISE.input) * NOISE.output)
    # sum_i (gain_i / sqrt(lam) - N_out) = total  =>  1 / sqrt(lam) = (total + n N_out) / sum gain
    expected = gain * (total + len(power) * NOISE.output) / gain.sum() - NOISE.output
    assert (expected > 0).all()
    channel, gained = waterfill.waterfill(power, NOISE, total)
    np.testing.assert_allclose(channel[:, 0], expected, rtol=1e-6)
    rho = power / (power + NOISE.input)
    assert gained[0] == pytest.approx((power * rho * expected / (expected + 1.0)).sum(), rel=1e-6)


def test_weak_channels_stay_dry_and_the_allocation_is_optimal():
    power = np.array([10.0, 3.0, 0.5, 0.05])
    total = 3.0
    channel, gained = waterfill.waterfill(power, NOISE, total)
    assert channel[-1, 0] == 0.0 and channel[0, 0] > channel[1, 0] > 0
    rho = power / (power + NOISE.input)

    def lost(p):
        return -(power * rho * p / (p + NOISE.output)).sum()

    best = minimize(
        lost,
        np.full(4, total / 4),
        bounds=[(0, None)] * 4,
        constraints={"type": "eq", "fun": lambda p: p.sum() - total},
        method="SLSQP",
    )
    assert gained[0] == pytest.approx(-best.fun, rel=1e-5)
    assert channel[:, 0].sum() == pytest.approx(total, rel=1e-6)


def test_a_mosaic_encodes_one_mode_per_cell_and_frame():
    for cells in (1, 2, 4, 8):
        mask = waterfill.zone(8, 5, cells)
        assert mask.sum() == cells * 5
    # a huge budget on the finest mosaic leaves only the input-noise error
    power = spectrum.power_law_spectrum(8, 6, 2.0, 2.0)
    error = waterfill.one_type_error(power, NOISE, 1, [1e6])[0]
    floor = (power * NOISE.input / (power + NOISE.input)).sum() / power.sum()
    assert error == pytest.approx(floor, rel=1e-3)


def test_two_types_help_only_where_cells_carry_unequal_power():
    # steep space-time spectrum: a coarse mosaic carries much power per cell, a fine one little
    steep = spectrum.power_law_spectrum(16, 16, 3.0, 2.0)
    result = waterfill.sweep(steep, NOISE, [1, 2, 4, 8, 16], [1.0], 19)
    assert result["two_error"][0] < result["one_error"][0] - 1e-3
    assert result["coarse_stride"][0] > result["fine_stride"][0]
    # white spectrum: every cell of every mosaic carries the same power, a second type is useless
    white = np.ones((16, 16))
    flat = waterfill.sweep(white, NOISE, [1, 2, 4, 8, 16], [0.1, 1.0], 19)
    np.testing.assert_allclose(flat["two_error"], flat["one_error"], rtol=1e-9)
    assert (flat["pair_error"] > flat["one_error"]).all()
