"""Pitch targets for FastPitch: F0 per mel frame, averaged per input symbol, and its normalisation.

Estimator: probabilistic YIN (`librosa.pyin`) searching 80-500 Hz (eSpeak's en-us voices sit at 180-230 Hz and
LJSpeech's speaker between about 100 and 400 Hz; narrowing the search from 65-2093 Hz costs ~0.1% in median F0 and
is five times faster). Its frames are the mel frames: window = filter_length, hop = hop_length, centred, so frame t
of the pitch track and of the mel spectrogram describe the same audio. Unvoiced frames are 0 Hz.
"""
import json
import math
from pathlib import Path

import librosa
import numpy as np
import torch

from common.fileio import write_text_atomic

PITCH_FMIN = 80.0   # Hz, lowest F0 searched (the --pitch-fmin default)
PITCH_FMAX = 500.0  # Hz, highest F0 searched (the --pitch-fmax default)


class PitchStatsError(ValueError):
    """A pitch statistics file that is missing or malformed."""


def frame_pitch(audio, sampling_rate, frame_length, hop_length, fmin=PITCH_FMIN, fmax=PITCH_FMAX):
    """F0 in Hz per frame (float32 tensor of len(audio) // hop_length + 1 values), 0 where unvoiced."""
    audio = audio.numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio)
    f0, voiced, _ = librosa.pyin(audio.astype(np.float32), fmin=fmin, fmax=fmax, sr=sampling_rate,
                                 frame_length=frame_length, hop_length=hop_length, center=True)
    f0 = np.where(voiced & np.isfinite(f0), f0, 0.0)
    return torch.from_numpy(f0.astype(np.float32))


def char_pitch(pitch_per_frame, durations):
    """Mean F0 of the voiced frames of each symbol (its `durations` frames in order); 0 if none is voiced."""
    if int(durations.sum()) != pitch_per_frame.numel():
        raise ValueError(f'durations sum to {int(durations.sum())} frames but the pitch track has '
                         f'{pitch_per_frame.numel()}')
    symbol_of_frame = torch.repeat_interleave(torch.arange(durations.numel()), durations)
    voiced = (pitch_per_frame > 0).float()
    voiced_count = torch.zeros(durations.numel()).index_add_(0, symbol_of_frame, voiced)
    pitch_sum = torch.zeros(durations.numel()).index_add_(0, symbol_of_frame, pitch_per_frame.float() * voiced)
    return torch.where(voiced_count > 0, pitch_sum / voiced_count.clamp(min=1), torch.zeros(()))


def pitch_stats(pitches):
    """{'mean', 'std'} in Hz over the voiced (non-zero) values of all clips (1-D tensors per symbol or per frame)."""
    voiced = torch.cat([pitch[pitch > 0] for pitch in pitches]).double()
    if voiced.numel() < 2:
        raise ValueError(f'need at least two voiced values for pitch statistics, found {voiced.numel()}')
    return {'mean': voiced.mean().item(), 'std': voiced.std().item()}


def write_pitch_stats(path, stats):
    write_text_atomic(path, json.dumps(stats, indent=1) + '\n')


def read_pitch_stats(path):
    """(mean, std) from a JSON file {"mean": Hz, "std": Hz}, checked to be finite numbers with std > 0."""
    path = Path(path)
    try:
        stats = json.loads(path.read_text())
        mean, std = float(stats['mean']), float(stats['std'])
    except FileNotFoundError:
        raise PitchStatsError(f'{path}: no such pitch statistics file') from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise PitchStatsError(f'{path}: expected JSON {{"mean": number, "std": number}} ({error!r})') from None
    if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise PitchStatsError(f'{path}: mean {mean} and std {std} must be finite and std positive')
    return mean, std


def normalize_pitch(pitch, mean, std):
    """(pitch - mean) / std for voiced symbols; unvoiced ones (0 Hz) stay 0."""
    return torch.where(pitch > 0, (pitch - mean) / std, torch.zeros((), dtype=pitch.dtype))
