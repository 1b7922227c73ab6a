"""inference.py end to end (tiny checkpoints of ours and the golden reference-format ones), and the input handling
of common/text_batching.py."""
import contextlib
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch

import inference
from fastpitch.benchmark import pin_durations
from fastpitch.synthesis import build_pitch_transform
from common.checkpoint import save_checkpoint
from common.precision import inference_precision
from common.logger import read_json_log
from common.text import text_to_sequence
from common.text_batching import (PhraseFileError, fade_out, fade_out_part, length_sorted_batches, pad_sequences,
                                  read_phrases, split_into_pieces)
from hifigan.synthesis import HiFiGANVocoder
from models import model_spec
from tests.test_streaming import audible_waveglow
from tests.tiny_configs import tiny_config, tiny_model

REPO = Path(__file__).resolve().parents[1]
HOP = 256
FRAMES_PER_SYMBOL = 5  # the tiny FastPitch's duration predictor is pinned to this, so lengths are known exactly
EIGHT_MELS = ['--n-mel-channels', '8']  # the golden WaveGlow's mel size; also keeps tiny WaveGlows small
PAUSE_SAMPLES = round(inference.SENTENCE_PAUSE_S * 22050 / HOP) * HOP


def _save(path, name, model, extra):
    save_checkpoint({'model_name': name, 'config': tiny_config(name, extra), 'state_dict': model.state_dict()}, path)
    return str(path)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp('checkpoints')
    fastpitch = pin_durations(tiny_model('FastPitch', EIGHT_MELS), FRAMES_PER_SYMBOL)
    tacotron2 = tiny_model('Tacotron2', EIGHT_MELS)
    with torch.no_grad():  # the stop gate never fires: every item runs into max_decoder_steps
        tacotron2.decoder.gate_layer.linear_layer.weight.zero_()
        tacotron2.decoder.gate_layer.linear_layer.bias.fill_(-1e3)
    return {
        'fastpitch': _save(folder / 'fastpitch.pt', 'FastPitch', fastpitch, EIGHT_MELS),
        'tacotron2': _save(folder / 'tacotron2.pt', 'Tacotron2', tacotron2, EIGHT_MELS),
        'waveglow': _save(folder / 'waveglow.pt', 'WaveGlow', tiny_model('WaveGlow', EIGHT_MELS), EIGHT_MELS),
    }


def _write(path, lines):
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return str(path)


def _n_symbols(text):
    return len(text_to_sequence(text, ['english_cleaners']))


def _wav(path):
    info = sf.info(str(path))
    assert (info.samplerate, info.subtype, info.channels) == (22050, 'PCM_16', 1)
    return sf.read(str(path), dtype='int16')[0]


def _synthesize(capsys, *argv):
    rc = inference.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return captured


def test_unsorted_batch_comes_back_in_input_order(tmp_path, checkpoints, capsys):
    lines = ['Hi there.', '', 'This line is much longer than the first one, so it sorts first.', 'Medium length.']
    phrases = _write(tmp_path / 'in.txt', lines)
    out = tmp_path / 'out'
    _synthesize(capsys, '-i', phrases, '-o', out, '--fastpitch', checkpoints['fastpitch'],
                '--waveglow', checkpoints['waveglow'], '-bs', '2', '--save-mels')
    # Named by line: the blank line 2 has no file; lengths follow the lines, not the length-sorted batches.
    assert sorted(p.name for p in out.glob('*.wav')) == ['audio_0.wav', 'audio_2.wav', 'audio_3.wav']
    for index in (0, 2, 3):
        frames = FRAMES_PER_SYMBOL * _n_symbols(lines[index])
        mel = torch.load(out / f'audio_{index}_mel.pt', weights_only=True)
        assert mel.shape == (8, frames)
        assert len(_wav(out / f'audio_{index}.wav')) == frames * HOP


def test_golden_waveglow_scripted_and_eager_agree(tmp_path, checkpoints, reference_dir, capsys):
    phrases = _write(tmp_path / 'in.txt', ['The golden vocoder speaks.', 'Twice.'])
    common = ['-i', phrases, '--fastpitch', checkpoints['fastpitch'], '--waveglow',
              reference_dir / 'golden_waveglow_ckpt.pt', '--sigma-infer', '0', '--wn-channels', '256']
    eager = _synthesize(capsys, *common, '-o', tmp_path / 'eager')
    assert '--wn-channels 256 ignored' in eager.err  # the golden WaveGlow has 16 channels
    scripted = _synthesize(capsys, *common, '-o', tmp_path / 'scripted', '--torchscript')
    assert 'WaveGlow: scripted WN (4 modules)' in scripted.out
    for name in ('audio_0.wav', 'audio_1.wav'):
        eager_audio, scripted_audio = _wav(tmp_path / 'eager' / name), _wav(tmp_path / 'scripted' / name)
        assert len(eager_audio) == len(scripted_audio) > 0
        assert np.abs(eager_audio.astype(int) - scripted_audio).max() <= 1


def test_hifigan_eager_traced_and_int8_speak_the_same_lines(tmp_path, checkpoints, capsys):
    hifigan = _save(tmp_path / 'hifigan.pt', 'HiFiGAN', tiny_model('HiFiGAN', EIGHT_MELS), EIGHT_MELS)
    phrases = _write(tmp_path / 'in.txt', ['The first line calibrates.', 'The second is vocoded later.'])
    common = ['-i', phrases, '--fastpitch', checkpoints['fastpitch'], '--hifigan', hifigan, '--include-warmup']
    _synthesize(capsys, *common, '-o', tmp_path / 'eager')
    traced = _synthesize(capsys, *common, '-o', tmp_path / 'traced', '--torchscript')
    assert '--torchscript: HiFiGAN: traced as one frozen graph' in traced.out
    _synthesize(capsys, *common, '-o', tmp_path / 'int8', '--int8', 'hifigan')
    for name in ('audio_0.wav', 'audio_1.wav'):
        eager = _wav(tmp_path / 'eager' / name).astype(float)
        assert eager.std() > 0
        assert np.abs(_wav(tmp_path / 'traced' / name) - eager).max() <= 1
        int8 = _wav(tmp_path / 'int8' / name)
        assert len(int8) == len(eager)
        assert 10 * np.log10((eager ** 2).mean() / ((int8 - eager) ** 2).mean()) > 20  # 29.8 dB here


@pytest.mark.parametrize('flag, checkpoint', [('--tacotron2', 'golden_tacotron2_ckpt.pt'),
                                              ('--fastpitch', 'golden_fastpitch10_ckpt.pt')])
def test_golden_mel_generators_with_griffin_lim(tmp_path, reference_dir, capsys, flag, checkpoint):
    phrases = _write(tmp_path / 'in.txt', ['Reference weights, our pipeline.'])
    out = tmp_path / 'out'
    captured = _synthesize(capsys, '-i', phrases, '-o', out, flag, reference_dir / checkpoint, '--save-mels')
    assert 'Griffin-Lim' in captured.out
    mel = torch.load(out / 'audio_0_mel.pt', weights_only=True)
    assert mel.shape[0] == 80 and mel.shape[1] > 0
    assert len(_wav(out / 'audio_0.wav')) == mel.shape[1] * HOP


def test_long_paragraph_is_split_and_every_sentence_spoken(tmp_path, checkpoints, capsys):
    sentences = ['The first sentence is short.', 'Dr. Lee wrote the second one, which runs on a little longer.',
                 'A third follows!', 'Is the fourth a question?']
    phrases = _write(tmp_path / 'in.txt', [' '.join(sentences)] + sentences)
    out = tmp_path / 'out'
    _synthesize(capsys, '-i', phrases, '-o', out, '--fastpitch', checkpoints['fastpitch'],
                '--waveglow', checkpoints['waveglow'], '-bs', '3')
    paragraph = _wav(out / 'audio_0.wav')
    parts = [_wav(out / f'audio_{i}.wav') for i in range(1, len(sentences) + 1)]
    assert len(paragraph) == sum(map(len, parts)) + (len(parts) - 1) * PAUSE_SAMPLES
    start = 0
    for part in parts:  # each sentence is there, with a silent pause after all but the last
        assert np.abs(paragraph[start:start + len(part)]).max() > 0
        start += len(part)
        assert not paragraph[start:start + PAUSE_SAMPLES].any()
        start += PAUSE_SAMPLES


def test_tacotron2_reaching_max_decoder_steps_is_reported_per_line(tmp_path, checkpoints, capsys):
    phrases = _write(tmp_path / 'in.txt', ['First line.', '', 'Third line.'])
    out = tmp_path / 'out'
    captured = _synthesize(capsys, '-i', phrases, '-o', out, '--tacotron2', checkpoints['tacotron2'],
                           '--waveglow', checkpoints['waveglow'], '--max-decoder-steps', '12')
    warned = [line for line in captured.err.splitlines() if 'max_decoder_steps (12)' in line]
    assert [line.split(': ')[1] for line in warned] == [f'{phrases}:1', f'{phrases}:3']
    records = [r['data'] for r in read_json_log(out / inference.DEFAULT_LOG_NAME) if r['step'] == 'warning']
    assert [(r['event'], r['line']) for r in records] == [('max_decoder_steps_reached', 1),
                                                          ('max_decoder_steps_reached', 3)]
    assert len(_wav(out / 'audio_0.wav')) == 12 * HOP


def test_benchmark_logs_runs_and_a_summary_with_measured_percentiles(tmp_path, checkpoints, capsys):
    phrases = _write(tmp_path / 'in.txt', ['One phrase.', 'And another one.'])
    log_file = tmp_path / 'bench.json'
    captured = _synthesize(capsys, '-i', phrases, '--fastpitch', checkpoints['fastpitch'], '-bs', '1',
                           '--waveglow', checkpoints['waveglow'],
                           '--repeats', '3', '--warmup-steps', '2', '--include-warmup', '--log-file', log_file)
    records = read_json_log(log_file)
    runs = [r['data'] for r in records if str(r['step']).startswith('run ')]
    assert len(runs) == 6
    for run in runs:
        assert run['latency'] >= run['generator_latency'] + run['vocoder_latency'] - 1e-9
        assert run['mel_frames'] * HOP == run['audio_samples'] and run['utterances'] == run['batch_size'] == 1
    [summary] = [r['data'] for r in records if r['step'] == []]
    for key, label, _ in inference.latency.SUMMARY_ROWS:
        assert key in summary and label in captured.out
    measured = [run['latency'] for run in runs[2:]]  # the warm-up steps are left out
    assert summary['runs'] == 4
    assert summary['latency_mean'] == pytest.approx(np.mean(measured))
    assert summary['latency_std'] == pytest.approx(np.std(measured))
    for q in (50, 90, 95, 99):
        assert summary[f'latency_p{q}'] == pytest.approx(np.percentile(measured, q))
    assert summary['latency_max'] == pytest.approx(max(measured))
    assert summary['realtime_factor'] == pytest.approx(
        sum(run['audio_samples'] for run in runs[2:]) / 22050 / sum(measured))
    assert (summary['batch_size'], summary['precision'], summary['device']) == (1, 'fp32', 'cpu')


def test_fastpitch_pace_pitch_transforms_and_amp(tmp_path, checkpoints, capsys):
    text = 'Faster, please.'
    phrases = _write(tmp_path / 'in.txt', [text])
    out = tmp_path / 'out'
    captured = _synthesize(capsys, '-i', phrases, '-o', out, '--fastpitch', checkpoints['fastpitch'], '--cpu',
                           '--waveglow', checkpoints['waveglow'], '--pace', '2', '--amp',
                           '--pitch-transform-flatten', '--pitch-transform-invert',
                           '--pitch-transform-amplify', '2', '--pitch-transform-shift', '30')
    assert 'precision: bf16' in captured.out
    # 5 frames / pace 2 = 2.5, rounded half to even: 2 frames per symbol
    assert len(_wav(out / 'audio_0.wav')) == 2 * _n_symbols(text) * HOP


def test_int8_tacotron2_stays_close_to_fp32(tmp_path, checkpoints, capsys):
    """--int8 quantizes the named model (the tiny Tacotron 2's LSTM cells always are): the mel moves a little."""
    phrases = _write(tmp_path / 'in.txt', ['Quantized weights, nearly the same voice.'])
    common = ['-i', phrases, '--tacotron2', checkpoints['tacotron2'], '--max-decoder-steps', '40', '--save-mels']
    _synthesize(capsys, *common, '-o', tmp_path / 'fp32')
    captured = _synthesize(capsys, *common, '-o', tmp_path / 'int8', '--int8', 'tacotron2')
    assert 'precision: fp32, int8 tacotron2' in captured.out
    fp32, int8 = (torch.load(tmp_path / run / 'audio_0_mel.pt', weights_only=True) for run in ('fp32', 'int8'))
    assert fp32.shape == int8.shape
    difference = (fp32 - int8).abs().mean().item()
    assert 0 < difference < 0.05 * fp32.abs().mean().item()


def test_int8_needs_the_named_model(tmp_path, checkpoints, capsys):
    phrases = _write(tmp_path / 'in.txt', ['Hello.'])
    assert inference.main(['-i', phrases, '--fastpitch', checkpoints['fastpitch'], '--int8', 'waveglow']) == 1
    assert 'inference.py: error: --int8 waveglow: no --waveglow checkpoint is given' in capsys.readouterr().err


def test_pitch_transform_flags_compose_in_order():
    args = inference.build_parser().parse_args(['-i', 'x', '--fastpitch', 'y'])
    assert build_pitch_transform(args) is None
    pitch, lengths = torch.tensor([[1.0, -2.0, 0.5]]), torch.tensor([3])
    args.pitch_transform_invert, args.pitch_transform_amplify, args.pitch_transform_shift = True, 3.0, 20.0
    transformed = build_pitch_transform(args)(pitch, lengths, 200.0, 40.0)
    assert torch.allclose(transformed, -pitch * 3.0 + 0.5)
    args.pitch_transform_flatten = True
    assert torch.allclose(build_pitch_transform(args)(pitch, lengths, 200.0, 40.0), torch.full((1, 3), 0.5))


def test_flags_and_checkpoints_that_do_not_go_together(tmp_path, reference_dir, capsys):
    phrases = _write(tmp_path / 'in.txt', ['Hello.'])
    assert inference.main(['-i', phrases, '--tacotron2', 'unused.pt', '--pace', '1.5']) == 1
    assert 'inference.py: error: --pace: only with --fastpitch' in capsys.readouterr().err
    waveglow = reference_dir / 'golden_waveglow_ckpt.pt'
    fastpitch = reference_dir / 'golden_fastpitch10_ckpt.pt'
    assert inference.main(['-i', phrases, '--fastpitch', str(fastpitch), '--waveglow', str(waveglow)]) == 1
    assert f'makes 80-band mels but --waveglow {waveglow} expects 8' in capsys.readouterr().err


def test_bad_inputs_fail_with_one_line_errors(tmp_path, reference_dir, checkpoints):
    """Each case runs as its own process, all at once; each must exit non-zero with one line naming the problem."""
    phrases = _write(tmp_path / 'in.txt', ['Hello.'])
    empty = _write(tmp_path / 'empty.txt', [''])
    corrupt = tmp_path / 'corrupt.pt'
    corrupt.write_bytes(b'this is not a checkpoint' * 8)
    blocker = tmp_path / 'a_file'
    blocker.write_text('a file where a folder should be')
    cases = {
        'missing input': (['-i', tmp_path / 'missing.txt', '--fastpitch', checkpoints['fastpitch']],
                          'missing.txt: no such input file'),
        'empty input': (['-i', empty, '--fastpitch', checkpoints['fastpitch']], 'empty.txt: no text to synthesize'),
        'waveglow as tacotron2': (['-i', phrases, '--tacotron2', reference_dir / 'golden_waveglow_ckpt.pt'],
                                  '--tacotron2: ' + str(reference_dir / 'golden_waveglow_ckpt.pt') +
                                  ': holds a WaveGlow checkpoint, not Tacotron2'),
        'corrupt checkpoint': (['-i', phrases, '--fastpitch', checkpoints['fastpitch'], '--waveglow', corrupt],
                               f'--waveglow: {corrupt}: not a readable torch checkpoint'),
        'unwritable output': (['-i', phrases, '--fastpitch', checkpoints['fastpitch'], '-o', blocker / 'out'],
                              f'-o {blocker / "out"}: cannot write there'),
    }
    processes = {name: subprocess.Popen([sys.executable, 'inference.py', *map(str, argv)], cwd=REPO,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name, (argv, _) in cases.items()}
    for name, process in processes.items():
        _, err = process.communicate(timeout=300)
        expected = cases[name][1]
        assert process.returncode == 1, f'{name}: exit {process.returncode}, stderr {err!r}'
        assert 'Traceback' not in err, f'{name}: {err}'
        error_lines = [line for line in err.splitlines() if line.startswith('inference.py: error:')]
        assert len(error_lines) == 1 and expected in error_lines[0], f'{name}: {err!r}'


# --stream

STREAM_LINES = ['One line.', '', 'A second. Two!']
STREAM_CHUNK = ['--stream-chunk-frames', '16']  # several chunks per sentence (5 frames per symbol)


@pytest.fixture(scope='module')
def stream_vocoders(tmp_path_factory):
    """Tiny vocoders that make sound: HiFi-GAN as drawn, WaveGlow with its couplings drawn (silent at sigma 0
    otherwise); both with the generator's 8 mel bands."""
    folder = tmp_path_factory.mktemp('stream_vocoders')
    return {'--hifigan': [_save(folder / 'hifigan.pt', 'HiFiGAN', tiny_model('HiFiGAN', EIGHT_MELS), EIGHT_MELS)],
            '--waveglow': [_save(folder / 'waveglow.pt', 'WaveGlow', audible_waveglow(EIGHT_MELS), EIGHT_MELS),
                           '--sigma-infer', '0']}


def _stream_inputs(tmp_path, checkpoints, stream_vocoders, vocoder):
    phrases = _write(tmp_path / 'in.txt', STREAM_LINES)
    return ['-i', phrases, '--fastpitch', checkpoints['fastpitch'], vocoder, *stream_vocoders[vocoder]]


@pytest.mark.parametrize('vocoder', ['--hifigan', '--waveglow'])
def test_stream_writes_the_wavs_of_batch_size_1(tmp_path, checkpoints, stream_vocoders, capsys, vocoder):
    """Chunk by chunk, with the pauses and fades of the batch path: -bs 1's WAVs to one 16-bit step (WaveGlow at
    sigma 0 with its default denoiser), one measured run per line with its time to first audio."""
    inputs = _stream_inputs(tmp_path, checkpoints, stream_vocoders, vocoder)
    _synthesize(capsys, *inputs, '-o', tmp_path / 'whole', '-bs', '1')
    streamed = _synthesize(capsys, *inputs, '-o', tmp_path / 'stream', '--stream', *STREAM_CHUNK)
    for name in ('audio_0.wav', 'audio_2.wav'):
        whole, chunked = _wav(tmp_path / 'whole' / name).astype(int), _wav(tmp_path / 'stream' / name)
        assert len(chunked) == len(whole) and np.abs(whole).max() > 300
        assert np.abs(chunked - whole).max() <= 1
    assert sorted(p.name for p in (tmp_path / 'stream').iterdir()) == [  # no temporary files left behind
        'audio_0.wav', 'audio_2.wav', inference.DEFAULT_LOG_NAME]
    records = read_json_log(tmp_path / 'stream' / inference.DEFAULT_LOG_NAME)
    runs = [r['data'] for r in records if str(r['step']).startswith('run ')]
    assert [(run['utterances'], run['batch_size']) for run in runs] == [(1, 1), (2, 1)]
    assert all(0 < run['first_audio_latency'] < run['latency'] for run in runs)
    [summary] = [r['data'] for r in records if r['step'] == []]
    assert summary['first_audio_latency_max'] == max(run['first_audio_latency'] for run in runs)
    assert 'time to first audio mean' in streamed.out


def test_stream_with_griffin_lim_keeps_the_lengths(tmp_path, checkpoints, capsys):
    """Griffin-Lim streams too; its chunks are not the whole's (a random start phase per call), only as long."""
    phrases = _write(tmp_path / 'in.txt', STREAM_LINES)
    for out, flags in (('whole', ['-bs', '1']), ('stream', ['--stream', *STREAM_CHUNK])):
        _synthesize(capsys, '-i', phrases, '--fastpitch', checkpoints['fastpitch'], '-o', tmp_path / out, *flags)
    for name in ('audio_0.wav', 'audio_2.wav'):
        streamed = _wav(tmp_path / 'stream' / name)
        assert len(streamed) == len(_wav(tmp_path / 'whole' / name)) and np.abs(streamed).max() > 0


class _Pipe:
    """sys.stdout as a pipe: bytes only (printing text to it fails), each write handed to `record`."""

    def __init__(self, record):
        self.buffer = SimpleNamespace(write=record, flush=lambda: None)


def test_stream_to_stdout_is_raw_pcm_written_chunk_by_chunk(tmp_path, checkpoints, stream_vocoders, capsys,
                                                            monkeypatch):
    """-o -: the lines as 16-bit little-endian PCM joined by the sentence pause, the first chunk out after the
    first of many vocoder calls; every message on stderr."""
    inputs = _stream_inputs(tmp_path, checkpoints, stream_vocoders, '--hifigan')
    _synthesize(capsys, *inputs, '-o', tmp_path / 'whole', '-bs', '1')
    calls, writes = [], []
    vocode = HiFiGANVocoder.__call__
    monkeypatch.setattr(HiFiGANVocoder, '__call__', lambda self, mel, autocast: calls.append(mel) or vocode(
        self, mel, autocast))
    monkeypatch.setattr(sys, 'stdout', _Pipe(lambda data: writes.append((len(calls), data))))
    assert inference.main([*map(str, inputs), '-o', '-', '--stream', *STREAM_CHUNK]) == 0
    err = capsys.readouterr().err
    assert 'mel generator:' in err and 'time to first audio mean' in err

    pcm = np.frombuffer(b''.join(data for _, data in writes), dtype='<i2').astype(int)
    expected = np.concatenate([_wav(tmp_path / 'whole' / 'audio_0.wav'), np.zeros(PAUSE_SAMPLES),
                               _wav(tmp_path / 'whole' / 'audio_2.wav')])
    assert len(pcm) == len(expected) and np.abs(pcm - expected).max() <= 1
    first_write = next(n_calls for n_calls, data in writes if data)
    assert first_write == 1 and len(calls) > 5


@pytest.mark.parametrize('flags, message', [
    (['--stream', '-bs', '4'], '-bs/--batch-size 4: --stream synthesizes one sentence at a time'),
    (['--stream-chunk-frames', '8'], '--stream-chunk-frames: only with --stream'),
    (['-o', '-'], '-o -: raw PCM on stdout only with --stream'),
    (['--stream', '--save-mels'], '--save-mels: not with --stream (it writes the audio only)'),
    (['--stream', '--stream-chunk-frames', '0'], '--stream-chunk-frames must be positive, got 0'),
])
def test_stream_flags_that_do_not_go_together(tmp_path, capsys, flags, message):
    phrases = _write(tmp_path / 'in.txt', ['Hello.'])
    assert inference.main(['-i', phrases, '--fastpitch', 'unused.pt', *flags]) == 1
    assert capsys.readouterr().err.splitlines() == [f'inference.py: error: {message}']


# common/text_batching.py

def test_read_phrases_from_text_and_tsv(tmp_path):
    text_file = _write(tmp_path / 'lines.txt', ['first', '   ', 'third  '])
    assert [(p.line_number, p.text, p.output_name) for p in read_phrases(text_file)] == [
        (1, 'first', 'audio_0.wav'), (3, 'third', 'audio_2.wav')]
    tsv = _write(tmp_path / 'named.tsv', ['output\ttext', 'a.wav\tOne.', 'b.wav\t"Two," she said.'])
    assert [(p.line_number, p.text, p.output_name) for p in read_phrases(tsv)] == [
        (2, 'One.', 'a.wav'), (3, '"Two," she said.', 'b.wav')]
    plain_tsv = _write(tmp_path / 'plain.tsv', ['text', 'Only text.'])
    assert [p.output_name for p in read_phrases(plain_tsv)] == ['audio_0.wav']


@pytest.mark.parametrize('lines, message', [
    (['words\tmore', 'a\tb'], 'header has no "text" column'),
    (['output\ttext', 'a.wav'], ':2: has 1 tab-separated columns'),
    (['output\ttext', 'a.mp3\thello'], ":2: output name 'a.mp3' must end in .wav"),
    (['output\ttext', 'a.wav\thello', 'a.wav\tagain'], "output name 'a.wav' is used twice"),
    (['text'], 'no text to synthesize'),
])
def test_bad_tsv_files_name_the_line(tmp_path, lines, message):
    with pytest.raises(PhraseFileError, match=message):
        read_phrases(_write(tmp_path / 'bad.tsv', lines))


def test_parts_faded_one_by_one_join_into_the_faded_clip():
    clip = torch.rand(1000) + 0.5
    for fade in (0, 300, 1000, 1500):
        parts = [fade_out_part(clip[start:end], start, 1000, fade)
                 for start, end in [(0, 256), (256, 699), (699, 999), (999, 1000)]]
        assert torch.equal(torch.cat(parts), fade_out(clip, fade))
    assert clip.min() >= 0.5  # faded copies; the clip is left as it is


def test_split_keeps_every_word_and_respects_abbreviations():
    text = 'Mr. Brown met J. Smith at noon.  "Really?" she asked. Yes! It was, as it happens, quite late: nine.'
    pieces = split_into_pieces(text)
    assert pieces == ['Mr. Brown met J. Smith at noon.', '"Really?" she asked.', 'Yes!',
                      'It was, as it happens, quite late: nine.']
    short = split_into_pieces(text, max_chars=20)
    assert all(len(piece) <= 20 for piece in short)
    assert ' '.join(short) == ' '.join(text.split())


def test_batches_sort_by_length_and_pad():
    lengths = [3, 9, 1, 9, 4]
    batches = length_sorted_batches(lengths, 2)
    assert batches == [[1, 3], [4, 0], [2]]
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    padded, pad_lengths = pad_sequences([[5, 6, 7], [8]])
    assert padded.tolist() == [[5, 6, 7], [8, 0, 0]] and pad_lengths.tolist() == [3, 1]
    with pytest.raises(ValueError, match='batch size'):
        length_sorted_batches(lengths, 0)


def test_phrase_files_have_the_sizes_their_names_state():
    phrases_dir = REPO / 'phrases'
    expected = {'phrase_1_64.txt': (1, 64), 'phrase_4_64.txt': (4, 64), 'phrase_1_128.txt': (1, 128),
                'phrase_4_256.txt': (4, 256), 'phrase_8_128.txt': (8, 128), 'benchmark_8_128.tsv': (8, 128)}
    for name, (n_lines, n_chars) in expected.items():
        phrases = read_phrases(phrases_dir / name)
        assert len(phrases) == n_lines, name
        assert all(len(p.text) == n_chars for p in phrases), (name, [len(p.text) for p in phrases])
        assert all(len(split_into_pieces(p.text)) == 1 for p in phrases), f'{name}: one sentence per line'
    assert len(read_phrases(phrases_dir / 'devset10.tsv')) == 10
    [paragraph] = read_phrases(phrases_dir / 'paragraph_500.txt')  # the streaming comparison: one batch of 8
    assert len(paragraph.text) == 500 and 1 < len(split_into_pieces(paragraph.text)) <= inference.DEFAULT_BATCH_SIZE
    assert len(read_phrases(phrases_dir / 'phrase.txt')) == 1
    with warnings.catch_warnings():  # every character of every phrase is in the symbol table
        warnings.simplefilter('error')
        for path in phrases_dir.iterdir():
            for phrase in read_phrases(path):
                text_to_sequence(phrase.text, ['english_cleaners'])


@pytest.mark.parametrize('flags, passes', [([], 0), (['--include-warmup'], 1),
                                           (['--include-warmup', '--torchscript'], 2)])
def test_warmup_passes_cover_torchscript_optimizing_on_the_second_call(flags, passes):
    args = inference.build_parser().parse_args(['-i', 'x', '--fastpitch', 'y', *flags])
    assert inference.warmup_passes(args) == passes


def test_long_inputs_are_written_while_they_are_made(tmp_path, checkpoints, monkeypatch, capsys):
    """Bounded memory: pieces are synthesized a window of batches at a time, and every line is written (its WAV
    complete under its name) as soon as its window is done, not after the whole input."""
    n_lines, batch_size = 30, 2
    window = batch_size * inference_windows()
    phrases = _write(tmp_path / 'in.txt', [f'Line number {k} speaks.' for k in range(n_lines)])
    out = tmp_path / 'out'
    written_at_each_batch = []
    synthesize = inference.Synthesizer.__call__

    def counting(self, sequences):
        written_at_each_batch.append(len(list(out.glob('audio_*.wav'))))
        return synthesize(self, sequences)

    monkeypatch.setattr(inference.Synthesizer, '__call__', counting)
    _synthesize(capsys, '-i', phrases, '-o', out, '--fastpitch', checkpoints['fastpitch'], '-bs', batch_size)
    assert len(written_at_each_batch) == n_lines // batch_size
    # the batches of window k start once the lines of the windows before it are on disk
    assert written_at_each_batch == [window * (batch // inference_windows()) for batch in range(n_lines // 2)]
    assert len(list(out.glob('*.wav'))) == n_lines


def inference_windows():
    from common.text_batching import WINDOW_BATCHES
    return WINDOW_BATCHES


def test_long_batches_are_vocoded_in_chunks_to_the_same_audio():
    """Synthesizer.vocode cuts a batch longer than VOCODE_FRAMES_PER_CALL into chunks with the vocoder's context."""
    spec = model_spec('HiFiGAN')
    args = inference.build_parser().parse_args(['-i', 'x', '--fastpitch', 'y', '--hifigan', 'z'])
    vocoder = spec.make_synthesizer(spec.prepare_for_inference(tiny_model('HiFiGAN', EIGHT_MELS)).eval(), args, 'cpu')
    frames = []

    def counting(mel, autocast):
        frames.append(mel.size(2))
        return vocoder(mel, autocast)

    sizes = SimpleNamespace(hop_length=vocoder.hop_length, stream_context_frames=vocoder.stream_context_frames)
    synthesizer = inference.Synthesizer(None, sizes, 'cpu', inference_precision(torch.device('cpu'), False))
    mel = torch.randn(2, 8, inference.VOCODE_FRAMES_PER_CALL // 2 + 40)
    with torch.inference_mode():
        whole = vocoder(mel, contextlib.nullcontext())
        synthesizer._vocode_whole = lambda part: counting(part, contextlib.nullcontext())
        chunked = synthesizer.vocode(mel)
    assert len(frames) == 2 and max(frames) < mel.size(2)
    assert chunked.shape == (2, mel.size(2) * vocoder.hop_length)
    assert torch.allclose(chunked, whole[:, :chunked.size(1)], atol=1e-5)


def test_pieces_that_cleaning_makes_long_are_cut_between_words():
    from common.text_batching import SPACE_ID, split_at_spaces
    ids = [5, 6, SPACE_ID, 7, 8, SPACE_ID, 9]
    assert split_at_spaces(ids, 10) == [ids]
    assert split_at_spaces(ids, 3) == [[5, 6, SPACE_ID], [7, 8, SPACE_ID], [9]]
    assert split_at_spaces([1] * 7, 3) == [[1] * 3, [1] * 3, [1]]  # a word longer than the limit is cut too


def test_only_an_input_of_more_than_one_window_trades_speed_for_memory(tmp_path, checkpoints, capsys, monkeypatch):
    """Fresh mappings for large blocks (common/native_memory.py) cost page faults: a short input keeps the heap."""
    calls = []
    monkeypatch.setattr(inference, 'release_large_blocks', lambda: calls.append(True))
    lines = [f'Line number {k} is here.' for k in range(5)]  # one sentence each
    for batch_size, expected in ((2, []), (1, [True])):  # windows of 4 batches: 8 pieces, then 4
        _synthesize(capsys, '-i', _write(tmp_path / 'in.txt', lines), '-o', tmp_path / 'out', '--fastpitch',
                    checkpoints['fastpitch'], '-bs', batch_size, *EIGHT_MELS)
        assert calls == expected, batch_size
