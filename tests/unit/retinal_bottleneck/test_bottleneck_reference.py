"""The simulated retina's fields, measured with the retina branch's STA code, sit where the
circuit put its cells and have the sign of their type (known by construction)."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.bottleneck import analysis
from insilico.bottleneck.reference import ganglion_fields
from insilico.retina.simulator import SimulatedRetina

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RETINA = {
    "size": 14,
    "cell_types": ["off_fast", "on"],
    "cells_per_type": 2,
    "subunit_spacing": 2,
    "max_rate": 60,
    "saccade_seconds": 1.0,
    "jitter_px": 0.5,
}


def test_ganglion_fields_are_centred_on_the_cells_with_their_sign():
    fields = ganglion_fields(RETINA, seed=0, n_frames=6000, history=12)
    circuit = SimulatedRetina(RETINA, 0)
    assert fields["rf"].shape == (4, 14, 14)
    for cell, (row, col) in enumerate(circuit.cell_centres):
        rf = fields["rf"].values[cell]
        centre = np.array(analysis.energy_centre(rf))
        assert np.hypot(*(centre - (row, col))) < 1.5
        peak = rf[int(round(row)), int(round(col))]
        expected = 1 if circuit.cell_types[cell] == "on" else -1
        assert np.sign(peak) == expected
    assert (fields["peak_lag_s"] > 0).all()
    assert analysis.orientedness(fields["rf"].values).max() < 0.35
