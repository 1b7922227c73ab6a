"""HiFi-GAN's two discriminators, each a set of sub-discriminators that score real and generated audio (B, 1, T).

* MultiPeriodDiscriminator: per period p, the signal is reflect-padded at the end to a multiple of p and folded to
  (B, 1, T / p, p), so that 2-D convolutions with (k, 1) kernels see every p-th sample: periodic structure.
* MultiScaleDiscriminator: 1-D grouped convolutions on the raw signal and on its 2x and 4x average-pooled versions
  (each scale pools the previous scale's input once more); the first is spectral-normed, the others weight-normed.

Both return (real scores, fake scores, real feature maps, fake feature maps): per sub-discriminator the flattened
scores of its last convolution, and every convolution's output (after leaky ReLU, except the last) as feature maps.
Real and fake audio go through each sub-discriminator in separate calls, real first: in train mode the
spectral-normed one does one power iteration per call, so both calls count.

Channel widths are the reference's (`channel_divisor` 1); a divisor d scales every width c > 1 to c // d, at least 1
(MPD) or 16 (MSD, whose grouped convolutions need 16 channels), the way the golden test data shrinks them.
Parameter names and their order match NVIDIA DeepLearningExamples' discriminator checkpoints.
"""
import torch.nn.functional as F
from torch import nn

from common.layers import weight_normed

from .model import LRELU_SLOPE, same_padding

MPD_PERIODS = (2, 3, 5, 7, 11)
MPD_WIDTHS = (32, 128, 512, 1024, 1024)
MPD_KERNEL, MPD_STRIDE, MPD_POST_KERNEL = 5, 3, 3
# MSD convolutions: (out channels, kernel, stride, groups), input 1 channel
MSD_LAYERS = ((128, 15, 1, 1), (128, 41, 2, 4), (256, 41, 2, 16), (512, 41, 4, 16), (1024, 41, 4, 16),
              (1024, 41, 1, 16), (1024, 5, 1, 1))
MSD_POST_KERNEL = 3
MSD_MIN_WIDTH = 16  # the widest group count
N_SCALES = 3


def _scaled(width, divisor, minimum):
    return width if width == 1 else max(minimum, width // divisor)


def _scores_and_fmaps(convs, conv_post, x):
    fmaps = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE)
        fmaps.append(x)
    x = conv_post(x)
    fmaps.append(x)
    return x.flatten(1), fmaps


class PeriodDiscriminator(nn.Module):
    def __init__(self, period, channel_divisor=1):
        super().__init__()
        self.period = period
        widths = [1] + [_scaled(w, channel_divisor, 1) for w in MPD_WIDTHS]
        strides = [MPD_STRIDE] * (len(MPD_WIDTHS) - 1) + [1]
        self.convs = nn.ModuleList(
            weight_normed(nn.Conv2d(c_in, c_out, (MPD_KERNEL, 1), (stride, 1), padding=(same_padding(MPD_KERNEL), 0)))
            for c_in, c_out, stride in zip(widths, widths[1:], strides))
        self.conv_post = weight_normed(nn.Conv2d(widths[-1], 1, (MPD_POST_KERNEL, 1),
                                                 padding=(same_padding(MPD_POST_KERNEL), 0)))

    def forward(self, audio):
        """audio (B, 1, T) -> (scores (B, n), feature maps)."""
        remainder = audio.size(2) % self.period
        if remainder:
            audio = F.pad(audio, (0, self.period - remainder), mode='reflect')
        folded = audio.view(audio.size(0), audio.size(1), -1, self.period)
        return _scores_and_fmaps(self.convs, self.conv_post, folded)


class ScaleDiscriminator(nn.Module):
    def __init__(self, spectral_norm=False, channel_divisor=1):
        super().__init__()
        norm = nn.utils.spectral_norm if spectral_norm else weight_normed
        widths = [1] + [_scaled(width, channel_divisor, MSD_MIN_WIDTH) for width, *_ in MSD_LAYERS]
        self.convs = nn.ModuleList(
            norm(nn.Conv1d(c_in, c_out, kernel, stride, groups=groups, padding=same_padding(kernel)))
            for c_in, c_out, (_, kernel, stride, groups) in zip(widths, widths[1:], MSD_LAYERS))
        self.conv_post = norm(nn.Conv1d(widths[-1], 1, MSD_POST_KERNEL, padding=same_padding(MSD_POST_KERNEL)))

    def forward(self, audio):
        """audio (B, 1, T) -> (scores (B, n), feature maps)."""
        return _scores_and_fmaps(self.convs, self.conv_post, audio)


def _score_pairs(discriminators, inputs):
    """Each discriminator on its (real, fake) pair -> (real scores, fake scores, real fmaps, fake fmaps)."""
    real_scores, fake_scores, real_fmaps, fake_fmaps = [], [], [], []
    for discriminator, (real, fake) in zip(discriminators, inputs):
        score, fmaps = discriminator(real)
        real_scores.append(score)
        real_fmaps.append(fmaps)
        score, fmaps = discriminator(fake)
        fake_scores.append(score)
        fake_fmaps.append(fmaps)
    return real_scores, fake_scores, real_fmaps, fake_fmaps


class MultiPeriodDiscriminator(nn.Module):
    def __init__(self, periods=MPD_PERIODS, channel_divisor=1):
        super().__init__()
        self.discriminators = nn.ModuleList(PeriodDiscriminator(p, channel_divisor) for p in periods)

    def forward(self, real, fake):
        return _score_pairs(self.discriminators, [(real, fake)] * len(self.discriminators))


class MultiScaleDiscriminator(nn.Module):
    def __init__(self, channel_divisor=1):
        super().__init__()
        self.discriminators = nn.ModuleList(ScaleDiscriminator(spectral_norm=i == 0, channel_divisor=channel_divisor)
                                            for i in range(N_SCALES))
        self.meanpools = nn.ModuleList(nn.AvgPool1d(4, 2, padding=1) for _ in range(N_SCALES - 1))

    def forward(self, real, fake):
        inputs = [(real, fake)]
        for pool in self.meanpools:  # cumulative: scale i sees the signal pooled i times
            real, fake = pool(real), pool(fake)
            inputs.append((real, fake))
        return _score_pairs(self.discriminators, inputs)
