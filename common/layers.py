"""Linear and 1-D convolution layers with Xavier initialisation scaled for the nonlinearity that follows, and weight
norm in the form the reference checkpoints store.

The attribute names (`linear_layer`, `conv`) are part of the reference checkpoints' parameter names.
"""
import warnings

import torch
from torch import nn
from torch.nn import functional as F


class LinearNorm(nn.Module):
    def __init__(self, in_dim, out_dim, bias=True, w_init_gain='linear'):
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x):
        return self.linear_layer(x)


class ConvNorm(nn.Module):
    """Conv1d that keeps the sequence length for odd kernels ("same" padding by default)."""

    def __init__(self, in_channels, out_channels, kernel_size=1, stride=1, padding=None,
                 dilation=1, bias=True, w_init_gain='linear'):
        super().__init__()
        if padding is None:
            if kernel_size % 2 != 1:
                raise ValueError(f'ConvNorm needs an odd kernel_size for same padding, got {kernel_size}')
            padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                              padding=padding, dilation=dilation, bias=bias)
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, signal):
        return self.conv(signal)


class ChannelsLastConv1d(nn.Conv1d):
    """Conv1d (stride 1, zero padding, groups 1) on channels-last signals: (B, T, C_in) -> (B, T_out, C_out).

    Computed as one matrix product per kernel tap over the whole batch: the zero-padded items are laid end to end
    as rows, every tap multiplies the rows it reads (a shifted view, no copy) and accumulates in place, and the
    output is a strided view that skips the rows straddling two items. No im2col buffer, one padded copy of the
    input, and on CPU these row-major products run faster than the convolution (docs/performance.md). On a GPU it is
    one cuDNN convolution instead (as_one_convolution).
    The weight keeps nn.Conv1d's shape and state-dict name but is stored tap-major, so that every tap's
    (C_out, C_in) matrix is contiguous. `channels_last = True` tells common/precision.py to keep this convention
    when it swaps in an int8 layer.
    """
    channels_last = True

    def __init__(self, in_channels, out_channels, kernel_size=1, padding=0, dilation=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, padding=padding, dilation=dilation, bias=bias)
        self.store_tap_major()

    def store_tap_major(self):
        """Re-store the weight tap-major (again after weight norm is folded: that makes a plain tensor)."""
        self.weight = nn.Parameter(self.weight.detach().permute(2, 0, 1).contiguous().permute(1, 2, 0))

    def forward(self, x):
        if x.is_cuda or torch.jit.is_tracing():  # an export, too: the strided view below has no dynamic-shape form
            return self.as_one_convolution(x)
        kernel_size, padding, dilation = self.kernel_size[0], self.padding[0], self.dilation[0]
        if kernel_size == 1 and padding == 0:
            return F.linear(x, self.weight.squeeze(2), self.bias)
        batch, span = x.size(0), x.size(1) + 2 * padding
        rows = F.pad(x, (0, 0, padding, padding)).reshape(batch * span, self.in_channels)
        n_rows = batch * span - dilation * (kernel_size - 1)  # rows from which every tap stays in range
        taps = self.weight.unbind(2)  # contiguous (C_out, C_in) each when stored tap-major
        y = F.linear(rows[:n_rows], taps[0], self.bias)
        for tap in range(1, kernel_size):
            # in-place products are not autocast: they run in the dtype autocast gave the first tap's
            y.addmm_(rows[tap * dilation:tap * dilation + n_rows].to(y.dtype), taps[tap].t().to(y.dtype))
        # row b * span + t is output step t of item b; steps t >= span - dilation * (k - 1) straddle two items
        n_out = span - dilation * (kernel_size - 1)
        return y.as_strided((batch, n_out, self.out_channels), (span * self.out_channels, self.out_channels, 1))

    def as_one_convolution(self, x):
        """The same convolution as one library call (cuDNN on a GPU, where the per-tap products lose: k launches, and
        under fp16 k roundings instead of one). Channels-last in and out, as transposed views."""
        return F.conv1d(x.transpose(1, 2), self.weight, self.bias, padding=self.padding,
                        dilation=self.dilation).transpose(1, 2)


def weight_normed(module):
    """Weight norm in the form whose state-dict names (`weight_g`, `weight_v`) the reference checkpoints use.

    The parametrize-based replacement that torch recommends would store `parametrizations.weight.original0/1`,
    so the older hook-based function is kept and its deprecation notice silenced here. The weight it computes at
    once is computed without gradient (every forward computes it again), so that the module can be deep-copied
    until its first forward with gradients.
    """
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore', FutureWarning)
        return nn.utils.weight_norm(module, name='weight')
