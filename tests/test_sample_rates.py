"""Sampling rates other than LJSpeech's: the STFT presets, an eSpeak corpus at 16 and 44.1 kHz through preprocessing,
a tiny FastPitch's training and inference, a corpus of mixed rates (an error, or --resample), and checkpoints that
refuse a run at another rate."""
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

import inference
import models
import prepare_dataset
import train
from common.checkpoint import save_checkpoint
from common.corpus import build
from common.data_args import STFT_PRESETS, stft_kwargs
from common.splits import write_split_filelists
from fastpitch.benchmark import pin_durations
from fastpitch.durations import mel_frame_count
from tests.commands import run_main
from tests.tiny_configs import TINY_FLAGS, tiny_config, tiny_model

CLIPS = 4


def prepare_args(*argv):
    return prepare_dataset.parse_args(['-d', '.', '--wav-text-filelist', 'f', '--extract-mels', *argv])


def test_sampling_rate_picks_its_stft_preset_and_given_sizes_win():
    assert STFT_PRESETS[22050] == (1024, 256, 1024) and STFT_PRESETS[44100] == (2048, 512, 2048)
    for rate, (filter_length, hop_length, win_length) in STFT_PRESETS.items():
        stft = stft_kwargs(prepare_args('--sampling-rate', str(rate)))
        assert (stft['filter_length'], stft['hop_length'], stft['win_length']) == (filter_length, hop_length,
                                                                                   win_length)
        assert 10 <= 1000 * hop_length / rate <= 12.5  # a frame rate like LJSpeech's 86 per second
    for argv in (['--hop-length', '300', '--sampling-rate', '16000'], ['--sampling-rate', '16000', '--hop-length',
                                                                        '300']):
        stft = stft_kwargs(prepare_args(*argv))
        assert (stft['filter_length'], stft['hop_length'], stft['win_length']) == (1024, 300, 800)


@pytest.fixture(scope='module', params=[16000, 44100])
def corpus_at(request, espeak_backend, tmp_path_factory):
    """(rate, a tiny eSpeak corpus built at that rate and prepared for FastPitch 1.0)."""
    rate = request.param
    root = tmp_path_factory.mktemp(f'espeak_{rate}')
    assert build.main(['--output', str(root), '--num-clips', str(CLIPS), '--sampling-rate', str(rate)]) == 0
    write_split_filelists(root / 'metadata.csv', root / 'filelists', 'espeak')
    filelists = sorted((root / 'filelists').glob('espeak_audio_text_*_filelist.txt'))
    code, lines = run_main(prepare_dataset.main, ['-d', root, '--wav-text-filelist', *filelists, '--sampling-rate',
                                                  rate, '--extract-mels', '--extract-durations', '--extract-pitch'])
    assert code == 0, lines[-1:]
    return rate, root


@pytest.mark.slow
def test_a_corpus_at_another_rate_is_prepared_with_its_preset(corpus_at):
    rate, root = corpus_at
    _, hop_length, _ = STFT_PRESETS[rate]
    for wav in sorted((root / 'wavs').glob('*.wav')):
        info = sf.info(str(wav))
        timings = json.loads((root / 'timings' / f'{wav.stem}.json').read_text())
        assert info.samplerate == timings['sampling_rate'] == rate and info.frames == timings['num_samples']
        mel = torch.load(root / 'mels' / f'{wav.stem}.pt', weights_only=True)
        assert mel.size(1) == mel_frame_count(info.frames, hop_length)
        durations = torch.load(root / 'durations' / f'{wav.stem}.pt', weights_only=True)
        assert int(durations.sum()) == mel.size(1)
        pitch = torch.load(root / 'pitch_char' / f'{wav.stem}.pt', weights_only=True)
        assert 150 < pitch[pitch > 0].median() < 300  # en-us+f3 sits near 200 Hz at any rate
    assert json.loads((root / 'mels' / 'preprocessing.json').read_text())['--hop-length'] == hop_length


@pytest.mark.slow
def test_a_tiny_fastpitch_trains_and_speaks_at_that_rate(corpus_at, tmp_path):
    rate, root = corpus_at
    _, hop_length, _ = STFT_PRESETS[rate]
    lists = root / 'filelists'
    output = tmp_path / 'fastpitch'
    argv = ['-m', 'FastPitch', '-o', output, '-d', root, '--sampling-rate', rate,
            '--training-files', lists / 'espeak_mel_dur_pitch_text_train_filelist.txt',
            '--validation-files', lists / 'espeak_mel_dur_pitch_text_val_filelist.txt',
            '--pitch-mean-std-file', root / 'pitch_char_stats__espeak_audio_text_train_filelist.json',
            '-lr', '0.1', '-bs', '2', '--epochs', '1', '--workers', '0', '--no-tensorboard', *TINY_FLAGS['FastPitch']]
    code, lines = run_main(train.main, argv)
    assert code == 0, lines[-1:]
    trained = torch.load(output / 'checkpoint_FastPitch_last.pt', weights_only=True)
    assert trained['train_setup']['sampling_rate'] == rate
    # one epoch teaches no lengths: its duration predictor is pinned to 4 frames a symbol to speak something
    model = pin_durations(models.get_model('FastPitch', trained['config'], 'cpu'), 4)
    model.load_state_dict({**trained['state_dict'], **{key: value for key, value in model.state_dict().items()
                                                       if key.startswith('duration_predictor.fc.')}})
    checkpoint = tmp_path / 'fastpitch.pt'
    save_checkpoint({**trained, 'state_dict': model.state_dict()}, checkpoint)

    phrases = tmp_path / 'phrases.txt'
    phrases.write_text('Hello there.\n')
    code, lines = run_main(inference.main, ['-i', phrases, '-o', tmp_path / 'audio', '--fastpitch', checkpoint,
                                            '--sampling-rate', rate])
    assert code == 0, lines[-1:]
    info = sf.info(str(tmp_path / 'audio' / 'audio_0.wav'))
    assert info.samplerate == rate and info.frames > 0 and info.frames % hop_length == 0  # one hop per mel frame

    # at another rate, the generator and a vocoder trained elsewhere are refused, each by its flag
    code, lines = run_main(inference.main, ['-i', phrases, '--fastpitch', checkpoint])
    assert code == 1 and lines == [f'inference.py: error: --fastpitch {checkpoint}: trained on {rate} Hz audio, '
                                   f'this run has --sampling-rate 22050: give --sampling-rate {rate}, or a '
                                   'checkpoint trained at 22050 Hz']
    rate_flag = argv.index('--sampling-rate')
    code, lines = run_main(train.main, [*argv[:rate_flag], *argv[rate_flag + 2:], '-o', tmp_path / 'warm',
                                        '--checkpoint-path', checkpoint])
    assert code == 1 and lines[-1] == (f'train.py: error: --checkpoint-path {checkpoint}: trained on {rate} Hz audio, '
                                       f'this run has --sampling-rate 22050: give --sampling-rate {rate}, or a '
                                       'checkpoint trained at 22050 Hz')
    hifigan = tmp_path / 'hifigan.pt'
    save_checkpoint({'model_name': 'HiFiGAN', 'config': tiny_config('HiFiGAN'),
                     'state_dict': tiny_model('HiFiGAN').state_dict(), 'train_setup': {'sampling_rate': 22050}},
                    hifigan)
    code, lines = run_main(inference.main, ['-i', phrases, '--fastpitch', checkpoint, '--hifigan', hifigan,
                                            '--sampling-rate', rate])
    assert code == 1 and lines == [f'inference.py: error: --hifigan {hifigan}: trained on 22050 Hz audio, this run '
                                   f'has --sampling-rate {rate}: give --sampling-rate 22050, or a checkpoint trained '
                                   f'at {rate} Hz']


def test_a_clip_at_another_rate_is_named_and_resample_converts_it(corpus_dir, tmp_path):
    root = tmp_path / 'mixed'
    (root / 'wavs').mkdir(parents=True)
    shutil.copy(corpus_dir / 'wavs' / 'ES001-0001.wav', root / 'wavs')
    audio, rate = sf.read(corpus_dir / 'wavs' / 'ES001-0002.wav', dtype='float32')
    resampled = np.interp(np.arange(0, len(audio), rate / 16000), np.arange(len(audio)), audio)
    sf.write(root / 'wavs' / 'at16k.wav', resampled, 16000, subtype='PCM_16')
    filelist = tmp_path / 'list.txt'
    filelist.write_text('wavs/ES001-0001.wav|hello\nwavs/at16k.wav|hello there\n')
    argv = ['-d', root, '--wav-text-filelist', filelist, '--extract-mels', '--workers', '1']
    code, lines = run_main(prepare_dataset.main, argv)
    assert code == 1 and lines[-1] == (f'prepare_dataset.py: error: {filelist}:2: {root}/wavs/at16k.wav: sampled at '
                                       '16000 Hz, expected 22050 Hz (--sampling-rate; --resample converts it)')
    assert not (root / 'mels').exists()

    code, lines = run_main(prepare_dataset.main, [*argv, '--resample'])
    assert code == 0, lines[-1:]
    frames = torch.load(root / 'mels' / 'at16k.pt', weights_only=True).size(1)
    assert abs(frames - mel_frame_count(round(len(resampled) * 22050 / 16000), 256)) <= 1
