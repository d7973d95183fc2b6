"""Reciprocal gated cell (shapes, gating), the unrolled ConvRNN and the feedforward CNN."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from insilico.it.models.cnn import ItCNN
from insilico.it.models.convrnn import (
    CELLS,
    ConvRNN,
    LSTMCell,
    ReciprocalGatedCell,
    VanillaCell,
    cell_parameters,
)
from insilico.it.train import build_it_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cell_with_biases(memory=0.0, gate=0.0, channels=3) -> ReciprocalGatedCell:
    """A cell whose gate convolutions have zero weights and the given biases (gates = constants)."""
    torch.manual_seed(0)
    cell = ReciprocalGatedCell(channels, kernel_size=3)
    with torch.no_grad():
        for conv, bias in (
            (cell.memory_gate_c, memory),
            (cell.memory_gate_h, memory),
            (cell.input_gate_c, gate),
            (cell.input_gate_h, gate),
        ):
            conv.depthwise.weight.zero_()
            conv.pointwise.weight.zero_()
            conv.pointwise.bias.fill_(bias)
    return cell


def test_cell_shapes_and_state():
    cell = ReciprocalGatedCell(4, kernel_size=3)
    x = torch.randn(2, 4, 6, 6)
    h, (c, h_again) = cell(x)
    assert h.shape == c.shape == x.shape
    assert torch.equal(h, h_again)
    h2, state = cell(x, (c, h))
    assert h2.shape == x.shape and state[0].shape == x.shape
    with pytest.raises(ValueError, match="differ from input"):
        cell(x, (torch.zeros(2, 4, 3, 3), torch.zeros(2, 4, 3, 3)))


def test_cell_from_zero_state_is_feedforward():
    """Zero state, zero gate biases: (1 - sigmoid(0)) * 0 + (1 - tanh(0)) * x -> elu(x)."""
    cell = ReciprocalGatedCell(3)
    x = torch.randn(2, 3, 5, 5)
    h, (c, _) = cell(x)
    torch.testing.assert_close(c, F.elu(x))
    torch.testing.assert_close(h, F.elu(x))


def test_memory_gate_controls_how_much_of_the_state_is_kept():
    x, state = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4)
    # sigmoid(memory) -> 1: the old state is forgotten; the input passes (tanh gate at 0)
    forget = cell_with_biases(memory=50.0)
    h, (c, _) = forget(x, (state, state))
    torch.testing.assert_close(c, F.elu(x))
    # sigmoid(memory) -> 0: the old state is kept in full and the input added
    keep = cell_with_biases(memory=-50.0)
    h, (c, _) = keep(x, (state, state))
    torch.testing.assert_close(c, F.elu(state + x))
    torch.testing.assert_close(h, F.elu(state + x))


def test_input_gate_can_block_the_input():
    """tanh(gate) -> 1 closes the input: only the decayed state remains, whatever x is."""
    cell = cell_with_biases(memory=0.0, gate=50.0)
    state = torch.randn(1, 3, 4, 4)
    c1 = cell(torch.randn(1, 3, 4, 4), (state, state))[1][0]
    c2 = cell(torch.randn(1, 3, 4, 4), (state, state))[1][0]
    torch.testing.assert_close(c1, c2)
    torch.testing.assert_close(c1, F.elu(0.5 * state))
    # gate -> -1 doubles the input: (1 - tanh(-inf)) = 2
    opened = cell_with_biases(memory=50.0, gate=-50.0)
    x = torch.randn(1, 3, 4, 4)
    torch.testing.assert_close(opened(x, (state, state))[1][0], F.elu(2 * x))


def test_gates_are_driven_by_the_other_state():
    """The c-input gate reads h and the h-input gate reads c (reciprocal gating)."""
    torch.manual_seed(1)
    cell = ReciprocalGatedCell(2)
    x, c = torch.randn(1, 2, 4, 4), torch.randn(1, 2, 4, 4)
    h_a, h_b = torch.randn(1, 2, 4, 4), torch.randn(1, 2, 4, 4)
    c_new_a = cell(x, (c, h_a))[1][0]
    c_new_b = cell(x, (c, h_b))[1][0]
    assert not torch.allclose(c_new_a, c_new_b)  # h changed c's update through its input gate


def test_convrnn_unroll_shapes_latency_and_image_offset():
    torch.manual_seed(0)
    model = ConvRNN(
        size=16,
        n_classes=5,
        channels=[4, 6, 8],
        kernels=[3, 3, 3],
        recurrent_kernel=3,
        recurrent_layers=[2, 3],
        feedback=False,
        cell="reciprocal_gated",
        train_steps=4,
        image_on_steps=4,
    )
    x = torch.randn(2, 1, 16, 16)
    features = model.features(x, n_steps=8, image_on_steps=3)
    assert features["conv1"].shape == (8, 2, 4, 8, 8)
    assert features["conv3"].shape == (8, 2, 8, 2, 2)
    assert features["avgpool"].shape == (8, 2, 8)
    # one step per layer: layer l (1-based) is silent for the first l - 1 steps
    assert features["conv2"][0].abs().sum() == 0 and features["conv2"][1].abs().sum() > 0
    assert features["conv3"][1].abs().sum() == 0 and features["conv3"][2].abs().sum() > 0
    # the image goes off after 3 steps: the feedforward first layer changes then, and stays
    assert torch.equal(features["conv1"][0], features["conv1"][2])
    assert not torch.equal(features["conv1"][2], features["conv1"][3])
    assert model(x).shape == (2, 5)


def test_feedback_changes_lower_layers_and_is_optional():
    kwargs = dict(
        size=16,
        n_classes=3,
        channels=[4, 4],
        kernels=[3, 3],
        recurrent_kernel=3,
        recurrent_layers=[1, 2],
        cell="reciprocal_gated",
        train_steps=3,
        image_on_steps=3,
    )
    torch.manual_seed(0)
    plain = ConvRNN(feedback=False, **kwargs)
    torch.manual_seed(0)
    looped = ConvRNN(feedback=True, **kwargs)
    assert plain.feedback is None and len(looped.feedback) == 1
    x = torch.randn(1, 1, 16, 16)
    a, b = plain.features(x, 5, 5)["conv1"], looped.features(x, 5, 5)["conv1"]
    torch.testing.assert_close(a[:2], b[:2])  # top-down input arrives only after two steps
    assert not torch.allclose(a[2:], b[2:])


def test_invalid_configurations_are_refused():
    with pytest.raises(ValueError, match="train_steps=2 is shorter"):
        build_it_model("convrnn", size=32, n_classes=4, train_steps=2)
    with pytest.raises(ValueError, match="divisible by 2"):
        build_it_model("cnn", size=20, n_classes=4)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        build_it_model("cnn", size=32, n_classes=4, recurrent_kernel=3)
    with pytest.raises(ValueError, match="recurrent_layers"):
        build_it_model("convrnn", size=32, n_classes=4, recurrent_layers=[5])
    with pytest.raises(ValueError, match="unknown cell"):
        build_it_model("convrnn_x", size=32, n_classes=4, cell="gru")
    with pytest.raises(ValueError, match="image_on_steps"):
        build_it_model("convrnn", size=32, n_classes=4, train_steps=6, image_on_steps=7)


def test_cnn_layers_and_readout():
    model = ItCNN(size=16, n_classes=4, channels=[3, 5], kernels=[3, 3], block_convs=1)
    x = torch.randn(2, 1, 16, 16)
    features = model.features(x)
    assert list(features) == model.layer_names == ["conv1", "conv2", "avgpool"]
    assert features["conv2"].shape == (2, 5, 4, 4) and features["avgpool"].shape == (2, 5)
    torch.testing.assert_close(model(x), model.readout(features["conv2"].mean(dim=(2, 3))))


@pytest.mark.parametrize("channels,kernel", [(8, 3), (32, 3), (64, 7), (256, 7)])
def test_the_three_cells_have_parameter_counts_within_ten_percent(channels, kernel):
    counts = {cell: cell_parameters(cell, channels, kernel) for cell in CELLS}
    assert set(counts) == {"reciprocal_gated", "lstm", "vanilla"}
    assert max(counts.values()) <= 1.1 * min(counts.values()), counts


@pytest.mark.parametrize("cell_class", [LSTMCell, VanillaCell])
def test_other_cells_keep_state_and_follow_their_input(cell_class):
    torch.manual_seed(0)
    cell = cell_class(3, 3)
    x = torch.randn(2, 3, 5, 5)
    h, state = cell(x)
    assert h.shape == x.shape and all(part.shape == x.shape for part in state)
    h_again, _ = cell(x, state)
    assert not torch.allclose(h, h_again)  # the state feeds back
    assert not torch.allclose(cell(-x)[0], h)  # the input drives the output


def test_convrnn_step_logits_cover_the_schedule_from_the_top_layers_first_input():
    model = build_it_model(
        "convrnn_vanilla",
        size=16,
        n_classes=3,
        channels=[4, 4, 4],
        kernels=[3, 3, 3],
        recurrent_layers=[2, 3],
        cell="vanilla",
        train_steps=7,
        image_on_steps=2,
    )
    x = torch.randn(5, 1, 16, 16)
    logits = model.step_logits(x)
    assert logits.shape == (7 - 2, 5, 3)  # the top (third) layer's first input at step 2
    torch.testing.assert_close(model(x), logits.mean(0))
    assert ItCNN(size=16, n_classes=3, channels=[4], kernels=[3], block_convs=1).step_logits(
        x
    ).shape == (1, 5, 3)


def test_deeper_cnn_blocks_add_residual_convolutions_but_keep_the_scored_layers():
    shallow = build_it_model("cnn", size=16, n_classes=3, channels=[4, 8], kernels=[3, 3])
    deep = build_it_model(
        "cnn_deep", size=16, n_classes=3, channels=[4, 8], kernels=[3, 3], block_convs=3
    )
    assert deep.layer_names == shallow.layer_names
    extra = sum(p.numel() for p in deep.parameters()) - sum(p.numel() for p in shallow.parameters())
    assert extra == 2 * (4 * 4 * 9 + 4) + 2 * (8 * 8 * 9 + 8)
    features = deep.features(torch.randn(2, 1, 16, 16))
    assert features["conv2"].shape == (2, 8, 4, 4)


def _stripes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy horizontal, vertical or diagonal stripes of random phase (3 categories), 16 px."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(3, (n,), generator=generator)
    grid = torch.arange(16.0)
    y, x = torch.meshgrid(grid, grid, indexing="ij")
    phase = torch.rand(n, 1, 1, generator=generator) * 6.28
    coordinate = torch.stack([y, x, (x + y) / 1.4])[labels]
    images = torch.sin(coordinate * 1.6 + phase) + 0.5 * torch.randn(n, 16, 16, generator=generator)
    return images[:, None], labels


def test_matched_schedule_convrnn_holds_top_layer_decoding_after_the_image_goes_off():
    """Trained on the scored schedule (image on for 3 of 10 steps, a loss at every step), the
    readout stays above chance at every image-off step."""
    torch.manual_seed(0)
    model = build_it_model(
        "convrnn",
        size=16,
        n_classes=3,
        channels=[4, 8],
        kernels=[3, 3],
        recurrent_layers=[2],
        train_steps=10,
        image_on_steps=3,
    )
    images, labels = _stripes(256, seed=0)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(150):
        batch = torch.arange(32) + 32 * (step % 8)
        logits = model.step_logits(images[batch])
        targets = labels[batch].expand(len(logits), -1)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    test_images, test_labels = _stripes(300, seed=1)
    with torch.no_grad():
        per_step = model.step_logits(test_images).argmax(-1) == test_labels  # (9, 300)
    accuracy = per_step.float().mean(1)
    image_off = accuracy[3 - 1 :]  # steps 3..9 (the top layer's step index starts at 1)
    assert image_off.min() > 0.8, accuracy
