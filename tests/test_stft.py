"""The audio front end: golden log-mel parity, STFT inversion, Griffin-Lim on real (eSpeak NG) speech."""
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from common.stft import (STFT, TacotronSTFT, dynamic_range_compression, dynamic_range_decompression,
                         griffin_lim, mel_from_audio)

# Synthesizes one sentence with the eSpeak NG library and writes raw int16 samples to stdout. It runs in a fresh
# process because the library keeps state between calls and cannot be re-initialised (ESPEAK_NOTES.md).
ESPEAK_SNIPPET = r'''
import ctypes, sys
import numpy as np
import espeakng_loader
lib = ctypes.CDLL(espeakng_loader.get_library_path())
chunks = []
@ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
def on_audio(wav, n, events):
    if n > 0:
        chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
    return 0
rate = lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0)
if rate != 22050:
    sys.exit(f'espeak_Initialize returned {rate}')
lib.espeak_SetSynthCallback(on_audio)
lib.espeak_SetVoiceByName(b'en-us+f3')
text = sys.argv[1].encode()
lib.espeak_Synth(text, len(text) + 1, 0, 1, 0, 0x1000, None, None)
lib.espeak_Synchronize()
sys.stdout.buffer.write(np.concatenate(chunks).astype('<i2').tobytes())
'''


@pytest.fixture(scope='module')
def speech():
    """About three seconds of eSpeak NG speech at 22050 Hz, (1, T) float in [-1, 1]."""
    pytest.importorskip('espeakng_loader', reason='eSpeak NG library (python package espeakng-loader) not installed')
    result = subprocess.run([sys.executable, '-c', ESPEAK_SNIPPET, 'Printing, in the only sense with which we '
                             'are at present concerned, differs from most arts.'], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    samples = np.frombuffer(result.stdout, dtype='<i2').astype(np.float32) / 32768
    assert samples.size > 22050, 'eSpeak NG produced less than a second of audio'
    return torch.from_numpy(samples).unsqueeze(0)


def test_mel_matches_reference(load_reference):
    golden = load_reference('golden_mel.pt')
    stft = TacotronSTFT(**golden['stft'], sampling_rate=golden['sampling_rate'])
    audio = golden['audio_int16'].float() / golden['max_wav_value']
    mel = stft.mel_spectrogram(audio.unsqueeze(0))[0]
    assert mel.shape == golden['mel'].shape
    torch.testing.assert_close(mel, golden['mel'], atol=1e-4, rtol=0)


def test_mel_from_audio_gives_one_clip_the_golden_mel_outside_autograd(load_reference):
    golden = load_reference('golden_mel.pt')
    stft = TacotronSTFT(**golden['stft'], sampling_rate=golden['sampling_rate'])
    audio = (golden['audio_int16'].float() / golden['max_wav_value']).requires_grad_()
    mel = mel_from_audio(stft, audio)
    assert not mel.requires_grad  # data loading builds no graph
    torch.testing.assert_close(mel, golden['mel'], atol=1e-4, rtol=0)


def test_mel_spectrogram_rejects_int16_scaled_audio():
    audio = torch.tensor([[0.0, 1200.0, -3000.0] * 400])
    with pytest.raises(ValueError, match=r'\[-1, 1\]'):
        TacotronSTFT().mel_spectrogram(audio)


def test_transform_is_the_windowed_dft_of_reflect_padded_frames():
    # Independent of torch.stft: frame k is samples [k*hop, k*hop + n_fft) of the signal reflect-padded by n_fft/2.
    n_fft, hop = 64, 16
    audio = torch.randn(1, 200, generator=torch.Generator().manual_seed(0))
    magnitude, phase = STFT(n_fft, hop, n_fft).transform(audio)
    padded = np.pad(audio[0].numpy(), n_fft // 2, mode='reflect')
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    assert magnitude.shape == phase.shape == (1, n_fft // 2 + 1, 200 // hop + 1)
    for k in (0, 5, 12):
        expected = np.fft.rfft(padded[k * hop:k * hop + n_fft] * window)
        np.testing.assert_allclose(torch.polar(magnitude, phase)[0, :, k].numpy(), expected, atol=1e-4)


@pytest.mark.parametrize('filter_length, hop_length, win_length', [(1024, 256, 1024), (256, 64, 200)])
def test_inverse_undoes_transform(filter_length, hop_length, win_length):
    t = torch.arange(5000) / 22050
    chirp = 0.5 * torch.sin(2 * torch.pi * (200 + 2000 * t) * t)
    audio = torch.stack([chirp, 0.1 * torch.randn(5000, generator=torch.Generator().manual_seed(1))])
    stft = STFT(filter_length, hop_length, win_length)
    restored = stft.inverse(*stft.transform(audio), length=audio.size(1))
    torch.testing.assert_close(restored, audio, atol=1e-5, rtol=0)
    # Without `length` the output covers the whole frames: (frames - 1) * hop samples.
    assert stft.inverse(*stft.transform(audio)).shape == (2, (5000 // hop_length) * hop_length)


def test_transform_rejects_too_short_audio():
    with pytest.raises(ValueError, match='512 samples'):
        STFT().transform(torch.zeros(1, 300))


def test_dynamic_range_round_trip_above_the_floor():
    x = torch.tensor([1e-7, 1e-5, 0.3, 4.0])
    compressed = dynamic_range_compression(x)
    assert compressed[0] == compressed[1] == pytest.approx(np.log(1e-5))
    torch.testing.assert_close(dynamic_range_decompression(compressed), torch.tensor([1e-5, 1e-5, 0.3, 4.0]))


def test_griffin_lim_is_seeded_and_leaves_global_rng_alone():
    stft = STFT(256, 64, 256)
    magnitude, _ = stft.transform(torch.randn(1, 2000))
    rng_before = torch.get_rng_state()
    first = griffin_lim(magnitude, stft, n_iters=3, seed=7)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert torch.equal(first, griffin_lim(magnitude, stft, n_iters=3, seed=7))
    assert not torch.equal(first, griffin_lim(magnitude, stft, n_iters=3, seed=8))


def spectral_convergence(target, audio, stft):
    magnitude, _ = stft.transform(audio)
    return ((target - magnitude).norm() / target.norm()).item()


def test_griffin_lim_from_mel_recovers_speech_magnitude(speech):
    taco = TacotronSTFT()
    mel = taco.mel_spectrogram(speech)
    target = taco.mel_to_magnitude(mel)
    assert target.shape == (1, 513, mel.size(2)) and target.min() >= 0

    audio = taco.griffin_lim_from_mel(mel, n_iters=20)
    assert audio.shape == (1, (mel.size(2) - 1) * 256)
    random_phase = (torch.rand(target.shape, generator=torch.Generator().manual_seed(3)) * 2 - 1) * torch.pi
    baseline = spectral_convergence(target, taco.stft_fn.inverse(target, random_phase), taco.stft_fn)
    converged = spectral_convergence(target, audio, taco.stft_fn)
    assert converged < 0.5 * baseline, f'Griffin-Lim {converged:.3f} vs random phase {baseline:.3f}'


@pytest.mark.parametrize('sampling_rate, mel_fmin, mel_fmax, words', [
    (8000, 0.0, 8000.0, '--mel-fmax 8000 Hz is above the Nyquist frequency of --sampling-rate 8000 (4000 Hz)'),
    (22050, 9000.0, 8000.0, '--mel-fmin 9000 Hz must be below --mel-fmax (8000 Hz)'),
    (16000, 8000.0, None, '--mel-fmin 8000 Hz must be below --mel-fmax (8000 Hz)'),
])
def test_mel_bands_outside_the_signal_are_refused(sampling_rate, mel_fmin, mel_fmax, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        TacotronSTFT(sampling_rate=sampling_rate, mel_fmin=mel_fmin, mel_fmax=mel_fmax)


def test_mel_bands_up_to_the_nyquist_frequency_are_all_filled():
    mel_basis = TacotronSTFT(sampling_rate=16000, mel_fmax=8000.0).mel_basis
    assert (mel_basis.sum(1) > 0).all()
