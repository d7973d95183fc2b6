import numpy as np

from insilico.dynamics.gridcells import place_cells as pc
from insilico.dynamics.gridcells.trajectories import Motion, sample


def test_trajectories_are_seeded_inside_the_box_and_integrate_velocity():
    motion = Motion(box=1.0, steps=50)
    a = sample(200, motion, np.random.default_rng(3))
    b = sample(200, motion, np.random.default_rng(3))
    np.testing.assert_array_equal(a.position, b.position)
    assert np.abs(a.position).max() <= 0.5
    previous = np.concatenate([a.start[:, None], a.position[:, :-1]], axis=1)
    steps = a.position - previous
    inside = np.abs(a.position).max(-1) < 0.5 - 1e-9  # clipping only at the wall
    np.testing.assert_allclose(steps[inside], a.velocity[inside] * motion.dt, atol=1e-12)
    speed = np.linalg.norm(a.velocity, axis=-1)
    np.testing.assert_allclose(
        a.velocity / speed[..., None],
        np.stack([np.cos(a.heading), np.sin(a.heading)], axis=-1),
        atol=1e-12,
    )


def test_walls_are_avoided_not_piled_against():
    motion = Motion(box=1.0, steps=400)
    path = sample(100, motion, np.random.default_rng(0))
    at_wall = (np.abs(path.position) >= 0.5 - 1e-9).any(-1).mean()
    near_wall = (np.abs(path.position) > 0.5 - motion.border).any(-1).mean()
    assert at_wall < 0.01
    # the border strip is ~12% of the area; occupancy there must not be far above it
    assert near_wall < 0.25


def test_place_code_is_a_distribution_peaked_at_the_nearest_centre():
    for surround in (1.0, 2.0):
        cells = pc.PlaceCells(n=64, width=0.1, surround=surround, box=1.0, seed=1)
        centres = cells.centres()
        activity = pc.code(cells, centres)
        np.testing.assert_allclose(activity.sum(-1), 1.0)
        assert activity.min() >= 0
        assert (activity.argmax(-1) == np.arange(64)).mean() > 0.95
        decoded = pc.decode(activity, centres, k=1)
        assert np.median(np.linalg.norm(decoded - centres, axis=1)) < 1e-9


def test_difference_of_gaussians_has_an_inhibitory_surround():
    """Across cells, activity falls below the far-field level at ~2 widths from the animal."""
    position = np.zeros((1, 2))
    for surround, dips in ((2.0, True), (1.0, False)):
        cells = pc.PlaceCells(n=2000, width=0.1, surround=surround, box=2.0, seed=0)
        distance = np.linalg.norm(cells.centres(), axis=1)
        activity = pc.code(cells, position)[0]
        ring = activity[(distance > 0.15) & (distance < 0.3)].mean()
        far = activity[(distance > 0.6) & (distance < 0.9)].mean()
        assert activity[distance < 0.05].mean() > 3 * far
        assert (ring < far) == dips
