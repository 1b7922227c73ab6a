"""The denoiser (common/denoiser.py, here WaveGlow's) removes the vocoder's own bias noise from speech and leaves the
speech alone."""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.test_waveglow_model import TINY_CONFIG, tiny_waveglow
from waveglow.synthesis import waveglow_denoiser

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLING_RATE = 22050
# eSpeak NG keeps state between calls and cannot be re-initialised, so it speaks in a fresh process.
ESPEAK_SCRIPT = ('import sys; from common.corpus.espeak import find_backend, synthesize; '
                 "clip = synthesize(find_backend(), sys.argv[1], 'en-us+f3', 165, 50); "
                 'sys.stdout.buffer.write(clip.samples)')


def _harmonic_chirp(seconds=2.0):
    """Voice-like stand-in: a gliding 120-240 Hz fundamental with 1/h harmonics up to 5 kHz."""
    t = np.arange(int(seconds * SAMPLING_RATE)) / SAMPLING_RATE
    phase = 2 * np.pi * (120 * t + 30 * t ** 2)
    signal = sum(np.sin(h * phase) / h for h in range(1, 21))
    return 0.3 * signal / np.abs(signal).max()


@pytest.fixture(scope='module')
def speech():
    """A spoken sentence from eSpeak NG (float32 in [-1, 1]); a harmonic chirp where eSpeak is unavailable."""
    env = {**os.environ, 'PYTHONPATH': str(REPO_ROOT)}
    result = subprocess.run([sys.executable, '-c', ESPEAK_SCRIPT, 'Printing, in the only sense with which we are '
                             'at present concerned.'], capture_output=True, cwd=REPO_ROOT, env=env, timeout=60)
    if result.returncode == 0 and result.stdout:
        samples = np.frombuffer(result.stdout, dtype=np.int16).astype(np.float32) / 32768
    else:
        samples = _harmonic_chirp()
    return torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))


@pytest.fixture(scope='module')
def vocoder():
    return tiny_waveglow(seed=4)


def _energy(audio):
    return audio.double().pow(2).sum().item()


def test_bias_spectrum_comes_from_the_vocoder_on_silence(vocoder):
    denoiser = waveglow_denoiser(vocoder)
    assert denoiser.bias_spec.shape == (1, 513, 1)
    silence = torch.zeros(1, TINY_CONFIG['n_mel_channels'], 88)  # the mel size is the vocoder's (4 here)
    magnitude, _ = denoiser.stft.transform(vocoder.infer(silence, sigma=0.0))
    torch.testing.assert_close(denoiser.bias_spec, magnitude[:, :, :1])
    assert denoiser.bias_spec.max() > 0
    assert 'bias_spec' in denoiser.state_dict() and not any(k.startswith('WN') for k in denoiser.state_dict())


def test_denoiser_removes_the_hum_and_keeps_the_speech(vocoder, speech):
    denoiser = waveglow_denoiser(vocoder)
    bias = denoiser.bias_spec[0, :, 0]
    # The hum: a steady tone at the strongest non-DC frequency bin of the bias spectrum, at 30% of the speech's
    # RMS, starting at a crest (a Hann-windowed bin-centred tone of amplitude a has STFT magnitude 256 a there).
    # The strength scales the bias spectrum to the tone's magnitude at that bin.
    k = int(bias[1:].argmax()) + 1
    amplitude = 0.3 * math.sqrt(2) * speech.pow(2).mean().sqrt().item()
    hum = amplitude * torch.cos(2 * math.pi * k * torch.arange(speech.numel()) / 1024)
    strength = amplitude * 1024 / 4 / bias[k].item()

    hum_left = _energy(denoiser(hum[None], strength=strength)[0]) / _energy(hum)
    assert hum_left < 0.05, f'{hum_left:.1%} of the hum energy is left'
    denoised = denoiser((speech + hum)[None], strength=strength)[0]
    assert denoised.shape == speech.shape
    # spectral subtraction with the mixture's phase is not exact where speech and hum share a bin
    noise_left = _energy(denoised - speech) / _energy(hum)
    assert noise_left < 0.2, f'the denoised speech is off by {noise_left:.1%} of the hum energy'
    speech_kept = _energy(denoiser(speech[None], strength=strength)[0]) / _energy(speech)
    assert speech_kept > 0.9, f'only {speech_kept:.1%} of the speech energy is kept'


def test_zero_strength_gives_the_input_back(vocoder, speech):
    denoised = waveglow_denoiser(vocoder)(speech[None], strength=0.0)[0]
    torch.testing.assert_close(denoised, speech, atol=1e-4, rtol=0)


def test_normal_mode_and_bad_mode(vocoder):
    torch.manual_seed(0)
    assert waveglow_denoiser(vocoder, mode='normal').bias_spec.shape == (1, 513, 1)
    with pytest.raises(ValueError, match="mode must be 'zeros' or 'normal'"):
        waveglow_denoiser(vocoder, mode='uniform')
