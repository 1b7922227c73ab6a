"""prepare_dataset.py: outputs and filelists, resume, every bad-data error by filelist line, --skip-bad, the
Tacotron 2 durations source through the command line and the LJSpeech recipe script (the split itself:
test_splits.py).

The session fixtures `corpus_dir` and `prepared_corpus` come from conftest.py.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import models
import prepare_dataset
from common.audio import load_wav
from common.checkpoint import save_checkpoint
from common.data_args import stft_kwargs
from common.filelist import read_filelist
from common.splits import split_sizes
from common.stft import TacotronSTFT, mel_from_audio
from common.text import UnknownSymbolWarning, text_to_sequence
from fastpitch.durations import mel_frame_count
from fastpitch.pitch import char_pitch, frame_pitch
from tests.commands import check_main
from tests.conftest import TINY_CORPUS_CLIPS
from tests.tiny_configs import tiny_args, tiny_config, tiny_model

REPO_ROOT = Path(__file__).resolve().parents[1]
SPLITS = ('train', 'val', 'test')
STFT = stft_kwargs(prepare_dataset.parse_args(['-d', '.', '--wav-text-filelist', 'x', '--extract-mels']))


def audio_filelists(root):
    return [root / 'filelists' / f'espeak_audio_text_{split}_filelist.txt' for split in SPLITS]


def run_prepare(root, filelists, *flags):
    check_main(prepare_dataset.main, ['--dataset-path', root, '--wav-text-filelist', *filelists, *flags])


def copy_corpus(source, destination):
    shutil.copytree(source, destination)
    return destination


def output_files(root):
    return sorted(path for kind in prepare_dataset.OUTPUT_KINDS for path in (root / kind).glob('*.pt'))


def filelist_lines(path):
    return Path(path).read_text().splitlines()


# ---------------------------------------------------------------- outputs

def test_outputs_match_the_front_end_and_sum_to_mel_lengths(prepared_corpus):
    stft = TacotronSTFT(**STFT)
    clips = [line.split('|') for filelist in audio_filelists(prepared_corpus) for line in filelist_lines(filelist)]
    assert len(clips) == TINY_CORPUS_CLIPS
    for wav, text in clips:
        clip_id = Path(wav).stem
        audio, _ = load_wav(prepared_corpus / wav, STFT['sampling_rate'])
        mel = torch.load(prepared_corpus / 'mels' / f'{clip_id}.pt', weights_only=True)
        torch.testing.assert_close(mel, mel_from_audio(stft, audio))
        assert mel.size(1) == mel_frame_count(audio.numel(), STFT['hop_length'])
        durations = torch.load(prepared_corpus / 'durations' / f'{clip_id}.pt', weights_only=True)
        pitch = torch.load(prepared_corpus / 'pitch_char' / f'{clip_id}.pt', weights_only=True)
        n_symbols = len(text_to_sequence(text, ['english_cleaners']))
        assert durations.dtype == torch.long and durations.shape == (n_symbols,)
        assert int(durations.sum()) == mel.size(1)
        assert pitch.dtype == torch.float32 and pitch.shape == (n_symbols,)
        voiced = pitch[pitch > 0]
        assert len(voiced) > n_symbols / 2 and 100 < voiced.median() < 400  # en-us+f3 sits near 200 Hz
        # per frame (FastPitch 1.1, pYIN): one value per mel frame; per symbol (1.0): the means of Praat's frames
        frames = torch.load(prepared_corpus / 'pitch' / f'{clip_id}.pt', weights_only=True)
        assert frames.dtype == torch.float32 and frames.shape == (mel.size(1),)
        torch.testing.assert_close(frames, frame_pitch(audio, STFT['sampling_rate'], STFT['filter_length'],
                                                       STFT['hop_length'], method='pyin'))
        praat = frame_pitch(audio, STFT['sampling_rate'], STFT['filter_length'], STFT['hop_length'], method='praat')
        torch.testing.assert_close(pitch, char_pitch(praat, durations))
    for kind, method in (('pitch', 'pyin'), ('pitch_char', 'praat')):
        assert json.loads((prepared_corpus / kind / 'preprocessing.json').read_text())['--pitch-method'] == method
    assert not list(prepared_corpus.rglob('.*.tmp'))


def test_derived_filelists_and_pitch_stats(prepared_corpus):
    for split, filelist in zip(SPLITS, audio_filelists(prepared_corpus)):
        audio_lines = [line.split('|') for line in filelist_lines(filelist)]
        ids = [Path(wav).stem for wav, _ in audio_lines]
        texts = [text for _, text in audio_lines]
        mel_list = prepared_corpus / 'filelists' / f'espeak_mel_text_{split}_filelist.txt'
        assert filelist_lines(mel_list) == [f'mels/{i}.pt|{t}' for i, t in zip(ids, texts)]
        fastpitch_list = prepared_corpus / 'filelists' / f'espeak_mel_dur_pitch_text_{split}_filelist.txt'
        assert filelist_lines(fastpitch_list) == [f'mels/{i}.pt|durations/{i}.pt|pitch_char/{i}.pt|{t}'
                                                  for i, t in zip(ids, texts)]
        fastpitch11_list = prepared_corpus / 'filelists' / f'espeak_mel_pitch_text_{split}_filelist.txt'
        assert filelist_lines(fastpitch11_list) == [f'mels/{i}.pt|pitch/{i}.pt|{t}' for i, t in zip(ids, texts)]
        for kind, prefix in (('pitch_char', 'pitch_char_stats'), ('pitch', 'pitch_stats')):
            stats = json.loads((prepared_corpus / f'{prefix}__{filelist.stem}.json').read_text())
            voiced = torch.cat([torch.load(prepared_corpus / kind / f'{i}.pt', weights_only=True) for i in ids])
            voiced = voiced[voiced > 0].double()
            assert stats['mean'] == pytest.approx(voiced.mean().item())
            assert stats['std'] == pytest.approx(voiced.std().item())


def test_derived_filelist_names():
    assert prepare_dataset.derived_filelist_path('f/ljs_audio_text_val_filelist.txt', 'mel_text') == \
        Path('f/ljs_mel_text_val_filelist.txt')
    assert prepare_dataset.derived_filelist_path('f/ljs_audio_text_val_filelist.txt', 'mel_dur_pitch_text') == \
        Path('f/ljs_mel_dur_pitch_text_val_filelist.txt')
    assert prepare_dataset.derived_filelist_path('f/mine.txt', 'mel_dur_pitch_text') == Path('f/mine_mel_dur_pitch.txt')
    assert prepare_dataset.derived_filelist_path('f/mine.txt', 'mel_pitch_text') == Path('f/mine_mel_pitch.txt')


def test_resume_keeps_existing_files_and_recreates_missing_ones_identically(prepared_corpus, tmp_path):
    root = copy_corpus(prepared_corpus, tmp_path / 'corpus')
    before = {path: (path.stat().st_mtime_ns, torch.load(path, weights_only=True)) for path in output_files(root)}
    removed = [root / 'mels' / 'ES001-0002.pt', root / 'durations' / 'ES001-0003.pt',
               root / 'pitch_char' / 'ES001-0003.pt']
    for path in removed:
        path.unlink()
    run_prepare(root, audio_filelists(root), '--extract-mels', '--extract-durations', '--extract-pitch',
                '--workers', '2')
    assert output_files(root) == sorted(before)
    for path, (mtime, tensor) in before.items():
        assert torch.equal(torch.load(path, weights_only=True), tensor), path
        assert (path.stat().st_mtime_ns == mtime) == (path not in removed), path


def test_tacotron2_durations_through_the_command_line(corpus_dir, tmp_path):
    """--batch-size 1: each clip is aligned alone, so its durations are the model's for that clip exactly."""
    from tests.tiny_configs import tiny_config, tiny_model
    model = tiny_model('Tacotron2')
    checkpoint = tmp_path / 'tacotron2.pt'
    torch.save({'config': tiny_config('Tacotron2'), 'state_dict': model.state_dict()}, checkpoint)
    root = copy_corpus(corpus_dir, tmp_path / 'corpus')
    train_list = audio_filelists(root)[0]
    run_prepare(root, [train_list], '--extract-mels', '--extract-durations', '--durations-from', 'tacotron2',
                '--tacotron2-checkpoint', str(checkpoint), '--workers', '2', '--batch-size', '1')
    aligner = prepare_dataset.Aligner(models.model_spec('Tacotron2'), model)
    for line in filelist_lines(train_list):
        wav, text = line.split('|')
        clip_id = Path(wav).stem
        mel = torch.load(root / 'mels' / f'{clip_id}.pt', weights_only=True)
        durations = torch.load(root / 'durations' / f'{clip_id}.pt', weights_only=True)
        ids = torch.tensor(text_to_sequence(text, ['english_cleaners']))
        assert durations.shape == ids.shape and int(durations.sum()) == mel.size(1)
        assert torch.equal(durations, aligner.durations(ids, mel))


def test_durations_from_a_model_are_made_here_in_batches_between_two_pool_passes(corpus_dir, tmp_path, monkeypatch):
    """Mels in the worker pool, then durations in this process (where the GPU is) in batches of --batch-size clips
    of similar text lengths, then pitch in the pool again; every clip gets what its batch gave it."""
    aligner = prepare_dataset.Aligner(models.model_spec('Tacotron2'), tiny_model('Tacotron2'))
    phases, batches = [], []
    run_clips, batch_durations = prepare_dataset.run_clips, prepare_dataset.Aligner.batch_durations

    def recorded_run_clips(clips, workers, skip_bad):
        phases.append((prepare_dataset._worker['kinds'], workers))
        return run_clips(clips, workers, skip_bad)

    def recorded_batch_durations(self, clips):
        phases.append('aligner')
        durations = batch_durations(self, clips)
        batches.append([(ids, found) for (ids, _), found in zip(clips, durations)])
        return durations
    monkeypatch.setattr(prepare_dataset, 'run_clips', recorded_run_clips)
    monkeypatch.setattr(prepare_dataset.Aligner, 'batch_durations', recorded_batch_durations)
    root = copy_corpus(corpus_dir, tmp_path / 'corpus')
    train_list = audio_filelists(root)[0]
    args = prepare_dataset.parse_args(['-d', str(root), '--wav-text-filelist', str(train_list), '--extract-mels',
                                       '--extract-durations', '--extract-pitch', '--durations-from', 'tacotron2',
                                       '--tacotron2-checkpoint', 'unused.pt', '--workers', '2', '--batch-size', '3'])
    prepare_dataset.prepare(args, aligner)
    n_clips = len(filelist_lines(train_list))
    assert phases == [(('mels',), 2), *['aligner'] * -(-n_clips // 3), (('pitch', 'pitch_char'), 2)]
    assert [len(batch) for batch in batches] == [3] * (n_clips // 3) + [n_clips % 3] * (n_clips % 3 > 0)
    symbols = [len(ids) for batch in batches for ids, _ in batch]
    assert symbols == sorted(symbols)
    made = {tuple(ids.tolist()): durations for batch in batches for ids, durations in batch}
    for line in filelist_lines(train_list):
        clip_id = Path(line.split('|')[0]).stem
        ids = text_to_sequence(line.split('|')[1], ['english_cleaners'])
        assert torch.equal(torch.load(root / 'durations' / f'{clip_id}.pt', weights_only=True), made[tuple(ids)])
        assert (root / 'pitch_char' / f'{clip_id}.pt').is_file()


def test_tacotron2_source_needs_a_checkpoint(capsys):
    with pytest.raises(SystemExit):
        prepare_dataset.parse_args(['-d', '.', '--wav-text-filelist', 'f', '--extract-durations',
                                    '--durations-from', 'tacotron2'])
    assert '--tacotron2-checkpoint' in capsys.readouterr().err


# ---------------------------------------------------------------- bad data: one error per case, by filelist line

def write_wav(path, seconds, sampling_rate=22050, channels=1):
    time = np.arange(int(seconds * sampling_rate)) / sampling_rate
    tone = 0.3 * np.sin(2 * np.pi * 220 * time)
    sf.write(path, np.stack([tone] * channels, axis=1) if channels > 1 else tone, sampling_rate, subtype='PCM_16')


@pytest.fixture
def bad_data_dir(corpus_dir, tmp_path):
    """A dataset folder with one good clip (and its timings) and a few broken WAVs."""
    root = tmp_path / 'data'
    (root / 'wavs').mkdir(parents=True)
    (root / 'timings').mkdir()
    shutil.copy(corpus_dir / 'wavs' / 'ES001-0001.wav', root / 'wavs')
    shutil.copy(corpus_dir / 'timings' / 'ES001-0001.json', root / 'timings')
    write_wav(root / 'wavs' / 'rate16k.wav', 1.0, sampling_rate=16000)
    write_wav(root / 'wavs' / 'stereo.wav', 1.0, channels=2)
    write_wav(root / 'wavs' / 'short.wav', 0.3)
    write_wav(root / 'wavs' / 'no_timings.wav', 1.0)
    return root


def good_text(root):
    return json.loads((root / 'timings' / 'ES001-0001.json').read_text())['text']


def good_line(root):
    return f'wavs/ES001-0001.wav|{good_text(root)}'


BAD_CASES = {
    'missing WAV': ('wavs/absent.wav|hello there', [], 'absent.wav: no such WAV file'),
    'wrong sample rate': ('wavs/rate16k.wav|hello there', [], 'sampled at 16000 Hz, expected 22050 Hz'),
    'stereo': ('wavs/stereo.wav|hello there', [], 'has 2 channels, expected mono'),
    'empty transcript': ('wavs/short.wav|   ', [], 'empty transcript'),
    'no known symbol': ('wavs/short.wav|###', [], 'has no known symbol'),
    'wrong column count': ('wavs/short.wav|a|b|c', [], 'has 4 columns'),
    'missing timings': ('wavs/no_timings.wav|hello there', ['--extract-durations'], 'no such eSpeak timings file'),
    'timings of another text': ('wavs/ES001-0001.wav|something else', ['--extract-durations'],
                                'differs from the transcript'),
    'durations not summing to the mel length': ('wavs/ES001-0001.wav|{good}', ['--extract-pitch'],
                                                'durations sum to 3 frames but the mel has'),
    'unreadable saved durations': ('wavs/short.wav|hello', ['--extract-durations'],
                                   'durations/short.pt: not a readable tensor file'),
}


@pytest.mark.parametrize('case', BAD_CASES)
def test_each_bad_line_is_reported_by_filelist_and_line(case, bad_data_dir, tmp_path):
    line, flags, message = BAD_CASES[case]
    good, bad = good_line(bad_data_dir), line.format(good=good_text(bad_data_dir))
    if case == 'durations not summing to the mel length':
        (bad_data_dir / 'durations').mkdir()
        good = 'wavs/short.wav|hello'
        short_frames = mel_frame_count(int(0.3 * 22050), STFT['hop_length'])
        torch.save(torch.tensor([short_frames - 4, 1, 1, 1, 1]), bad_data_dir / 'durations' / 'short.pt')
        n_symbols = len(text_to_sequence(good_text(bad_data_dir), ['english_cleaners']))
        torch.save(torch.tensor([3] + [0] * (n_symbols - 1)), bad_data_dir / 'durations' / 'ES001-0001.pt')
    if case == 'unreadable saved durations':
        (bad_data_dir / 'durations').mkdir()
        (bad_data_dir / 'durations' / 'short.pt').write_text('not a tensor\n')
    filelist = tmp_path / 'list.txt'
    filelist.write_text(f'{good}\n{bad}\n')
    with warnings.catch_warnings(), pytest.raises(SystemExit) as exit_info:
        warnings.simplefilter('ignore', UnknownSymbolWarning)
        run_prepare(bad_data_dir, [filelist], '--extract-mels', '--workers', '1', *flags)
    error = str(exit_info.value.code)
    assert error.startswith(f'prepare_dataset.py: error: {filelist}:2: ') and message in error, error
    assert '\n' not in error
    assert not (bad_data_dir / 'mels').exists(), 'work started before every line was checked'


def test_skip_bad_leaves_bad_lines_out_and_reports_them(bad_data_dir, tmp_path):
    filelist = tmp_path / 'clips_audio_text_filelist.txt'
    filelist.write_text('\n'.join([good_line(bad_data_dir), 'wavs/absent.wav|hello', 'wavs/stereo.wav|hello',
                                   'wavs/short.wav|', 'wavs/short.wav|hello there', '']))
    run_prepare(bad_data_dir, [filelist], '--extract-mels', '--workers', '1', '--skip-bad')
    report = filelist_lines(bad_data_dir / 'skipped__clips_audio_text_filelist.txt')
    assert [line.split(': ')[0] for line in report] == [f'{filelist}:{n}' for n in (2, 3, 4)]
    assert 'no such WAV file' in report[0] and '2 channels' in report[1] and 'empty transcript' in report[2]
    assert filelist_lines(tmp_path / 'clips_mel_text_filelist.txt') == [
        f'mels/ES001-0001.pt|{good_text(bad_data_dir)}', 'mels/short.pt|hello there']
    assert sorted(p.name for p in (bad_data_dir / 'mels').glob('*.pt')) == ['ES001-0001.pt', 'short.pt']


def test_a_clip_failing_during_the_work_stops_the_run_or_is_skipped(bad_data_dir, tmp_path):
    timings = json.loads((bad_data_dir / 'timings' / 'ES001-0001.json').read_text())
    timings['words'][1]['text_position'] = 999  # passes the checks, breaks the durations
    shutil.copy(bad_data_dir / 'wavs' / 'ES001-0001.wav', bad_data_dir / 'wavs' / 'broken.wav')
    (bad_data_dir / 'timings' / 'broken.json').write_text(json.dumps(timings))
    filelist = tmp_path / 'list.txt'
    filelist.write_text(f'{good_line(bad_data_dir)}\nwavs/broken.wav|{good_text(bad_data_dir)}\n')
    with pytest.raises(SystemExit, match=f'^prepare_dataset.py: error: {filelist}:2: word event .* lies outside '
                                         'the text'):
        run_prepare(bad_data_dir, [filelist], '--extract-durations', '--workers', '1')
    run_prepare(bad_data_dir, [filelist], '--extract-durations', '--workers', '2', '--skip-bad')
    report = filelist_lines(bad_data_dir / 'skipped__list.txt')
    assert len(report) == 1 and report[0].startswith(f'{filelist}:2: word event')
    assert sorted(p.name for p in (bad_data_dir / 'durations').glob('*.pt')) == ['ES001-0001.pt']


@pytest.mark.slow
def test_command_line_error_is_one_line_without_traceback(bad_data_dir, tmp_path):
    filelist = tmp_path / 'list.txt'
    filelist.write_text(f'{good_line(bad_data_dir)}\nwavs/absent.wav|hello\n')
    result = subprocess.run([sys.executable, 'prepare_dataset.py', '-d', str(bad_data_dir), '--wav-text-filelist',
                             str(filelist), '--extract-mels'], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f'prepare_dataset.py: error: {filelist}:2: '
                                                  f'{bad_data_dir}/wavs/absent.wav: no such WAV file']


# ---------------------------------------------------------------- the recipe script

@pytest.mark.slow
def test_recipe_script_prepares_the_embedded_corpus(prepared_corpus, tmp_path):
    root = copy_corpus(prepared_corpus, tmp_path / 'espeak')  # its outputs exist: the run resumes quickly
    filelists = tmp_path / 'filelists'
    command = ['bash', 'scripts/prepare_dataset.sh', '--skip-download', '--filelists-dir', str(filelists)]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                            env={**os.environ, 'PYTHON': sys.executable, 'DATASET_PATH': str(root)})
    assert result.returncode == 0, result.stderr[-2000:]
    for split in SPLITS:  # the split of the fixtures: the same function and seed
        name = f'espeak_audio_text_{split}_filelist.txt'
        assert filelist_lines(filelists / name) == filelist_lines(root / 'filelists' / name)
        assert len(filelist_lines(filelists / name)) == split_sizes(TINY_CORPUS_CLIPS)[split]
    for split in SPLITS:
        for line in filelist_lines(filelists / f'espeak_mel_dur_pitch_text_{split}_filelist.txt'):
            mel, durations, pitch, _ = line.split('|')
            assert int(torch.load(root / durations, weights_only=True).sum()) == \
                torch.load(root / mel, weights_only=True).size(1)
    assert (root / 'pitch_char_stats__espeak_audio_text_train_filelist.json').is_file()


def test_a_bad_flag_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        prepare_dataset.parse_args(['-d', '.', '--wav-text-filelist', 'f', '--extract-mels', '--hop-length', '0'])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ('prepare_dataset.py: error: argument --hop-length: 0 is not a positive '
                                       'integer (see --help)\n')


# ---------------------------------------------------------------- teacher-forced mels for HiFi-GAN fine-tuning

# per case: the model, its extra tiny flags, the training filelist kind and pitch statistics it trains on, and
# whether its checkpoint stores its training flags (train.py's do; NVIDIA's do not)
TEACHERS = {
    'tacotron2': ('Tacotron2', [], 'mel_text', None, False),
    'fastpitch 1.0': ('FastPitch', [], 'mel_dur_pitch_text', 'pitch_char_stats', True),
    'fastpitch 1.1': ('FastPitch', ['--fastpitch-version', '1.1'], 'mel_pitch_text', 'pitch_stats', True),
}


def save_teacher(case, root, path, extra=()):
    """A freshly built tiny generator saved as train.py saves one (with the training flags of the case) -> the
    model, its FastPitch pitch statistics set from the corpus as training sets them."""
    model_name, flags, _, stats, with_flags = TEACHERS[case]
    flags = [*flags, *extra]
    model = tiny_model(model_name, flags).eval()
    payload = {'model_name': model_name, 'config': tiny_config(model_name, flags), 'state_dict': model.state_dict()}
    if stats:
        stats_file = root / f'{stats}__espeak_audio_text_train_filelist.json'
        mean, std = json.loads(stats_file.read_text()).values()
        model.pitch_mean.fill_(mean)
        model.pitch_std.fill_(std)
        payload['state_dict'] = model.state_dict()
    if with_flags:  # paths of the training machine: the dataset folder and the statistics file are not read
        payload['train_setup'] = {**vars(tiny_args(model_name, flags)), 'dataset_path': '/elsewhere',
                                  'text_cleaners': ['english_cleaners_v2'] if '1.1' in flags else ['english_cleaners'],
                                  'pitch_mean_std_file': '/elsewhere/stats.json'}
    save_checkpoint(payload, path)
    return model


def forward_alone(case, model, root, entry):
    """The model's teacher-forced training forward over one clip alone, its data read as training reads it."""
    model_name, _, _, stats, _ = TEACHERS[case]
    spec = models.model_spec(model_name)
    args = argparse.Namespace(**vars(tiny_args(model_name, TEACHERS[case][1])), dataset_path=str(root),
                              text_cleaners=['english_cleaners_v2' if '1.1' in case else 'english_cleaners'],
                              load_mel_from_disk=True)
    if stats:
        args.pitch_mean_std_file = str(root / f'{stats}__espeak_audio_text_train_filelist.json')
    row = spec.get_dataset(args, write_one_line_filelist(root, entry))[0]
    x, _, _ = spec.batch_to_device(spec.get_collate_fn(args)([row]), 'cpu')
    with torch.no_grad():
        if model_name == 'Tacotron2':
            model.decoder.prenet.p_dropout = 0.0  # as the teacher-forced mels are made: deterministic
            return model(x)[1][0]
        return model(x)[0][0].t()


def write_one_line_filelist(root, entry):
    path = root / 'one_line_filelist.txt'
    path.write_text('|'.join([*entry.paths, entry.text]) + '\n')
    return path


def teacher_run(root, case, checkpoint, *flags, splits=SPLITS):
    name = TEACHERS[case][0].lower()
    run_prepare(root, [audio_filelists(root)[SPLITS.index(split)] for split in splits], '--teacher-mels-from', name,
                f'--{name}-checkpoint', str(checkpoint), '--workers', '1', *flags)


def derived_entries(root, case, split='train'):
    kind = TEACHERS[case][2]
    path = prepare_dataset.derived_filelist_path(audio_filelists(root)[SPLITS.index(split)], kind)
    return read_filelist(path, n_path_columns=len(prepare_dataset.DERIVED_FILELISTS[kind]))


@pytest.mark.parametrize('case', TEACHERS)
def test_teacher_forced_mels_are_the_models_forward_output_on_the_recorded_frames(case, prepared_corpus, tmp_path):
    root = copy_corpus(prepared_corpus, tmp_path / 'corpus')
    model = save_teacher(case, root, tmp_path / 'generator.pt')
    teacher_run(root, case, tmp_path / 'generator.pt', '--batch-size', '1')
    name = TEACHERS[case][0].lower()
    for split in SPLITS:
        for entry in derived_entries(root, case, split):
            mel = torch.load(root / f'mels_{name}' / f'{entry.clip_id}.pt', weights_only=True)
            recorded = torch.load(root / 'mels' / f'{entry.clip_id}.pt', weights_only=True)
            assert mel.dtype == torch.float32 and mel.shape == recorded.shape and mel.is_contiguous()
            torch.testing.assert_close(mel, forward_alone(case, model, root, entry))


def test_batches_put_no_two_clips_of_one_length_together():
    lengths = {'a': 5, 'b': 5, 'c': 5, 'd': 6, 'e': 6, 'f': 7, 'g': 9}
    batches = prepare_dataset.batches_of_distinct_lengths(lengths, 2)
    assert batches == [['a', 'd'], ['b', 'e'], ['c', 'f'], ['g']]
    assert prepare_dataset.batches_of_distinct_lengths(lengths, 1) == [[clip] for clip in 'abcdefg']


def test_a_batched_run_cuts_each_clip_to_its_frames_and_resumes_with_the_same_batches(corpus_dir, tmp_path):
    """Tacotron 2 trains on the mel filelist: the run that makes the mels can make its teacher-forced mels too."""
    root = copy_corpus(corpus_dir, tmp_path / 'corpus')
    save_teacher('tacotron2', root, tmp_path / 'tacotron2.pt')
    teacher_run(root, 'tacotron2', tmp_path / 'tacotron2.pt', '--extract-mels', '--batch-size', '3')
    written = sorted((root / 'mels_tacotron2').glob('*.pt'))
    assert [path.name for path in written] == sorted(path.name for path in (root / 'mels').glob('*.pt'))
    before = {path: (path.stat().st_mtime_ns, torch.load(path, weights_only=True)) for path in written}
    for path, (_, mel) in before.items():
        assert mel.shape == torch.load(root / 'mels' / path.name, weights_only=True).shape
    removed = written[2]
    removed.unlink()
    teacher_run(root, 'tacotron2', tmp_path / 'tacotron2.pt', '--batch-size', '3')
    for path, (mtime, mel) in before.items():
        assert torch.equal(torch.load(path, weights_only=True), mel), path
        assert (path.stat().st_mtime_ns == mtime) == (path != removed), path
    assert not list(root.rglob('.*.tmp'))


def test_fine_tuning_filelists_feed_hifigan_which_fine_tunes_on_them(prepared_corpus, tmp_path):
    from hifigan.data_function import SILENT_MEL, get_dataset, window
    from tests.test_hifigan_training import hifigan_argv
    from tests.test_train import epoch_values, run_train
    root = copy_corpus(prepared_corpus, tmp_path / 'corpus')
    save_teacher('fastpitch 1.1', root, tmp_path / 'fastpitch.pt')
    teacher_run(root, 'fastpitch 1.1', tmp_path / 'fastpitch.pt', '--batch-size', '4', splits=('train', 'val'))
    lists = {split: root / 'filelists' / f'espeak_audio_fastpitch_mel_text_{split}_filelist.txt'
             for split in ('train', 'val')}
    assert not (root / 'filelists' / 'espeak_audio_fastpitch_mel_text_test_filelist.txt').exists()
    for split, path in lists.items():
        audio_lines = [line.split('|') for line in filelist_lines(audio_filelists(root)[SPLITS.index(split)])]
        assert filelist_lines(path) == [f'{wav}|mels_fastpitch/{Path(wav).stem}.pt|{text}'
                                        for wav, text in audio_lines]

    args = tiny_args('HiFiGAN', ['--fine-tuning'])
    args.dataset_path = str(root)
    dataset = get_dataset(args, lists['train'])
    mel, audio, _ = dataset[0]
    frames = args.segment_size // args.hop_length
    assert mel.shape == (80, frames) and audio.shape == (1, args.segment_size)
    written = torch.load(root / 'mels_fastpitch' / f'{dataset.entries[0].clip_id}.pt', weights_only=True)
    assert any(torch.equal(mel, window(written, start, frames, SILENT_MEL)) for start in range(written.size(1)))

    output = tmp_path / 'hifigan'
    run_train(hifigan_argv(root, output, '--epochs', '1', '-bs', str(len(dataset)), '--fine-tuning',
                           '--training-files', str(lists['train']), '--validation-files', str(lists['val'])))
    assert len(epoch_values(output, 'train_epoch_loss')) == 1
    assert torch.load(output / 'checkpoint_HiFiGAN_last.pt', weights_only=True)['iteration'] == 1


def test_teacher_checks_before_any_work(prepared_corpus, tmp_path):
    root = copy_corpus(prepared_corpus, tmp_path / 'corpus')
    save_teacher('tacotron2', root, tmp_path / 'mel8.pt', extra=['--n-mel-channels', '8'])
    with pytest.raises(SystemExit) as exit_info:
        teacher_run(root, 'tacotron2', tmp_path / 'mel8.pt')
    assert exit_info.value.code == ('prepare_dataset.py: error: the Tacotron2 model makes 8 mel channels, '
                                    '--n-mel-channels is 80')

    for path in (root / 'filelists').glob('espeak_mel_pitch_text_*'):
        path.unlink()  # FastPitch 1.1's data was never prepared
    save_teacher('fastpitch 1.1', root, tmp_path / 'fastpitch.pt')
    with pytest.raises(SystemExit) as exit_info:
        teacher_run(root, 'fastpitch 1.1', tmp_path / 'fastpitch.pt')
    train_list = audio_filelists(root)[0]
    assert exit_info.value.code == (
        f'prepare_dataset.py: error: {root}/filelists/espeak_mel_pitch_text_train_filelist.txt: no such filelist, '
        f'and the FastPitch checkpoint trains on it: run prepare_dataset.py --extract-mels --extract-frame-pitch on {train_list} first')
    assert not (root / 'mels_tacotron2').exists() and not (root / 'mels_fastpitch').exists()


def test_teacher_mels_need_a_checkpoint(capsys):
    with pytest.raises(SystemExit):
        prepare_dataset.parse_args(['-d', '.', '--wav-text-filelist', 'f', '--teacher-mels-from', 'fastpitch'])
    assert '--teacher-mels-from fastpitch needs --fastpitch-checkpoint' in capsys.readouterr().err


def test_fine_tuning_filelist_names():
    assert prepare_dataset.derived_filelist_path('f/ljs_audio_text_train_filelist.txt', 'audio_fastpitch_mel_text') \
        == Path('f/ljs_audio_fastpitch_mel_text_train_filelist.txt')
    assert prepare_dataset.derived_filelist_path('f/mine.txt', 'audio_tacotron2_mel_text') == \
        Path('f/mine_audio_tacotron2_mel.txt')


@pytest.mark.slow
def test_fine_tuning_recipe_script_writes_the_splits_fine_tuning_filelists(prepared_corpus, tmp_path):
    root = copy_corpus(prepared_corpus, tmp_path / 'corpus')
    save_teacher('fastpitch 1.1', root, tmp_path / 'fastpitch.pt')
    command = ['bash', 'scripts/prepare_hifigan_finetuning.sh', '--fastpitch-checkpoint',
               str(tmp_path / 'fastpitch.pt'), '--batch-size', '4', '--', '--workers', '1']
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                            env={**os.environ, 'PYTHON': sys.executable, 'DATASET_PATH': str(root),
                                 'FILELISTS_DIR': str(root / 'filelists'), 'PREFIX': 'espeak'})
    assert result.returncode == 0, result.stderr[-2000:]
    for split, audio_list in zip(SPLITS, audio_filelists(root)):
        lines = filelist_lines(root / 'filelists' / f'espeak_audio_fastpitch_mel_text_{split}_filelist.txt')
        assert [line.split('|')[0] for line in lines] == [line.split('|')[0] for line in filelist_lines(audio_list)]
    assert len(list((root / 'mels_fastpitch').glob('*.pt'))) == TINY_CORPUS_CLIPS


# ---------------------------------------------------------------- filters, clip names, recorded parameters, failures

def tone_corpus(root, clips):
    """A dataset folder of 220 Hz tones: {dataset-relative WAV path: seconds}."""
    for wav, seconds in clips.items():
        (root / wav).parent.mkdir(parents=True, exist_ok=True)
        write_wav(root / wav, seconds)
    return root


def test_filters_leave_out_exactly_the_clips_they_should_and_the_report_names_them(tmp_path):
    root = tone_corpus(tmp_path / 'data', {'wavs/short.wav': 0.3, 'wavs/fine.wav': 1.0, 'wavs/long.wav': 2.0,
                                           'wavs/wordy.wav': 1.0})
    filelist = tmp_path / 'clips_audio_text_filelist.txt'
    filelist.write_text('wavs/short.wav|hello\nwavs/fine.wav|hello\nwavs/long.wav|hello\n'
                        'wavs/wordy.wav|a much longer transcript\n')
    run_prepare(root, [filelist], '--extract-mels', '--workers', '1')  # the defaults keep every clip
    assert len(filelist_lines(tmp_path / 'clips_mel_text_filelist.txt')) == 4
    assert filelist_lines(root / 'filtered__clips_audio_text_filelist.tsv') == ['line\tclip\treason']

    run_prepare(root, [filelist], '--extract-mels', '--workers', '1', '--min-duration', '0.5', '--max-duration',
                '1.5', '--max-text-length', '10')
    assert filelist_lines(tmp_path / 'clips_mel_text_filelist.txt') == ['mels/fine.pt|hello']
    assert filelist_lines(root / 'filtered__clips_audio_text_filelist.tsv') == [
        'line\tclip\treason',
        '1\twavs/short.wav\tlasts 0.30 s, shorter than --min-duration 0.5',
        '3\twavs/long.wav\tlasts 2.00 s, longer than --max-duration 1.5',
        '4\twavs/wordy.wav\thas 24 symbols, more than --max-text-length 10']


def test_trimming_removes_the_leading_and_trailing_silence(tmp_path):
    root = tmp_path / 'data'
    (root / 'wavs').mkdir(parents=True)
    rate = STFT['sampling_rate']
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate)
    sf.write(root / 'wavs' / 'padded.wav', np.concatenate([np.zeros(rate // 2), tone, np.zeros(rate // 2)]), rate,
             subtype='PCM_16')
    filelist = tmp_path / 'list.txt'
    filelist.write_text('wavs/padded.wav|hello\n')
    run_prepare(root, [filelist], '--extract-mels', '--workers', '1', '--trim-top-db', '40')
    frames = torch.load(root / 'mels' / 'padded.pt', weights_only=True).size(1)
    assert abs(frames - rate // STFT['hop_length']) <= 8  # the one second of tone, give or take its edge frames


def test_clips_of_one_name_in_two_folders_keep_apart(tmp_path):
    root = tone_corpus(tmp_path / 'data', {'wavs/a/clip.wav': 1.0, 'wavs/b/clip.wav': 1.5})
    filelist = tmp_path / 'list.txt'
    filelist.write_text('wavs/a/clip.wav|hello\nwavs/b/clip.wav|hello there\n')
    run_prepare(root, [filelist], '--extract-mels', '--workers', '1')
    assert filelist_lines(tmp_path / 'list_mel.txt') == ['mels/a/clip.pt|hello', 'mels/b/clip.pt|hello there']
    frames = [torch.load(root / 'mels' / folder / 'clip.pt', weights_only=True).size(1) for folder in 'ab']
    assert frames == [mel_frame_count(int(seconds * STFT['sampling_rate']), STFT['hop_length'])
                      for seconds in (1.0, 1.5)]
    assert prepare_dataset.clip_key('wavs/LJ001-0001.wav') == 'LJ001-0001'


def test_outputs_made_with_other_parameters_are_refused_or_redone(tmp_path):
    root = tone_corpus(tmp_path / 'data', {'wavs/clip.wav': 1.0})
    filelist = tmp_path / 'list.txt'
    filelist.write_text('wavs/clip.wav|hello\n')
    run_prepare(root, [filelist], '--extract-mels', '--workers', '1')
    assert json.loads((root / 'mels' / 'preprocessing.json').read_text())['--hop-length'] == 256
    with pytest.raises(SystemExit) as exit_info:
        run_prepare(root, [filelist], '--extract-mels', '--workers', '1', '--hop-length', '128')
    assert exit_info.value.code == (f'prepare_dataset.py: error: {root}/mels: made with --hop-length 256, this run '
                                    'has 128: give the same --hop-length, another --dataset-path, or --overwrite to '
                                    'redo them')
    run_prepare(root, [filelist], '--extract-mels', '--workers', '1', '--hop-length', '128', '--overwrite')
    assert torch.load(root / 'mels' / 'clip.pt', weights_only=True).size(1) == mel_frame_count(22050, 128)
    assert json.loads((root / 'mels' / 'preprocessing.json').read_text())['--hop-length'] == 128


@pytest.mark.parametrize('workers', ['1', '2'])
def test_a_full_disk_is_a_one_line_error(tmp_path, monkeypatch, workers):
    import errno

    from tests.commands import run_main
    root = tone_corpus(tmp_path / 'data', {'wavs/clip.wav': 1.0})
    filelist = tmp_path / 'list.txt'
    filelist.write_text('wavs/clip.wav|hello\n')

    def full_disk(tensor, path):
        raise OSError(errno.ENOSPC, 'No space left on device', str(path))
    monkeypatch.setattr(prepare_dataset, 'torch_save_atomic', full_disk)  # forked workers inherit it
    code, lines = run_main(prepare_dataset.main, ['-d', root, '--wav-text-filelist', filelist, '--extract-mels',
                                                  '--workers', workers])
    errors = [line for line in lines if 'error' in line]
    assert code == 1 and errors == [f'prepare_dataset.py: error: {root}/mels/clip.pt: No space left on device']


@pytest.mark.slow
def test_a_worker_that_dies_stops_the_run_with_an_error(tmp_path):
    root = tone_corpus(tmp_path / 'data', {'wavs/a.wav': 1.0, 'wavs/b.wav': 1.0, 'wavs/c.wav': 1.0})
    filelist = tmp_path / 'list.txt'
    filelist.write_text('wavs/a.wav|hello\nwavs/b.wav|hello\nwavs/c.wav|hello\n')
    script = ('import os, signal, sys, prepare_dataset\n'
              'prepare_dataset.mel_from_audio = lambda stft, audio: os.kill(os.getpid(), signal.SIGKILL)\n'
              'sys.exit(prepare_dataset.main(sys.argv[1:]))\n')
    result = subprocess.run([sys.executable, '-c', script, '-d', str(root), '--wav-text-filelist', str(filelist),
                             '--extract-mels', '--workers', '2'], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'prepare_dataset.py: error: a preprocessing worker process died (killed, or out of memory?): rerun to '
        'resume, with fewer --workers if memory is short')


def test_the_speaker_column_goes_through_to_the_training_batches(tmp_path):
    from fastpitch.data_function import collate_text_mel_pitch, get_dataset
    root = tone_corpus(tmp_path / 'data', {'wavs/a.wav': 1.0, 'wavs/b.wav': 1.2})
    filelist = tmp_path / 'clips_audio_text_filelist.txt'
    filelist.write_text('wavs/a.wav|hello|3\nwavs/b.wav|hello there|0\n')
    run_prepare(root, [filelist], '--extract-mels', '--extract-frame-pitch', '--workers', '1')
    derived = tmp_path / 'clips_mel_pitch_text_filelist.txt'
    assert filelist_lines(derived) == ['mels/a.pt|pitch/a.pt|hello|3', 'mels/b.pt|pitch/b.pt|hello there|0']
    args = tiny_args('FastPitch', ['--fastpitch-version', '1.1', '--n-speakers', '4'])
    args.dataset_path, args.pitch_mean_std_file, args.text_cleaners = str(root), None, ['english_cleaners_v2']
    dataset = get_dataset(args, derived)
    batch = collate_text_mel_pitch([dataset[0], dataset[1]])
    assert batch.speaker.tolist() == [0, 3]  # longest text first
