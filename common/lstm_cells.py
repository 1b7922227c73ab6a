"""nn.LSTMCell's arithmetic in the forms the recurrent decoders run it in, all with one product per step:
[input, hidden] against [W_ih | W_hh].

* `lstm_update`: the state update from the pre-activation gates, shared by both cells;
* `FusedLSTMCell`: fp32 or bf16 for one decoder pass, with the weight gradient deferred to a few large products;
* `Int8LSTMCell`: the int8 inference stand-in that common/precision.py swaps in for nn.LSTMCell.
"""
import torch
from torch import nn

from common.int8 import int8_product


def lstm_update(gates, cell):
    """nn.LSTMCell's state update from its pre-activation gates (B, 4H), PyTorch's order (input, forget, cell,
    output) -> (hidden, cell). One sigmoid over all four gates (the cell gate's goes unused) saves two small ops
    per decoder step; the values are the same."""
    size = cell.size(1)
    in_gate, forget_gate, _, out_gate = torch.sigmoid(gates).chunk(4, dim=1)
    cell = forget_gate * cell + in_gate * torch.tanh(gates[:, 2 * size:3 * size])
    return out_gate * torch.tanh(cell), cell


def fused_parameters(cell):
    """An nn.LSTMCell's weight [W_ih | W_hh] (4H, input + hidden) and bias b_ih + b_hh (4H,), for one product."""
    return torch.cat((cell.weight_ih, cell.weight_hh), dim=1), cell.bias_ih + cell.bias_hh


FOLD_STEPS = 64  # steps whose weight-gradient terms are kept before they are folded into one product


class _WeightGradient:
    """The weight gradient of one teacher-forced pass, gathered from its steps' backward passes.

    Each step leaves (output gradient, input); every FOLD_STEPS steps they are folded into the sum by one matrix
    product over all their rows. Memory stays bounded while each product still spans thousands of rows: at the
    AMP recipe's batch of 104, 64 steps of both decoder LSTMs hold ~170 MB in fp16, where keeping a whole 800-frame
    pass until its end held ~1.4 GB of output gradients and ~0.7 GB of inputs, and as much again while they were
    concatenated."""

    def __init__(self):
        self.pending = []
        self.total = None  # fp32, whatever the compute dtype

    def add(self, output_grad, inputs):
        self.pending.append((output_grad, inputs))
        if len(self.pending) == FOLD_STEPS:
            self._fold()

    def _fold(self):
        output_grads, inputs = zip(*self.pending)
        self.pending.clear()
        part = (torch.cat(output_grads).t() @ torch.cat(inputs)).float()
        self.total = part if self.total is None else self.total.add_(part)

    def result(self):
        if self.pending:
            self._fold()
        total, self.total = self.total, None
        return total


class _DeferredWeight(torch.autograd.Function):
    """A recurrent weight shared by every step of one teacher-forced pass, with its gradient formed in a few large
    products instead of one per step.

    Plain autograd adds each step's weight gradient into the gradient buffer, streaming the ~70 MB of the default
    LSTM weights three more times per step. Here each `_StepProduct` hands its (output gradient, input) to the
    pass's _WeightGradient, and this node, which autograd runs after all of them (they all feed it), returns the
    sum. Forward casts the weight once to the compute dtype (bf16 under autocast).
    """

    @staticmethod
    def forward(ctx, weight, gradient, dtype):
        ctx.gradient, ctx.weight_dtype = gradient, weight.dtype
        ctx.set_materialize_grads(False)  # the steps send no gradient here, only their terms
        return weight.to(dtype) if dtype != weight.dtype else weight.view_as(weight)

    @staticmethod
    def backward(ctx, _no_gradient):
        return ctx.gradient.result().to(ctx.weight_dtype), None, None


def weight_first_product(weight, rows, bias=None):
    """rows (M, K) @ weight.T (+ bias) for a contiguous weight (N, K), computed as (weight @ rows.T).T. For the few
    rows of a decoder step (M from 2 to 64) MKL runs this form 1.3-3x as fast as a skinny left factor against a
    transposed weight on the AVX2 EPYC (docs/performance.md). The result is made contiguous: what follows draws
    dropout masks in memory order, and the same draws must land on the same elements as with nn.LSTMCell."""
    product = weight @ rows.t() if bias is None else torch.addmm(bias.unsqueeze(1), weight, rows.t())
    return product.t().contiguous()


class _StepProduct(torch.autograd.Function):
    """inputs @ weight.T for one step; backward returns the input gradient and hands the weight's terms on.
    weight_t is weight.T made contiguous once per pass, for the input gradient's weight-first product."""

    @staticmethod
    def forward(ctx, inputs, weight, weight_t, gradient):
        inputs = inputs.to(weight.dtype)
        ctx.save_for_backward(inputs, weight_t)
        ctx.gradient = gradient
        return weight_first_product(weight, inputs)

    @staticmethod
    def backward(ctx, grad):
        inputs, weight_t = ctx.saved_tensors
        ctx.gradient.add(grad, inputs)
        return weight_first_product(weight_t, grad), None, None, None


class FusedLSTMCell:
    """An nn.LSTMCell for one decoder pass, its parameters fused once per pass (built anew for each pass: under
    autograd it collects that pass's weight gradient). What that buys: under autograd, the weight gradient
    deferred to a few large products (_DeferredWeight; 1.5x on a Tacotron 2 training step); under bf16 autocast,
    weights cast once per pass instead of every step; and the weight stored in the layout its per-step product
    streams fastest for `batch_size` rows (docs/performance.md). `dtype` is the dtype the products run in."""

    def __init__(self, cell, dtype, batch_size):
        weight, self.bias = fused_parameters(cell)
        self.gradient = _WeightGradient() if torch.is_grad_enabled() and weight.requires_grad else None
        if self.gradient is not None:
            self.weight = _DeferredWeight.apply(weight, self.gradient, dtype)
            self.weight_t = self.weight.detach().t().contiguous()
            return
        self.bias = self.bias.to(dtype)
        # One row is a matrix-vector product, which MKL streams fastest from an input-major (K, N) matrix. An ONNX
        # export takes that form at any batch: a Gemm on a constant second input, which ONNX Runtime lays out for
        # itself and its int8 export quantizes (it leaves a weight-first product in float32).
        self.input_major = batch_size == 1 or torch.onnx.is_in_onnx_export()
        self.weight = weight.to(dtype).t().contiguous() if self.input_major else weight.to(dtype)

    def __call__(self, inputs, state):
        hidden, cell = state
        inputs = torch.cat((inputs, hidden), dim=1)
        if self.gradient is not None:
            gates = _StepProduct.apply(inputs, self.weight, self.weight_t, self.gradient) + self.bias
        elif self.input_major:
            gates = torch.addmm(self.bias, inputs.to(self.weight.dtype), self.weight)
        else:
            gates = weight_first_product(self.weight, inputs.to(self.weight.dtype), self.bias)
        return lstm_update(gates, cell)


class Int8LSTMCell(nn.Module):
    """Inference stand-in for nn.LSTMCell: one int8 product per step, so one input quantization and one call
    instead of two of each (Tacotron 2 decoding 303 -> 386-433 frames/s against torch's quantized LSTMCell,
    docs/performance.md). `packed` is the cell's fused_parameters packed by common/int8.py."""

    def __init__(self, packed):
        super().__init__()
        self.packed = packed

    def forward(self, inputs, state):
        hidden, cell = state
        gates = int8_product(torch.cat((inputs, hidden), dim=1), self.packed)
        return lstm_update(gates, cell)
