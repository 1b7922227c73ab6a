"""Reduced precision for inference and training: bf16 autocast and dynamic int8 quantization, chosen by name.

fp32 is the exact path. bf16 runs matrix products and convolutions under torch.autocast (weights stay fp32,
so training keeps fp32 master weights). int8 is for inference only (dynamic quantization): weights are stored as
int8 with one scale per output channel, activations are quantized per call, products accumulate in int32 (fbgemm,
VNNI on x86). It covers the recurrent cells and the linear layers and convolutions with at least
INT8_MIN_WEIGHTS weights. The quality cost is measured by `mel_l1` and `snr_db` (tests/test_precision.py,
docs/performance.md).
"""
import contextlib
import copy
import warnings

import torch
from torch import nn
from torch.nn import functional as F

from common.layers import lstm_update

PRECISIONS = ('fp32', 'bf16', 'int8')
# Smaller layers stay fp32: quantizing their input each call costs more than the int8 product saves, and they include
# the one-output layers that decide stops and durations (Tacotron 2's gate, FastPitch's predictor heads).
INT8_MIN_WEIGHTS = 1 << 16


def check_precision(precision, training=False):
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {", ".join(PRECISIONS)}, got {precision!r}')
    if training and precision == 'int8':
        raise ValueError('precision int8 is an inference path (dynamic quantization); train in fp32 or bf16')


def autocast(precision, device_type='cpu'):
    """The context the model runs under: bf16 autocast, or nothing for fp32 and int8."""
    check_precision(precision)
    if precision == 'bf16':
        return torch.autocast(device_type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@contextlib.contextmanager
def _quiet_quantization():
    """torch.ao.quantization announces its move to torchao; the eager API still works in this torch."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', UserWarning)
        yield


def _pack_int8(weight, bias):
    """fbgemm-packed int8 weight (out, in) with a symmetric scale per output row, and the fp32 bias."""
    scales = (weight.abs().amax(dim=1).clamp_min(1e-12) / 127).double()
    zero_points = torch.zeros(weight.size(0), dtype=torch.long)
    with _quiet_quantization():
        qweight = torch.quantize_per_channel(weight.float(), scales, zero_points, 0, torch.qint8)
        return torch.ops.quantized.linear_prepack(qweight, None if bias is None else bias.float())


class Int8Linear(nn.Module):
    """Inference stand-in for nn.Linear: y = x W^T + b with W in int8 and x quantized per call (per tensor)."""

    def __init__(self, linear):
        super().__init__()
        self.out_features = linear.out_features
        self.packed = _pack_int8(linear.weight.detach(), linear.bias)

    def forward(self, x):
        y = torch.ops.quantized.linear_dynamic(x.reshape(-1, x.size(-1)).float(), self.packed, False)
        return y.view(*x.shape[:-1], self.out_features)


def _conv_columns(x, kernel_size, padding=0, dilation=1):
    """im2col of a channels-last signal for a stride-1, zero-padded Conv1d: (B, T_in, C) -> (B, T_out, k * C),
    tap-major (columns i * C .. (i + 1) * C - 1 hold what tap i reads)."""
    padded = F.pad(x, (0, 0, padding, padding))
    n_out = padded.size(1) - dilation * (kernel_size - 1)
    return torch.cat([padded[:, i * dilation:i * dilation + n_out] for i in range(kernel_size)], dim=2)


class Int8Conv1d(nn.Module):
    """Inference stand-in for nn.Conv1d (stride 1, groups 1, zero padding): the kernel taps are laid side by side
    (time-major im2col) so that the convolution is one int8 matrix product over all positions.

    Takes and returns (B, C, T) like nn.Conv1d, or (B, T, C) when the replaced layer has `channels_last = True`
    (the WaveGlow WN layers): then no transposed copies are made either side.
    """

    def __init__(self, conv):
        super().__init__()
        if not _int8_convertible(conv):
            raise ValueError(f'Int8Conv1d: only stride 1, groups 1 and numeric zero padding are supported, got {conv}')
        self.kernel_size, self.padding, self.dilation = conv.kernel_size[0], conv.padding[0], conv.dilation[0]
        self.out_channels = conv.out_channels
        self.channels_last = getattr(conv, 'channels_last', False)
        # (out, in, k) -> (out, k * in): tap-major columns match the im2col rows built in forward
        weight = conv.weight.detach().permute(0, 2, 1).reshape(conv.out_channels, -1)
        self.packed = _pack_int8(weight, conv.bias)

    def forward(self, x):
        frames = (x if self.channels_last else x.transpose(1, 2)).float()  # (B, T, C_in)
        columns = (frames if self.kernel_size == 1 and self.padding == 0
                   else _conv_columns(frames, self.kernel_size, self.padding, self.dilation))
        y = torch.ops.quantized.linear_dynamic(columns.reshape(-1, columns.size(2)), self.packed, False)
        y = y.view(x.size(0), columns.size(1), self.out_channels)
        return y if self.channels_last else y.transpose(1, 2)


class Int8LSTMCell(nn.Module):
    """Inference stand-in for nn.LSTMCell: one int8 product per step, [input, hidden] against [W_ih | W_hh], so one
    input quantization and one call instead of two of each (Tacotron 2 decoding 303 -> 386-433 frames/s against
    torch's quantized LSTMCell, docs/performance.md)."""

    def __init__(self, cell):
        super().__init__()
        self.hidden_size = cell.hidden_size
        weight = torch.cat((cell.weight_ih, cell.weight_hh), dim=1).detach()
        self.packed = _pack_int8(weight, (cell.bias_ih + cell.bias_hh).detach())

    def forward(self, inputs, state):
        hidden, cell = state
        gates = torch.ops.quantized.linear_dynamic(torch.cat((inputs, hidden), dim=1).float(), self.packed, False)
        return lstm_update(gates, cell)


def _int8_convertible(conv):
    return (conv.stride[0] == 1 and conv.groups == 1 and conv.padding_mode == 'zeros'
            and not isinstance(conv.padding, str))


def _int8_replacement(module, min_weights):
    """The int8 stand-in for an LSTMCell, or a Linear or Conv1d with at least min_weights weights, else None."""
    if isinstance(module, nn.LSTMCell):
        return Int8LSTMCell(module)
    if isinstance(module, nn.Linear) and module.weight.numel() >= min_weights:
        return Int8Linear(module)
    if isinstance(module, nn.Conv1d) and module.weight.numel() >= min_weights and _int8_convertible(module):
        return Int8Conv1d(module)
    return None


def quantize_int8(model, min_weights=INT8_MIN_WEIGHTS):
    """An eval-mode copy of `model` with int8 dynamic quantization of its recurrent cells and of its linear layers
    and convolutions that have at least `min_weights` weights (the original is left as it is)."""
    model = copy.deepcopy(model).eval()
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            replacement = _int8_replacement(child, min_weights)
            if replacement is not None:
                setattr(parent, name, replacement)
    with _quiet_quantization():
        return torch.ao.quantization.quantize_dynamic(model, {nn.LSTM}, dtype=torch.qint8, inplace=True)


def for_inference(model, precision):
    """The model to call for inference at `precision` (int8 returns a quantized copy)."""
    check_precision(precision)
    return quantize_int8(model) if precision == 'int8' else model.eval()


def mel_l1(reference, test):
    """Mean absolute difference of two mel spectrograms (log-mel units), over the common frames."""
    n = min(reference.size(-1), test.size(-1))
    return (reference[..., :n].float() - test[..., :n].float()).abs().mean().item()


def snr_db(reference, test):
    """Signal-to-noise ratio of `test` against `reference` in dB (inf when they are equal)."""
    reference, test = reference.double(), test.double()
    noise = (reference - test).pow(2).sum()
    return (10 * torch.log10(reference.pow(2).sum() / noise)).item() if noise > 0 else float('inf')
