"""Pitch targets for FastPitch: F0 per mel frame, averaged per input symbol, and its normalisation.

Two estimators, both searching 80-500 Hz (eSpeak's en-us voices sit at 180-230 Hz and LJSpeech's speaker between
about 100 and 400 Hz) and both giving one value per mel frame (frame t at sample t * hop_length, as the centred
STFT's), 0 Hz where unvoiced:
* 'praat': Praat's autocorrelation method (`to_pitch`, through praat-parselmouth), FastPitch 1.0's. Praat places
  its frames one hop apart but centred in the clip, so each mel frame takes the value interpolated between the two
  nearest Praat frames (linearly where both are voiced, else the nearer one's), extrapolated over the few frames at
  the clip's ends that Praat's window does not reach. A clip shorter than three periods of the lowest pitch
  (Praat's window) is unvoiced throughout.
* 'pyin': probabilistic YIN (`librosa.pyin`), FastPitch 1.1's, with window = filter_length and hop = hop_length,
  centred, so its frames are the mel frames. Narrowing its search from 65-2093 Hz costs ~0.1% in median F0 and is
  five times faster.
"""
import json
import math

import librosa
import numpy as np
import torch

from common.fileio import read_json, write_text_atomic

PITCH_FMIN = 80.0   # Hz, lowest F0 searched (the --pitch-fmin default)
PITCH_FMAX = 500.0  # Hz, highest F0 searched (the --pitch-fmax default)


class PitchStatsError(ValueError):
    """A pitch statistics file that is missing or malformed."""


PRAAT = 'praat'
PYIN = 'pyin'
PITCH_METHODS = (PRAAT, PYIN)
PRAAT_PERIODS_PER_WINDOW = 3  # Praat's autocorrelation window spans three periods of the pitch floor


class PitchError(ValueError):
    """A clip whose pitch cannot be estimated."""


def frame_pitch(audio, sampling_rate, frame_length, hop_length, fmin=PITCH_FMIN, fmax=PITCH_FMAX, method=PYIN):
    """F0 in Hz per frame (float32 tensor of len(audio) // hop_length + 1 values), 0 where unvoiced, by `method`
    (one of PITCH_METHODS)."""
    audio = audio.numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio)
    n_frames = len(audio) // hop_length + 1
    if method == PRAAT:
        f0 = praat_pitch(audio, sampling_rate, hop_length, n_frames, fmin, fmax)
    elif method == PYIN:
        f0 = pyin_pitch(audio, sampling_rate, frame_length, hop_length, fmin, fmax)
    else:
        raise ValueError(f'unknown pitch method {method!r}, expected one of {", ".join(PITCH_METHODS)}')
    return torch.from_numpy(f0.astype(np.float32))


def pyin_pitch(audio, sampling_rate, frame_length, hop_length, fmin, fmax):
    f0, voiced, _ = librosa.pyin(audio.astype(np.float32), fmin=fmin, fmax=fmax, sr=sampling_rate,
                                 frame_length=frame_length, hop_length=hop_length, center=True)
    return np.where(voiced & np.isfinite(f0), f0, 0.0)


def praat_pitch(audio, sampling_rate, hop_length, n_frames, fmin, fmax):
    if len(audio) <= PRAAT_PERIODS_PER_WINDOW * sampling_rate / fmin:
        return np.zeros(n_frames)
    import parselmouth  # here, not at the top: 70 MB that synthesis, which imports this package, never uses

    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=sampling_rate)
    try:
        track = sound.to_pitch(time_step=hop_length / sampling_rate, pitch_floor=fmin, pitch_ceiling=fmax)
    except parselmouth.PraatError as error:
        raise PitchError(f'Praat pitch analysis failed ({" ".join(str(error).split())})') from None
    f0 = track.selected_array['frequency']
    if len(f0) < 2:
        return np.full(n_frames, f0[0] if len(f0) else 0.0)
    # each mel frame's time in Praat frames, between (or, at the clip's ends, beyond) the two nearest
    position = (np.arange(n_frames) * hop_length / sampling_rate - track.x1) / track.dx
    below = np.clip(np.floor(position).astype(int), 0, len(f0) - 2)
    weight = position - below
    nearest = np.where(weight < 0.5, f0[below], f0[below + 1])
    both_voiced = (f0[below] > 0) & (f0[below + 1] > 0)
    return np.where(both_voiced, np.maximum((1 - weight) * f0[below] + weight * f0[below + 1], 0.0), nearest)


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
    stats = read_json(path, f'{path}: pitch statistics', PitchStatsError)
    try:
        mean, std = float(stats['mean']), float(stats['std'])
    except (KeyError, TypeError, ValueError) as error:
        raise PitchStatsError(f'{path}: expected JSON {{"mean": number, "std": number}} ({error!r})') from None
    if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise PitchStatsError(f'{path}: mean {mean} and std {std} must be finite and std positive')
    return mean, std


def normalize_pitch(pitch, mean, std):
    """(pitch - mean) / std for voiced symbols; unvoiced ones (0 Hz) stay 0."""
    return torch.where(pitch > 0, (pitch - mean) / std, torch.zeros((), dtype=pitch.dtype))
