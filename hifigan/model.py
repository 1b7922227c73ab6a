"""The HiFi-GAN generator: mel spectrogram (B, n_mel, frames) -> audio (B, 1, frames * hop).

conv_pre widens the mel to `upsample_initial_channel` channels; each stage then upsamples by its rate with a
transposed convolution (halving the channels) and adds detail with multi-receptive-field fusion: the mean of
residual blocks of different kernel sizes and dilations. ResBlock1 (V1, V2) stacks three (dilated conv, conv)
residual pairs, ResBlock2 (V3) two dilated convs. A last leaky ReLU, conv_post and tanh give the waveform.

Parameter names and their order match NVIDIA DeepLearningExamples' HiFi-GAN checkpoints: every convolution is
weight-normed (`weight_g`, `weight_v`) as trained; `remove_weight_norm()` folds them into plain weights for
inference.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from common.layers import weight_normed

from .fast_inference import int8_generator

LRELU_SLOPE = 0.1  # between stages and inside the residual blocks; the last activation uses torch's default 0.01
RESBLOCK_DILATIONS = {'1': 3, '2': 2}  # dilated convolutions per residual block of each type
PRE_POST_KERNEL = 7


def same_padding(kernel_size, dilation=1):
    return (kernel_size * dilation - dilation) // 2


def _fold_weight_norm(module):
    """Replace weight_g/weight_v by the plain weight g * v / ||v|| (no-op on an already folded module)."""
    if 'weight_g' in module._parameters:
        nn.utils.remove_weight_norm(module, name='weight')


def _conv_reach(conv):
    """Input samples a (same-padded) convolution reads on either side of its output sample."""
    return conv.dilation[0] * (conv.kernel_size[0] - 1) // 2


class ResBlock1(nn.Module):
    """Three residual pairs: leaky ReLU, conv dilated by d_i, leaky ReLU, conv (dilation 1)."""

    def __init__(self, channels, kernel_size, dilations):
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_normed(nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=same_padding(kernel_size, d)))
            for d in dilations)
        self.convs2 = nn.ModuleList(
            weight_normed(nn.Conv1d(channels, channels, kernel_size, padding=same_padding(kernel_size)))
            for _ in dilations)

    def forward(self, x):
        for dilated, plain in zip(self.convs1, self.convs2):
            residual = dilated(F.leaky_relu(x, LRELU_SLOPE))
            x = x + plain(F.leaky_relu(residual, LRELU_SLOPE))
        return x

    def convolutions(self):
        return [*self.convs1, *self.convs2]


class ResBlock2(nn.Module):
    """Two residual steps: leaky ReLU, conv dilated by d_i. (The reference reads a slope it never sets and
    crashes; 0.1 is jik876/hifi-gan's value.)"""

    def __init__(self, channels, kernel_size, dilations):
        super().__init__()
        self.convs = nn.ModuleList(
            weight_normed(nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=same_padding(kernel_size, d)))
            for d in dilations)

    def forward(self, x):
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, LRELU_SLOPE))
        return x

    def convolutions(self):
        return list(self.convs)


RESBLOCKS = {'1': ResBlock1, '2': ResBlock2}


def check_config(upsample_rates, upsample_kernel_sizes, upsample_initial_channel, resblock, resblock_kernel_sizes,
                 resblock_dilation_sizes, n_mel_channels):
    """ValueError naming the constructor argument (and its flag) that cannot build a generator."""
    if resblock not in RESBLOCKS:
        raise ValueError(f'HiFi-GAN resblock (--resblock) must be one of {", ".join(RESBLOCKS)}, got {resblock!r}')
    if not upsample_rates or len(upsample_rates) != len(upsample_kernel_sizes):
        raise ValueError(f'HiFi-GAN: --upsample-rates {upsample_rates} and --upsample-kernel-sizes '
                         f'{upsample_kernel_sizes} must be non-empty and of the same length')
    for rate, kernel in zip(upsample_rates, upsample_kernel_sizes):
        # output length frames * rate needs kernel - rate = 2 * padding
        if rate < 1 or kernel < rate or (kernel - rate) % 2:
            raise ValueError(f'HiFi-GAN: upsampling kernel {kernel} for rate {rate} (--upsample-kernel-sizes, '
                             '--upsample-rates) must be at least the rate and differ from it by an even number')
    if upsample_initial_channel % 2 ** len(upsample_rates):
        raise ValueError(f'HiFi-GAN: --upsample-initial-channel {upsample_initial_channel} must be divisible by '
                         f'2 ** {len(upsample_rates)} (each upsampling stage halves the channels)')
    if not resblock_kernel_sizes or len(resblock_kernel_sizes) != len(resblock_dilation_sizes):
        raise ValueError(f'HiFi-GAN: --resblock-kernel-sizes {resblock_kernel_sizes} and --resblock-dilation-sizes '
                         f'{resblock_dilation_sizes} must be non-empty and of the same length')
    n_dilations = RESBLOCK_DILATIONS[resblock]
    for kernel, dilations in zip(resblock_kernel_sizes, resblock_dilation_sizes):
        if kernel % 2 == 0 or len(dilations) != n_dilations:
            raise ValueError(f'HiFi-GAN: resblock {resblock} takes odd kernel sizes and {n_dilations} dilations '
                             f'each (--resblock-kernel-sizes, --resblock-dilation-sizes), got kernel {kernel} with '
                             f'dilations {list(dilations)}')
    if n_mel_channels < 1:
        raise ValueError(f'HiFi-GAN: --n-mel-channels must be positive, got {n_mel_channels}')


class Generator(nn.Module):
    def __init__(self, upsample_rates, upsample_kernel_sizes, upsample_initial_channel, resblock,
                 resblock_kernel_sizes, resblock_dilation_sizes, n_mel_channels=80):
        super().__init__()
        check_config(upsample_rates, upsample_kernel_sizes, upsample_initial_channel, resblock,
                     resblock_kernel_sizes, resblock_dilation_sizes, n_mel_channels)
        self.n_mel_channels = n_mel_channels
        self.hop_length = math.prod(upsample_rates)  # audio samples per mel frame
        self.n_kernels = len(resblock_kernel_sizes)
        # Registration order fixes the state-dict order of the checkpoints.
        self.conv_pre = weight_normed(nn.Conv1d(n_mel_channels, upsample_initial_channel, PRE_POST_KERNEL,
                                                padding=same_padding(PRE_POST_KERNEL)))
        channels = [upsample_initial_channel // 2 ** i for i in range(len(upsample_rates) + 1)]
        self.ups = nn.ModuleList(
            weight_normed(nn.ConvTranspose1d(channels[i], channels[i + 1], kernel, stride=rate,
                                             padding=(kernel - rate) // 2))
            for i, (rate, kernel) in enumerate(zip(upsample_rates, upsample_kernel_sizes)))
        block = RESBLOCKS[resblock]
        self.resblocks = nn.ModuleList(
            nn.ModuleList(block(stage_channels, kernel, dilations)
                          for kernel, dilations in zip(resblock_kernel_sizes, resblock_dilation_sizes))
            for stage_channels in channels[1:])
        self.conv_post = weight_normed(nn.Conv1d(channels[-1], 1, PRE_POST_KERNEL,
                                                 padding=same_padding(PRE_POST_KERNEL)))

    def forward(self, mel):
        """mel (B, n_mel, frames) -> audio (B, 1, frames * hop_length) in [-1, 1]."""
        x = self.conv_pre(mel)
        for upsample, blocks in zip(self.ups, self.resblocks):
            x = upsample(F.leaky_relu(x, LRELU_SLOPE))
            total = None
            for block in blocks:
                total = block(x) if total is None else total + block(x)
            x = total / self.n_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))  # torch's default slope 0.01 here, as the reference

    def receptive_field_samples(self):
        """How many output samples away a change of the mel can move the output (a bound). Every layer reaches some
        of its own samples on either side: a convolution dilation * (kernel - 1) / 2, a transposed convolution
        (kernel - rate) / 2 beyond its input sample's span, a stage's residual blocks the largest sum over one
        block's convolutions (they run in sequence); each counts times the upsampling after it."""
        still_to_come = self.hop_length
        reach = _conv_reach(self.conv_pre) * still_to_come
        for upsample, blocks in zip(self.ups, self.resblocks):
            rate = upsample.stride[0]
            still_to_come //= rate
            stage = (upsample.kernel_size[0] - rate) // 2 + max(sum(map(_conv_reach, block.convolutions()))
                                                                   for block in blocks)
            reach += stage * still_to_come
        return reach + _conv_reach(self.conv_post)

    @torch.no_grad()
    def infer(self, mel):
        """Synthesis: mel (B, n_mel, frames) -> audio (B, frames * hop_length). Calls the class's forward: torch.hub's
        entry points make an instance's forward its infer."""
        return Generator.forward(self, mel).squeeze(1)

    def convolutions(self):
        return [self.conv_pre, *self.ups, *(conv for blocks in self.resblocks for block in blocks
                                            for conv in block.convolutions()), self.conv_post]

    def remove_weight_norm(self):
        """Fold weight norm into plain weights for inference (in place, idempotent; returns the model)."""
        for conv in self.convolutions():
            _fold_weight_norm(conv)
        return self

    def int8_copy(self):
        """--int8 (common.precision.quantize_int8): the whole generator statically quantized, calibrated on its
        first input (hifigan/fast_inference.py)."""
        return int8_generator(self)

    def has_weight_norm(self):
        return 'weight_g' in self.conv_pre._parameters
