"""The HiFi-GAN log-mel spectrogram: the generator's input (fmax 8000 Hz) and the mel loss's (full band).

It differs from common/stft.py's TacotronSTFT (the Tacotron 2 / FastPitch mel) in its framing: the signal is
reflect-padded by (filter_length - hop) / 2 samples per side and transformed without centring, so a clip of L samples
gives L / hop frames (TacotronSTFT: L / hop + 1, centres 128 samples apart from these), and the magnitude is
sqrt(re^2 + im^2 + 1e-9). The Slaney mel filters and the log with its 1e-5 floor are the same.
"""
import torch
import torch.nn.functional as F
from torch import nn

from common.stft import dynamic_range_compression, slaney_mel_basis

MAGNITUDE_EPSILON = 1e-9  # inside the square root: keeps the gradient of silent bins finite


class HiFiGANMel(nn.Module):
    def __init__(self, filter_length=1024, hop_length=256, win_length=1024, n_mel_channels=80, sampling_rate=22050,
                 mel_fmin=0.0, mel_fmax=8000.0):
        super().__init__()
        if (filter_length - hop_length) % 2:
            raise ValueError(f'HiFi-GAN mel: --filter-length {filter_length} minus --hop-length {hop_length} must be '
                             'even (the signal is padded by half of it on each side)')
        self.filter_length, self.hop_length, self.win_length = filter_length, hop_length, win_length
        self.register_buffer('mel_basis', slaney_mel_basis(sampling_rate, filter_length, n_mel_channels, mel_fmin,
                                                           mel_fmax), persistent=False)
        self.register_buffer('window', torch.hann_window(win_length, periodic=True), persistent=False)

    def forward(self, audio):
        """audio (B, T) -> log-mel (B, n_mel_channels, T // hop_length), in float32 also under autocast (the log of
        nearly silent bins needs its precision)."""
        padding = (self.filter_length - self.hop_length) // 2
        with torch.autocast(audio.device.type, enabled=False):
            audio = F.pad(audio.float().unsqueeze(1), (padding, padding), mode='reflect').squeeze(1)
            spec = torch.stft(audio, self.filter_length, hop_length=self.hop_length, win_length=self.win_length,
                              window=self.window, center=False, return_complex=True)
            magnitude = torch.sqrt(torch.view_as_real(spec).pow(2).sum(-1) + MAGNITUDE_EPSILON)
            return dynamic_range_compression(torch.matmul(self.mel_basis, magnitude))


def mel_transforms(args):
    """(input mel, loss mel) at the audio flags: the loss mel spans the full band (--mel-fmax-loss, default None)."""
    kwargs = dict(filter_length=args.filter_length, hop_length=args.hop_length, win_length=args.win_length,
                  n_mel_channels=args.n_mel_channels, sampling_rate=args.sampling_rate, mel_fmin=args.mel_fmin)
    return HiFiGANMel(**kwargs, mel_fmax=args.mel_fmax), HiFiGANMel(**kwargs, mel_fmax=args.mel_fmax_loss)
