"""Known answers of the learning rules in a deep linear network (a linear teacher to regress).

Kolen-Pollack and symmetric alignment estimate W: their feedback kernels go to W (angle below
5 degrees); feedback alignment's fixed B makes W align with it (angle below 90 degrees once
learning starts); the local rules' noise-driven updates move B towards W as well.
"""

import pytest
import torch

from insilico.learning_rules.layers import UntiedLinear, untied_layers
from insilico.learning_rules.rules import Rule, alignment_angles

SETTINGS = {
    "kolen_pollack": {"rate": 0.05, "alpha": 0.2, "noise": 0.0},
    "symmetric_alignment": {"rate": 0.05, "alpha": 1.0, "beta": 1.0, "noise": 0.0},
    "weight_mirror": {"rate": 0.05, "alpha": 1.0, "beta": 1.0, "input_std": 1.0, "noise": 0.0},
    "activation_alignment": {"rate": 0.05, "alpha": 1.0, "beta": 1.0, "noise": 0.0},
    "feedback_alignment": {},
}


def deep_linear(widths, seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        *(UntiedLinear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
    )


def train(rule_name, steps=250, seed=0, settings=None):
    """Train a 4-layer linear network on a random linear teacher; the angles per layer at the
    start and the end (every layer's input has full rank, so B is determined everywhere)."""
    widths = [30, 20, 20, 20, 10]
    model = deep_linear(widths, seed)
    rule = Rule(rule_name, settings if settings is not None else SETTINGS[rule_name])
    rule.attach(model, torch.Generator().manual_seed(seed + 1))
    generator = torch.Generator().manual_seed(seed + 2)
    teacher = torch.randn(widths[0], widths[-1], generator=generator) / widths[0] ** 0.5
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
    losses, angles = [], [alignment_angles(model)]
    for _ in range(steps):
        x = torch.randn(32, widths[0], generator=generator)
        loss = ((model(x) - x @ teacher) ** 2).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        rule.before_step(model)
        optimizer.step()
        rule.after_step(model, generator)
        losses.append(loss.item())
    angles.append(alignment_angles(model))
    return torch.tensor(losses), torch.tensor(angles)


@pytest.mark.parametrize("rule", ["kolen_pollack", "symmetric_alignment"])
def test_weight_estimation_drives_b_to_w(rule):
    losses, angles = train(rule, steps=400)
    assert angles[0].min() > 60  # independent random draws start far apart
    assert angles[-1].max() < 5
    assert losses[-20:].mean() < 0.9 * losses[:20].mean()  # Kolen-Pollack's decay slows it


@pytest.mark.parametrize(("rule", "limit"), [("weight_mirror", 15), ("activation_alignment", 45)])
def test_alignment_rules_move_b_towards_w(rule, limit):
    # activation alignment fits B to W only along the input covariance, which the layers'
    # training inputs fill unevenly: it aligns less than weight mirror's white noise does
    _, angles = train(rule)
    assert angles[-1].max() < limit
    assert (angles[-1] < angles[0]).all()


def test_feedback_alignment_aligns_w_to_fixed_b():
    losses, angles = train("feedback_alignment", steps=400)
    # every layer above the first aligns; the first layer's B sends nothing anywhere (its input
    # is the image), so nothing ties its W to it
    assert (angles[-1][1:] < 90).all()
    assert (angles[-1][1:] < angles[0][1:]).all()
    assert losses[-20:].mean() < 0.5 * losses[:20].mean()


def test_feedback_alignment_keeps_b_fixed_and_noise_perturbs_b():
    model = deep_linear([4, 5, 3], 0)
    Rule("feedback_alignment").attach(model, torch.Generator().manual_seed(0))
    before = [layer.feedback.clone() for layer in untied_layers(model)]
    train("feedback_alignment", steps=3)
    noisy = dict(SETTINGS["symmetric_alignment"], noise=1.0)
    _, angles_noisy = train("symmetric_alignment", settings=noisy)
    _, angles_clean = train("symmetric_alignment")
    assert angles_noisy[-1].mean() > angles_clean[-1].mean()
    assert all(
        torch.equal(b, layer.feedback)
        for b, layer in zip(before, untied_layers(model), strict=True)
    )


def test_unknown_rules_and_missing_metaparameters_are_errors():
    with pytest.raises(ValueError, match="unknown learning rule"):
        Rule("telepathy")
    with pytest.raises(ValueError, match="metaparameters"):
        Rule("weight_mirror", {"rate": 0.1})
