"""Removes a vocoder's own steady "bias" noise from its output by spectral subtraction (WaveGlow, HiFi-GAN).

A vocoder fed an empty (all-zero) mel spectrogram does not stay silent: what it produces is a stationary noise
pattern that also sits under real speech. Its magnitude spectrum, scaled by `strength`, is subtracted from every
STFT frame of the audio, and the audio is rebuilt with its own phase.
"""
import torch
from torch import nn

from common.stft import STFT

BIAS_MEL_FRAMES = 88  # length of the silent mel used to measure the bias (only its first STFT frame is kept)


class Denoiser(nn.Module):
    def __init__(self, vocode, n_mel_channels, dtype=torch.float32, device=None, filter_length=1024, n_overlap=4,
                 win_length=1024, mode='zeros'):
        """`vocode`: mel (1, n_mel_channels, frames) of `dtype` on `device` -> audio (1, samples), deterministic
        (WaveGlow at sigma 0). The bias is measured on an all-zero mel, or ('normal') on standard normal noise."""
        super().__init__()
        shape = (1, n_mel_channels, BIAS_MEL_FRAMES)
        if mode == 'zeros':
            mel = torch.zeros(shape, dtype=dtype, device=device)
        elif mode == 'normal':
            mel = torch.randn(shape, device=device).to(dtype)
        else:
            raise ValueError(f"Denoiser mode must be 'zeros' or 'normal', got {mode!r}")
        self.stft = STFT(filter_length=filter_length, hop_length=filter_length // n_overlap,
                         win_length=win_length).to(device)
        with torch.no_grad():
            bias_audio = vocode(mel).float()
            bias_magnitude, _ = self.stft.transform(bias_audio)
        self.register_buffer('bias_spec', bias_magnitude[:, :, :1])

    def receptive_field_samples(self):
        """How many samples away a change of the audio can move the denoised audio: an STFT frame reads up to half
        a filter on either side of its centre and is added back over as much again; the frames near the ends read
        reflected audio. (Chunks of streamed audio must also start on the STFT's hop grid, as they do where the
        vocoder's hop is a multiple of filter_length / n_overlap: 256 by default.)"""
        return self.stft.filter_length

    def forward(self, audio, strength=0.1):
        """audio (B, T) -> denoised audio (B, T) in float32."""
        magnitude, phase = self.stft.transform(audio.float())
        magnitude = torch.clamp(magnitude - self.bias_spec * strength, min=0.0)
        return self.stft.inverse(magnitude, phase, length=audio.size(1))
