"""Teacher tasks, the experiments' shapes and their agreement with the theory at a small scale."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.learning_dynamics import teacher as te

SMALL = {
    "n": 12,
    "sigma": 1.0,
    "s0": 1e-3,
    "hidden": 12,
    "lr": 0.05,
    "horizon": 10,
    "points": 20,
    "seeds": 3,
    "ranks": [1, 2],
    "snrs": [3.0],
    "examples": [0.5, 2.0],
    "width_rank": 1,
    "width_snr": 3.0,
    "width_examples": 1.0,
    "widths": [12, 48],
    "transfer_snrs": [3.0, 1.5],
    "alignments": [0.0, 1.0],
}


@pytest.mark.parametrize("examples", [6, 24])
def test_teacher_task_whitens_inside_the_span_of_the_examples(examples):
    rng = np.random.default_rng(0)
    sigma11, sigma31, teacher = te.teacher_task(rng, 12, 2, 3.0, examples, 0.5)
    np.testing.assert_allclose(sigma11 @ sigma11, sigma11, atol=1e-12)  # a projection
    assert np.trace(sigma11) == pytest.approx(min(examples, 12))
    np.testing.assert_allclose(np.linalg.svd(teacher, compute_uv=False)[:2], [1.5, 1.5])
    np.testing.assert_allclose(sigma31 @ sigma11, sigma31, atol=1e-12)


def test_noise_in_sigma31_has_variance_sigma_squared_over_examples():
    rng = np.random.default_rng(1)
    noise = [np.subtract(*te.teacher_task(rng, 20, 1, 1.0, 80, 2.0)[1:]) for _ in range(20)]
    assert np.var(noise) == pytest.approx(4.0 / 80, rel=0.1)


def test_transfer_pair_has_the_asked_alignment():
    rng = np.random.default_rng(2)
    for q in (0.0, 0.6, 1.0):
        joint, alone, target = te.transfer_pair(rng, 10, (3.0, 1.5), q, 1.0)
        np.testing.assert_allclose(alone, joint[10:])
        source_in = np.linalg.svd(joint[:10] - 0, full_matrices=False)[2][0]
        target_in = np.linalg.svd(target)[2][0]
        assert abs(np.linalg.svd(target, compute_uv=False)[0] - 1.5) < 1e-9
        assert abs(source_in @ target_in) == pytest.approx(q, abs=0.35)  # noisy source vector


def test_curves_follow_the_theory_at_a_small_scale():
    ds = te.curves(SMALL, 0)
    assert ds.test.shape == (2, 1, 2, 3, 21)
    gap = abs(ds.test.mean("seed") - ds.theory_test).mean("time") / ds.theory_test.mean("time")
    assert float(gap.max()) < 0.3
    # more examples help (the theory and the simulation agree on the direction)
    best = ds.test.min("time").mean("seed")
    assert (best.sel(examples=2.0) < best.sel(examples=0.5)).all()


def test_transfer_helps_aligned_tasks_only():
    ds = te.transfer({**SMALL, "n": 24, "hidden": 24, "seeds": 4}, 0)
    benefit = (ds.alone.min("time") - ds.joint.min("time")).mean("seed")
    theory = ds.theory_alone.min("time") - ds.theory_joint.min("time")
    assert float(benefit.sel(alignment=1.0) - benefit.sel(alignment=0.0)) > 0.1
    assert float(theory.sel(alignment=1.0)) > 0.1
    assert float(theory.sel(alignment=0.0)) < 0.05
    assert float(abs(benefit - theory).max()) < 0.2
