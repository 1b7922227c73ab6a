"""Linear and 1-D convolution layers with Xavier initialisation scaled for the nonlinearity that follows.

The attribute names (`linear_layer`, `conv`) are part of the reference checkpoints' parameter names.
"""
import torch
from torch import nn


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
