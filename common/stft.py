"""Short-time Fourier transform, log-mel spectrogram and Griffin-Lim, matching the Tacotron 2 front end.

The reference computes its STFT as a strided convolution with a Hann-windowed DFT basis after reflect-padding
filter_length // 2 samples on each side; `torch.stft(center=True, pad_mode='reflect')` is the same transform, and
`torch.istft` is its overlap-add inverse with window-sum normalisation.
"""
import librosa
import torch
from torch import nn

LOG_CLIP = 1e-5  # floor before the log: silence maps to log(1e-5) ~= -11.5 instead of -inf


def dynamic_range_compression(x, C=1, clip_val=LOG_CLIP):
    """Natural log of a (linear) spectrogram, floored at clip_val and scaled by C."""
    return torch.log(torch.clamp(x, min=clip_val) * C)


def dynamic_range_decompression(x, C=1):
    """Inverse of dynamic_range_compression (the floor cannot be undone)."""
    return torch.exp(x) / C


def slaney_mel_basis(sampling_rate, filter_length, n_mel_channels, mel_fmin, mel_fmax):
    """librosa's Slaney-normalised mel filters (n_mel_channels, filter_length // 2 + 1) as float32; mel_fmax None
    means the Nyquist frequency. Bands above the Nyquist frequency would be empty (constant mel rows that look like
    data), so asking for them is an error naming the flags."""
    nyquist = sampling_rate / 2
    if mel_fmax is not None and mel_fmax > nyquist:
        raise ValueError(f'--mel-fmax {mel_fmax:g} Hz is above the Nyquist frequency of --sampling-rate '
                         f'{sampling_rate} ({nyquist:g} Hz): give --mel-fmax {nyquist:g} or less')
    if mel_fmin >= (nyquist if mel_fmax is None else mel_fmax):
        raise ValueError(f'--mel-fmin {mel_fmin:g} Hz must be below --mel-fmax '
                         f'({nyquist if mel_fmax is None else mel_fmax:g} Hz)')
    return torch.from_numpy(librosa.filters.mel(sr=sampling_rate, n_fft=filter_length, n_mels=n_mel_channels,
                                                fmin=mel_fmin, fmax=mel_fmax)).float()


class STFT(nn.Module):
    def __init__(self, filter_length=1024, hop_length=256, win_length=1024, window='hann'):
        super().__init__()
        if window != 'hann':
            raise ValueError(f"STFT supports only window='hann', got {window!r}")
        if win_length > filter_length:
            raise ValueError(f'--win-length {win_length} must not exceed --filter-length {filter_length} (the STFT '
                             'window lies within its frame)')
        self.filter_length = filter_length
        self.hop_length = hop_length
        self.win_length = win_length
        # Periodic Hann (scipy's fftbins=True); torch centres a shorter window inside filter_length as the reference does.
        self.register_buffer('window', torch.hann_window(win_length, periodic=True), persistent=False)

    def _stft_args(self):
        return dict(n_fft=self.filter_length, hop_length=self.hop_length, win_length=self.win_length,
                    window=self.window, center=True)

    def transform(self, audio):
        """audio (B, T) -> (magnitude, phase), each (B, filter_length // 2 + 1, T // hop_length + 1)."""
        if audio.dim() != 2:
            raise ValueError(f'STFT.transform expects audio of shape (batch, samples), got {tuple(audio.shape)}')
        if audio.size(1) <= self.filter_length // 2:
            raise ValueError(f'STFT.transform needs more than {self.filter_length // 2} samples for reflect padding, '
                             f'got {audio.size(1)}')
        spec = torch.stft(audio, pad_mode='reflect', return_complex=True, **self._stft_args())
        return spec.abs(), spec.angle()

    def inverse(self, magnitude, phase, length=None):
        """(magnitude, phase) (B, F, frames) -> audio (B, length or (frames - 1) * hop_length)."""
        spec = torch.polar(magnitude, phase)
        return torch.istft(spec, length=length, **self._stft_args())


def griffin_lim(magnitude, stft, n_iters=60, seed=0):
    """Audio (B, T) whose STFT magnitude approximates `magnitude` (B, F, frames).

    Starts from a uniformly random phase drawn from a private generator seeded with `seed` (so the result is
    reproducible and the global RNG is untouched), then alternates inverse and forward STFT n_iters times.
    """
    generator = torch.Generator().manual_seed(seed)
    phase = (torch.rand(magnitude.shape, generator=generator) * 2 - 1) * torch.pi
    phase = phase.to(device=magnitude.device, dtype=magnitude.dtype)
    audio = stft.inverse(magnitude, phase)
    for _ in range(n_iters):
        _, phase = stft.transform(audio)
        audio = stft.inverse(magnitude, phase)
    return audio


class TacotronSTFT(nn.Module):
    def __init__(self, filter_length=1024, hop_length=256, win_length=1024, n_mel_channels=80,
                 sampling_rate=22050, mel_fmin=0.0, mel_fmax=8000.0):
        super().__init__()
        self.n_mel_channels = n_mel_channels
        self.sampling_rate = sampling_rate
        self.stft_fn = STFT(filter_length, hop_length, win_length)
        mel_basis = slaney_mel_basis(sampling_rate, filter_length, n_mel_channels, mel_fmin, mel_fmax)
        self.register_buffer('mel_basis', mel_basis)
        # Least-squares way back from mel bands to linear frequency bins (Griffin-Lim only).
        self.register_buffer('mel_basis_pinv', torch.linalg.pinv(mel_basis), persistent=False)

    def mel_spectrogram(self, audio):
        """audio (B, T) float in [-1, 1] -> log-mel (B, n_mel_channels, T // hop_length + 1)."""
        if audio.numel() and (audio.min() < -1 or audio.max() > 1):
            raise ValueError(f'mel_spectrogram expects audio in [-1, 1], got values in '
                             f'[{audio.min().item():.4g}, {audio.max().item():.4g}] (int16 audio must be divided by '
                             f'max_wav_value first)')
        magnitude, _ = self.stft_fn.transform(audio)
        return dynamic_range_compression(torch.matmul(self.mel_basis, magnitude))

    def mel_to_magnitude(self, mel_log):
        """Log-mel (B, n_mel, frames) -> non-negative linear magnitude (B, filter_length // 2 + 1, frames)."""
        mel = dynamic_range_decompression(mel_log)
        return torch.clamp(torch.matmul(self.mel_basis_pinv, mel), min=0.0)

    def griffin_lim_from_mel(self, mel_log, n_iters=60):
        """Log-mel (B, n_mel, frames) -> audio (B, (frames - 1) * hop_length) by Griffin-Lim."""
        return griffin_lim(self.mel_to_magnitude(mel_log), self.stft_fn, n_iters=n_iters)


@torch.no_grad()
def mel_from_audio(stft, audio):
    """Log-mel spectrogram (n_mel, frames) of one clip (T,) in [-1, 1], by a TacotronSTFT: what every model's
    data and prepare_dataset.py compute, so that mels on disk and mels computed on the fly are the same."""
    return stft.mel_spectrogram(audio.unsqueeze(0)).squeeze(0)
