"""WAV reading and writing: scaling, round trip, atomic writes, and one-line errors that name the file."""
import numpy as np
import pytest
import soundfile as sf
import torch

from common import audio as audio_module
from common.audio import AudioError, load_wav, save_wav

RATE = 22050


def assert_audio_error(path, fragment, expected_sampling_rate=RATE):
    with pytest.raises(AudioError) as error:
        load_wav(path, expected_sampling_rate)
    message = str(error.value)
    assert str(path) in message and fragment in message, message
    assert '\n' not in message


def test_loads_int16_pcm_divided_by_32768(tmp_path):
    samples = np.array([0, 1, -1, 16384, -32768, 32767], dtype=np.int16)
    path = tmp_path / 'int16.wav'
    sf.write(path, samples, RATE, subtype='PCM_16')
    audio, rate = load_wav(path, RATE)
    assert rate == RATE and audio.dtype == torch.float32 and audio.shape == (6,)
    torch.testing.assert_close(audio, torch.from_numpy(samples.astype(np.float32) / 32768), atol=0, rtol=0)


def test_loads_float_wav_unchanged(tmp_path):
    samples = np.linspace(-1, 1, 101, dtype=np.float32)
    path = tmp_path / 'float.wav'
    sf.write(path, samples, RATE, subtype='FLOAT')
    audio, _ = load_wav(str(path), RATE)
    torch.testing.assert_close(audio, torch.from_numpy(samples), atol=0, rtol=0)


def test_save_load_round_trip_is_16_bit_and_clipped(tmp_path):
    audio = torch.rand(3000, generator=torch.Generator().manual_seed(0)) * 2 - 1
    audio[:2] = torch.tensor([1.7, -2.5])  # out of range: clipped, not wrapped around
    path = tmp_path / 'out' / 'round.wav'  # the missing folder is created
    save_wav(path, audio, RATE)
    assert sf.info(path).subtype == 'PCM_16'
    restored, rate = load_wav(path, RATE)
    assert rate == RATE
    torch.testing.assert_close(restored[:2], torch.tensor([32767 / 32768, -1.0]), atol=0, rtol=0)
    torch.testing.assert_close(restored[2:], audio[2:], atol=0.5 / 32768 + 1e-7, rtol=0)
    assert sorted(p.name for p in path.parent.iterdir()) == ['round.wav']  # no temporary left behind


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / 'keep.wav'
    save_wav(path, np.full(100, 0.25), RATE)
    real_write = sf.write

    def write_half_then_fail(file, data, *args, **kwargs):
        real_write(file, data[:10], *args, **kwargs)
        raise OSError('disk full')
    monkeypatch.setattr(audio_module.sf, 'write', write_half_then_fail)
    with pytest.raises(OSError, match='disk full'):
        save_wav(path, np.zeros(100), RATE)
    monkeypatch.undo()

    audio, _ = load_wav(path, RATE)
    assert audio.shape == (100,) and torch.all(audio == 0.25)
    assert [p.name for p in tmp_path.iterdir()] == ['keep.wav']


def test_save_rejects_multichannel_and_nan(tmp_path):
    with pytest.raises(AudioError, match='shape'):
        save_wav(tmp_path / 'stereo.wav', np.zeros((2, 100)), RATE)
    with pytest.raises(AudioError, match='non-finite'):
        save_wav(tmp_path / 'nan.wav', np.array([0.0, np.nan]), RATE)
    assert not any(tmp_path.iterdir())


def test_missing_file(tmp_path):
    assert_audio_error(tmp_path / 'missing.wav', 'no such file')


def test_not_a_wav(tmp_path):
    path = tmp_path / 'text.wav'
    path.write_text('this is not audio\n')
    assert_audio_error(path, 'not a readable WAV file')


def test_other_audio_format_is_not_a_wav(tmp_path):
    path = tmp_path / 'clip.flac'
    sf.write(path, np.zeros(100, dtype=np.int16), RATE, format='FLAC')
    assert_audio_error(path, 'FLAC file, expected WAV')


def test_stereo(tmp_path):
    path = tmp_path / 'stereo.wav'
    sf.write(path, np.zeros((100, 2), dtype=np.int16), RATE)
    assert_audio_error(path, '2 channels, expected mono')


def test_wrong_sampling_rate(tmp_path):
    path = tmp_path / 'cd.wav'
    sf.write(path, np.zeros(100, dtype=np.int16), 44100)
    assert_audio_error(path, '44100 Hz, expected 22050 Hz')


def test_empty(tmp_path):
    path = tmp_path / 'empty.wav'
    sf.write(path, np.zeros(0, dtype=np.int16), RATE)
    assert_audio_error(path, 'empty (0 samples)')


def test_float_samples_out_of_range(tmp_path):
    path = tmp_path / 'loud.wav'
    sf.write(path, np.array([0.0, 1.5, -0.2], dtype=np.float32), RATE, subtype='FLOAT')
    assert_audio_error(path, 'float samples reach 1.5')


def test_a_header_promising_more_samples_than_the_file_holds(tmp_path):
    path = tmp_path / 'truncated.wav'
    sf.write(path, np.zeros(RATE, dtype=np.int16), RATE, subtype='PCM_16')
    path.write_bytes(path.read_bytes()[:RATE])  # an interrupted copy: the header still promises RATE samples
    assert_audio_error(path, f'its header promises {RATE} samples but the file holds {(RATE - 44) // 2}')


def test_resample_converts_another_rate_on_request(tmp_path):
    path = tmp_path / 'rate16k.wav'
    time = np.arange(16000) / 16000
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * time), 16000, subtype='PCM_16')
    assert_audio_error(path, 'sampled at 16000 Hz, expected 22050 Hz')
    audio, rate = load_wav(path, RATE, resample=True)
    assert rate == RATE and audio.dtype == torch.float32 and abs(audio.numel() - RATE) <= 1
    spectrum = np.abs(np.fft.rfft(audio.numpy()))
    assert abs(np.argmax(spectrum) * RATE / audio.numel() - 440) < 2  # the same tone at the new rate
