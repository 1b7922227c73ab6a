"""fastpitch/pitch.py: both F0 estimators on synthetic glides at several sampling rates, one value per mel frame."""
import numpy as np
import pytest

from common.data_args import stft_preset
from fastpitch.pitch import PRAAT, PYIN, frame_pitch


def glide(sampling_rate, seconds=1.5, start_hz=120.0, end_hz=280.0):
    """A harmonic-rich tone whose F0 rises linearly -> (audio, F0 at each sample)."""
    time = np.arange(int(seconds * sampling_rate)) / sampling_rate
    f0 = start_hz + (end_hz - start_hz) * time / seconds
    phase = 2 * np.pi * np.cumsum(f0) / sampling_rate
    audio = sum(0.3 / harmonic * np.sin(harmonic * phase) for harmonic in (1, 2, 3))
    return audio.astype(np.float32), f0


@pytest.mark.parametrize('sampling_rate', [16000, 22050, 44100])
def test_praat_follows_a_glide_within_two_percent_per_frame(sampling_rate):
    filter_length, hop_length, _ = stft_preset(sampling_rate)
    audio, f0 = glide(sampling_rate)
    pitch = frame_pitch(audio, sampling_rate, filter_length, hop_length, method=PRAAT).numpy()
    assert pitch.shape == (len(audio) // hop_length + 1,)
    truth = f0[np.minimum(np.arange(len(pitch)) * hop_length, len(audio) - 1)]
    assert np.all(pitch > 0)
    assert np.max(np.abs(pitch / truth - 1)) < 0.02


@pytest.mark.slow
def test_pyin_agrees_with_praat_on_the_glide():
    sampling_rate = 22050
    audio, _ = glide(sampling_rate)
    praat, pyin = (frame_pitch(audio, sampling_rate, 1024, 256, method=method).numpy() for method in (PRAAT, PYIN))
    both = (praat > 0) & (pyin > 0)
    assert both.mean() > 0.9
    cents = 1200 * np.abs(np.log2(praat[both] / pyin[both]))
    assert np.median(cents) < 20


def test_silence_and_clips_shorter_than_praats_window_are_unvoiced():
    assert not frame_pitch(np.zeros(22050), 22050, 1024, 256, method=PRAAT).any()
    short = glide(22050, seconds=0.03)[0]  # under three periods of the 80 Hz floor
    assert frame_pitch(short, 22050, 1024, 256, method=PRAAT).tolist() == [0.0] * (len(short) // 256 + 1)
