"""Objective distances between a test output and its reference: mel spectrograms (log-magnitude mels, as
TacotronSTFT makes them), averaged over the valid frames of each item, and waveforms. The reference is a recording
(evaluate.py) or the fp32 output of the same model (the reduced-precision paths of common/precision.py).

* mel L1: mean absolute difference of the log-mels (natural log of magnitude).
* mel-cepstral distortion (MCD, dB): cepstra of the log *power* mel (twice our log-magnitude mel) by an orthonormal
  DCT-II, c0 (loudness) left out, MCD = 10/ln(10) * sqrt(2 * sum_d (c_d - c'_d)^2), averaged over frames.
  Computed on mel bands rather than on a vocoder's spectral envelope, so values are comparable between our runs,
  not with papers that use SPTK mel-cepstra.
* SNR (dB): energy of a reference signal over that of its difference from the test signal.
"""
import math

import torch

N_CEPSTRA = 13  # c0..c12; c0 is left out of the distortion


def _dct_matrix(n_in, n_out, dtype):
    """Orthonormal DCT-II basis (n_out, n_in)."""
    k = torch.arange(n_out, dtype=dtype)[:, None]
    n = torch.arange(n_in, dtype=dtype)[None, :]
    basis = torch.cos(math.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    basis[0] /= math.sqrt(2.0)
    return basis


def _valid_frames(mel, lengths):
    """(B, n_mel, T) and lengths -> (total_frames, n_mel) of the frames inside each length."""
    frames = mel.transpose(1, 2)
    mask = torch.arange(frames.size(1), device=mel.device)[None, :] < lengths[:, None]
    return frames[mask]


def mel_l1(predicted, target, lengths=None):
    """Over the frames both mels have (a reduced-precision run may stop at another decoder step than the fp32 one),
    and of those the ones inside each item's length when `lengths` are given."""
    n_frames = min(predicted.size(2), target.size(2))
    if lengths is None:
        lengths = torch.full((predicted.size(0),), n_frames, device=predicted.device)
    predicted, target = predicted[..., :n_frames].float(), target[..., :n_frames].float()
    return (_valid_frames(predicted, lengths) - _valid_frames(target, lengths)).abs().mean().item()


def mel_cepstral_distortion(predicted, target, lengths, n_cepstra=N_CEPSTRA):
    predicted, target = _valid_frames(predicted.double(), lengths), _valid_frames(target.double(), lengths)
    dct = _dct_matrix(predicted.size(1), n_cepstra, torch.float64).to(predicted.device)
    difference = (2 * predicted - 2 * target) @ dct[1:].T  # log power = 2 * log magnitude
    per_frame = 10.0 / math.log(10.0) * torch.sqrt(2.0 * (difference ** 2).sum(dim=1))
    return per_frame.mean().item()


def snr_db(reference, test):
    """Signal-to-noise ratio of `test` against `reference` in dB (inf when they are equal)."""
    reference, test = reference.double(), test.double()
    noise = (reference - test).pow(2).sum()
    return (10 * torch.log10(reference.pow(2).sum() / noise)).item() if noise > 0 else float('inf')
