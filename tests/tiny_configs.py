"""Tiny model sizes for tests, as command-line flags (train.py takes them as they are) and as configs.

The one place that defines them: every test that needs a small model builds it from here.
"""
import argparse

import models
from common.data_args import add_audio_args

# FastPitch keeps one attention head: with several heads and a batch, the 1.0 reference attention mixes batch items
# (reproduced for parity, see fastpitch/transformer.py), which training tests should not depend on.
TINY_FLAGS = {
    'Tacotron2': ['--symbols-embedding-dim', '32', '--encoder-embedding-dim', '32', '--encoder-n-convolutions', '2',
                  '--attention-rnn-dim', '48', '--attention-dim', '16', '--attention-location-n-filters', '8',
                  '--decoder-rnn-dim', '48', '--prenet-dim', '16', '--postnet-embedding-dim', '32',
                  '--postnet-n-convolutions', '3', '--max-decoder-steps', '200'],
    'WaveGlow': ['--flows', '4', '--groups', '8', '--early-every', '2', '--early-size', '2',
                 '--wn-layers', '2', '--wn-channels', '16', '--segment-length', '2048'],
    'FastPitch': ['--symbols-embedding-dim', '32', '--in-fft-n-layers', '2', '--in-fft-n-heads', '1',
                  '--in-fft-d-head', '16', '--in-fft-conv1d-filter-size', '64', '--in-fft-output-size', '32',
                  '--out-fft-n-layers', '2', '--out-fft-n-heads', '1', '--out-fft-d-head', '16',
                  '--out-fft-conv1d-filter-size', '64', '--out-fft-output-size', '32',
                  '--dur-predictor-filter-size', '16', '--pitch-predictor-filter-size', '16'],
    # V3's layout (resblock 2) at 32 channels, two kernels and two periods, discriminators 1/32 as wide
    'HiFiGAN': ['--resblock', '2', '--upsample-rates', '8', '8', '4', '--upsample-kernel-sizes', '16', '16', '8',
                '--upsample-initial-channel', '32', '--resblock-kernel-sizes', '3', '5',
                '--resblock-dilation-sizes', '1,2', '2,6', '--mpd-periods', '2', '3',
                '--discriminator-channel-divisor', '32', '--segment-size', '2048'],
}


def tiny_args(model_name, extra=()):
    parser = models.model_spec(model_name).add_model_args(add_audio_args(argparse.ArgumentParser()))
    return parser.parse_args([*TINY_FLAGS[model_name], *extra])


def tiny_config(model_name, extra=()):
    """Constructor kwargs of the tiny model (extra flags, e.g. ['--n-mel-channels', '8'], override)."""
    return models.model_spec(model_name).model_config(tiny_args(model_name, extra))


def tiny_model(model_name, extra=(), seed=0):
    import torch
    torch.manual_seed(seed)
    return models.get_model(model_name, tiny_config(model_name, extra), 'cpu')
