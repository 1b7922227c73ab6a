"""Numeric precision, one module for training, inference and benchmarks.

A Precision is a name on a device type: fp32 (the exact path), fp16 or bf16 (torch.autocast: matrix products and
convolutions in 16 bits, weights and optimizer state in fp32; fp16 training scales its loss) or int8 (inference only:
dynamic quantization, below). The flags pick one: train.py's --amp/--amp-dtype through resolve_precision,
inference.py's --amp through inference_precision, the benchmarks' --precision by name. fp32 itself may use TF32 on
Ampere or newer GPUs (configure_backends, on the torch versions we support).

int8 stores weights as int8 with one scale per output channel, quantizes activations per call and accumulates in
int32 (fbgemm, VNNI on x86). It covers the recurrent cells and the linear layers and convolutions with at least
INT8_MIN_WEIGHTS weights. The quality cost is measured by common/quality.py's `mel_l1` and `snr_db`
(tests/test_precision.py, docs/performance.md).
"""
import contextlib
import copy
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from common.int8 import int8_product, pack_int8, quiet_quantization
from common.lstm_cells import Int8LSTMCell, fused_parameters

PRECISIONS = ('fp32', 'fp16', 'bf16', 'int8')
AMP_DTYPES = {'fp16': torch.float16, 'bf16': torch.bfloat16}
# Smaller layers stay fp32: quantizing their input each call costs more than the int8 product saves, and they include
# the one-output layers that decide stops and durations (Tacotron 2's gate, FastPitch's predictor heads).
INT8_MIN_WEIGHTS = 1 << 16


class PrecisionError(ValueError):
    """A precision that this device or this use cannot have; the message names the flag."""


@dataclass(frozen=True)
class Precision:
    device_type: str    # 'cpu' or 'cuda'
    name: str = 'fp32'  # one of PRECISIONS

    def __post_init__(self):
        if self.name not in PRECISIONS:
            raise PrecisionError(f'precision must be one of {", ".join(PRECISIONS)}, got {self.name!r}')

    @property
    def amp_dtype(self):
        return AMP_DTYPES.get(self.name)

    @property
    def uses_loss_scaling(self):
        """fp16 gradients underflow without a loss scale; bf16 has fp32's exponent range and needs none."""
        return self.name == 'fp16'

    def autocast(self):
        """The context the model runs under: autocast for fp16 and bf16, nothing for fp32 and int8."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.amp_dtype)

    def prepare_for_inference(self, model):
        """The model to call at this precision: an int8-quantized copy for int8, else the model in eval mode."""
        return quantize_int8(model) if self.name == 'int8' else model.eval()


def resolve_precision(device, amp, amp_dtype):
    """train.py's --amp/--amp-dtype on `device`: fp16 autocast on a CPU is refused rather than emulated, and bf16
    on a GPU without bf16 units (before Ampere, where torch would emulate it slowly) too."""
    if not amp:
        return Precision(device.type)
    if amp_dtype not in AMP_DTYPES:
        raise PrecisionError(f'--amp-dtype {amp_dtype!r}: choose one of {", ".join(AMP_DTYPES)}')
    if amp_dtype == 'fp16' and device.type != 'cuda':
        raise PrecisionError('--amp with --amp-dtype fp16 needs a CUDA device; on the CPU use --amp-dtype bf16')
    if amp_dtype == 'bf16' and device.type == 'cuda' and torch.cuda.get_device_capability(device)[0] < 8:
        raise PrecisionError(f'--amp-dtype bf16: {torch.cuda.get_device_name(device)} has no native bf16 (it needs '
                             'an Ampere or newer GPU); use --amp-dtype fp16')
    return Precision(device.type, amp_dtype)


def inference_precision(device, amp):
    """inference.py's --amp: float16 on a GPU, bfloat16 on the CPU (which has no fast float16 kernels)."""
    if not amp:
        return Precision(device.type)
    return Precision(device.type, 'fp16' if device.type == 'cuda' else 'bf16')


def configure_backends(device, cudnn_enabled, cudnn_benchmark, tf32, backends=torch.backends):
    """cuDNN switches, and TF32 for fp32 matmuls, convolutions and RNNs on Ampere or newer. Returns whether TF32 is
    on. The `allow_tf32` switches exist from torch 2.5 (NGC 24.x) to today's torch, where they also set the
    per-backend `fp32_precision` modes of torch 2.9+ consistently; setting those modes one by one instead leaves
    torch unable to answer `allow_tf32` and get_float32_matmul_precision() (it reports a mix of the two APIs). A
    torch without the legacy switches gets the new modes, all alike."""
    backends.cudnn.enabled = cudnn_enabled
    backends.cudnn.benchmark = cudnn_benchmark
    use_tf32 = tf32 and device.type == 'cuda' and torch.cuda.get_device_capability(device)[0] >= 8
    if hasattr(backends.cudnn, 'allow_tf32'):
        backends.cuda.matmul.allow_tf32 = use_tf32
        backends.cudnn.allow_tf32 = use_tf32
    else:
        for switch in (backends.cuda.matmul, backends.cudnn.conv, backends.cudnn.rnn):
            switch.fp32_precision = 'tf32' if use_tf32 else 'ieee'
    return use_tf32


class Int8Linear(nn.Module):
    """Inference stand-in for nn.Linear: y = x W^T + b with W in int8 and x quantized per call (per tensor)."""

    def __init__(self, linear):
        super().__init__()
        self.out_features = linear.out_features
        self.packed = pack_int8(linear.weight.detach(), linear.bias)

    def forward(self, x):
        y = int8_product(x.reshape(-1, x.size(-1)), self.packed)
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
        self.packed = pack_int8(weight, conv.bias)

    def forward(self, x):
        frames = (x if self.channels_last else x.transpose(1, 2)).float()  # (B, T, C_in)
        columns = (frames if self.kernel_size == 1 and self.padding == 0
                   else _conv_columns(frames, self.kernel_size, self.padding, self.dilation))
        y = int8_product(columns.reshape(-1, columns.size(2)), self.packed)
        y = y.view(x.size(0), columns.size(1), self.out_channels)
        return y if self.channels_last else y.transpose(1, 2)


def _int8_convertible(conv):
    return (conv.stride[0] == 1 and conv.groups == 1 and conv.padding_mode == 'zeros'
            and not isinstance(conv.padding, str))


def _int8_replacement(module, min_weights):
    """The int8 stand-in for an LSTMCell, or a Linear or Conv1d with at least min_weights weights, else None."""
    if isinstance(module, nn.LSTMCell):
        weight, bias = fused_parameters(module)
        return Int8LSTMCell(pack_int8(weight.detach(), bias.detach()))
    if isinstance(module, nn.Linear) and module.weight.numel() >= min_weights:
        return Int8Linear(module)
    if isinstance(module, nn.Conv1d) and module.weight.numel() >= min_weights and _int8_convertible(module):
        return Int8Conv1d(module)
    return None


def quantize_int8(model, min_weights=INT8_MIN_WEIGHTS):
    """An eval-mode copy of `model` with int8 dynamic quantization of its recurrent cells and of its linear layers
    and convolutions that have at least `min_weights` weights (the original is left as it is). A model with an
    int8 form of its own (an `int8_copy()` method) gets that instead."""
    if hasattr(model, 'int8_copy'):
        return model.int8_copy()
    model = copy.deepcopy(model).eval()
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            replacement = _int8_replacement(child, min_weights)
            if replacement is not None:
                setattr(parent, name, replacement)
    with quiet_quantization():
        return torch.ao.quantization.quantize_dynamic(model, {nn.LSTM}, dtype=torch.qint8, inplace=True)
