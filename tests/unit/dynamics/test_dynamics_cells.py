from __future__ import annotations

import pytest
import torch

from insilico.dynamics import cells
from insilico.dynamics.tasks import generator

pytestmark = pytest.mark.usefixtures("one_torch_thread")


N_IN, HIDDEN, N_OUT, BATCH = 3, 5, 2, 4


def _params(arch, seed=0, n=1):
    return cells.stack(
        [cells.init_parameters(arch, N_IN, HIDDEN, N_OUT, generator(seed + i)) for i in range(n)]
    )


def _torch_cell(arch, params):
    """A torch.nn cell with the same weights (torch stores W^T; GRU/LSTM gates in our order)."""
    w_x, w_h, b = params["W_x"][0], params["W_h"][0], params["b"][0]
    cell = {"vanilla": torch.nn.RNNCell, "gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}[arch](
        N_IN, HIDDEN
    )
    with torch.no_grad():
        cell.weight_ih.copy_(w_x.T)
        cell.weight_hh.copy_(w_h.T)
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
        if arch == "gru":
            cell.bias_hh[2 * HIDDEN :] = params["b_hn"][0]
    return cell


@pytest.mark.parametrize("arch", ["vanilla", "gru", "lstm"])
def test_step_matches_torch_cells(arch):
    params = _params(arch)
    with torch.no_grad():  # random biases so that every term is checked
        params["b"].normal_(generator=generator(9))
        if arch == "gru":
            params["b_hn"].normal_(generator=generator(10))
    x = torch.randn(1, BATCH, N_IN)
    h = torch.randn(1, BATCH, HIDDEN) * 0.5
    cell = _torch_cell(arch, params)
    if arch == "lstm":
        c = torch.randn(1, BATCH, HIDDEN)
        ours = cells.step(arch, params, torch.cat([h, c], -1), x)[0]
        h_ref, c_ref = cell(x[0], (h[0], c[0]))
        expected = torch.cat([h_ref, c_ref], -1)
    else:
        ours = cells.step(arch, params, h, x)[0]
        expected = cell(x[0], h[0])
    assert torch.allclose(ours, expected, atol=1e-6)


def test_ugrnn_step_is_the_gated_update():
    params = _params("ugrnn")
    x, h = torch.randn(1, BATCH, N_IN), torch.randn(1, BATCH, HIDDEN)
    a = x @ params["W_x"] + h @ params["W_h"] + params["b"].unsqueeze(1)
    gate, candidate = torch.sigmoid(a[..., :HIDDEN]), torch.tanh(a[..., HIDDEN:])
    expected = gate * h + (1 - gate) * candidate
    assert torch.allclose(cells.step("ugrnn", params, h, x), expected, atol=1e-6)


@pytest.mark.parametrize("arch", cells.ARCHITECTURES)
def test_stacked_networks_step_independently_and_run_repeats_step(arch):
    params = _params(arch, n=3)
    size = cells.state_size(arch, HIDDEN)
    assert size == (2 * HIDDEN if arch == "lstm" else HIDDEN)
    inputs = torch.randn(3, BATCH, 6, N_IN)
    states = cells.run(arch, params, inputs)
    assert states.shape == (3, BATCH, 6, size)
    state = torch.zeros(3, BATCH, size)
    for t in range(6):
        state = cells.step(arch, params, state, inputs[:, :, t])
        assert torch.allclose(states[:, :, t], state, atol=1e-6)
    for i in range(3):  # a network of a stack behaves as if alone
        alone = cells.run(arch, cells.unstack(params, i), inputs[i : i + 1])
        assert torch.allclose(alone[0], states[i], atol=1e-6)
    outputs = cells.readout(arch, params, states[:, :, -1])
    assert outputs.shape == (3, BATCH, N_OUT)
    assert cells.hidden_part(arch, states).shape[-1] == HIDDEN


def test_unknown_architecture_is_an_error():
    with pytest.raises(ValueError, match="unknown architecture 'elman'"):
        cells.state_size("elman", 4)
