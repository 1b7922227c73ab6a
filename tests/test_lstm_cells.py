"""common/lstm_cells.py: the fused and int8 cells against nn.LSTMCell over a few steps."""
import pytest
import torch
from torch import nn

from common import precision
from common.lstm_cells import FusedLSTMCell, Int8LSTMCell
from common.quality import snr_db

BATCH, INPUT, HIDDEN, STEPS = 3, 24, 16, 5


@pytest.fixture
def cell():
    torch.manual_seed(0)
    return nn.LSTMCell(INPUT, HIDDEN)


def run(cell, inputs):
    """The hidden states of STEPS steps from a zero state, stacked."""
    batch = inputs.size(1)
    state = (inputs.new_zeros(batch, HIDDEN), inputs.new_zeros(batch, HIDDEN))
    hidden = []
    for step_input in inputs:
        state = cell(step_input, state)
        hidden.append(state[0])
    return torch.stack(hidden)


@pytest.mark.parametrize('batch', [1, BATCH])  # one row and a few rows store the weight in different layouts
def test_fused_cell_equals_lstm_cell_without_autograd(cell, batch):
    inputs = torch.randn(STEPS, batch, INPUT)
    with torch.no_grad():
        torch.testing.assert_close(run(FusedLSTMCell(cell, torch.float32, batch), inputs), run(cell, inputs))


def test_fused_cell_deferred_weight_gradient_equals_lstm_cell_autograd(cell):
    inputs = torch.randn(STEPS, BATCH, INPUT)
    weights = torch.randn(STEPS, BATCH, HIDDEN)

    def gradients(forward):
        step_inputs = inputs.clone().requires_grad_()
        hidden = forward(step_inputs)
        (hidden * weights).sum().backward()
        grads = {name: p.grad.clone() for name, p in cell.named_parameters()}
        cell.zero_grad(set_to_none=True)
        return hidden.detach(), step_inputs.grad, grads

    expected_hidden, expected_input_grad, expected = gradients(lambda x: run(cell, x))
    hidden, input_grad, got = gradients(lambda x: run(FusedLSTMCell(cell, torch.float32, BATCH), x))
    torch.testing.assert_close(hidden, expected_hidden)
    torch.testing.assert_close(input_grad, expected_input_grad)
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], atol=1e-6, rtol=1e-5, msg=name)


def test_int8_cell_is_what_quantize_int8_swaps_in_and_stays_close(cell):
    inputs = torch.randn(STEPS, BATCH, INPUT)
    quantized = precision.quantize_int8(nn.ModuleList([cell]))[0]
    assert isinstance(quantized, Int8LSTMCell)
    with torch.no_grad():
        expected, got = run(cell, inputs), run(quantized, inputs)
    assert not torch.equal(got, expected)
    assert snr_db(expected, got) > 30


def test_a_long_pass_folds_its_weight_gradient_and_matches_autograd(cell, monkeypatch):
    """Past FOLD_STEPS steps the weight-gradient terms are folded as they come: never more pending than that, and
    the same gradient as plain autograd."""
    from common import lstm_cells
    monkeypatch.setattr(lstm_cells, 'FOLD_STEPS', 4)
    pending, add = [], lstm_cells._WeightGradient.add

    def recorded_add(self, grad, inputs):
        add(self, grad, inputs)
        pending.append(len(self.pending))
    monkeypatch.setattr(lstm_cells._WeightGradient, 'add', recorded_add)
    steps = 11
    inputs, weights = torch.randn(steps, BATCH, INPUT), torch.randn(steps, BATCH, HIDDEN)

    def weight_gradient(step_cell):
        state = (torch.zeros(BATCH, HIDDEN), torch.zeros(BATCH, HIDDEN))
        loss = 0
        for step_input, weight in zip(inputs, weights):
            state = step_cell(step_input, state)
            loss = loss + (state[0] * weight).sum()
        loss.backward()
        grad = cell.weight_hh.grad.clone()
        cell.zero_grad(set_to_none=True)
        return grad

    expected = weight_gradient(cell)
    got = weight_gradient(FusedLSTMCell(cell, torch.float32, BATCH))
    assert len(pending) == steps and max(pending) < 4
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
