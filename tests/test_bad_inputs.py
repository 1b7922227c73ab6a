"""The bad-input matrix of every command line: each row is a command's arguments, the exit code it must end with
(1: an error, 2: a usage error, 0: an input it must cope with) and words its one-line error must hold; every row
also proves that no traceback is printed. The next bad input found is one row in ROWS.

Rows run in this process through each entry point's main (common/cli.py's wrapper, which is what `python X.py` runs
too); a few run as processes, to prove the real exit code and stderr.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import evaluate
import export
import inference
import multiproc
import prepare_dataset
import train
from common import latency
from common.checkpoint import save_checkpoint
from common.corpus import build
from fastpitch.benchmark import pin_durations
from tests.commands import run_main
from tests.tiny_configs import tiny_config, tiny_model

REPO = Path(__file__).resolve().parents[1]
EIGHT_MELS = ['--n-mel-channels', '8']
MAINS = {'inference.py': inference.main, 'evaluate.py': evaluate.main, 'train.py': train.main,
         'prepare_dataset.py': prepare_dataset.main, 'export.py': export.main,
         'python -m multiproc': multiproc.main, 'python -m common.corpus.build': build.main,
         'python -m common.latency': latency.main}
TRAIN = ['-o', '{out}', '-lr', '1e-3', '-bs', '1', '--epochs', '1', '--training-files', '{wav_list}',
         '--validation-files', '{wav_list}', '-d', '{data}']

# (command, arguments with {placeholders} from the `files` fixture, exit code, words of the error line)
ROWS = [
    # inference.py
    ('inference.py', ['-i', '{missing}', '--fastpitch', '{fastpitch}'], 1, ['missing.txt', 'no such input file']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--text-cleaners', 'nope'], 1,
     ['--text-cleaners', "'nope'", 'english_cleaners']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--filter-length', '0'], 2,
     ['--filter-length', 'positive']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--hop-length', '0'], 2,
     ['--hop-length', 'positive']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--win-length', '2048'], 1,
     ['--win-length 2048', '--filter-length 1024']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--pace', '1e-9'], 2,
     ['--pace', '1e-9', 'from 0.1 to 10']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--pace', 'inf'], 2, ['--pace', 'inf']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--waveglow', '{wg_missing}'], 1,
     ['--waveglow', 'wg_missing.pt', 'upsample.weight']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--waveglow', '{wg_0d}'], 1,
     ['--waveglow', 'wg_0d.pt', 'cannot read the sizes of a WaveGlow']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{waveglow}'], 1, ['--fastpitch', 'holds a WaveGlow']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--bogus'], 2, ['unrecognized', '--bogus']),
    # numbers past inflect's range are read digit by digit
    ('inference.py', ['-i', '{digits_5000}', '--fastpitch', '{fastpitch}', '-bs', '64'], 0, []),
    ('inference.py', ['-i', '{ordinal_40}', '--fastpitch', '{fastpitch}'], 0, []),
    # evaluate.py
    ('evaluate.py', ['-m', 'WaveGlow', '--checkpoint', '{waveglow}', '-d', '{data}', '--filelist', '{wav_list}',
                     '--n-mel-channels', '40'], 1, ['--n-mel-channels 40', 'takes 8-band mels']),
    ('evaluate.py', ['-m', 'FastPitch', '--checkpoint', '{fastpitch}', '-d', '{data}', '--filelist', '{wav_list}',
                     '--n-mel-channels', '40'], 1, ['--n-mel-channels 40', 'makes 80-band mels']),
    ('evaluate.py', ['-m', 'WaveGlow', '--checkpoint', '{wg_0d}', '-d', '{data}', '--filelist', '{wav_list}',
                     '--untrained', *EIGHT_MELS], 1, ['wg_0d.pt', 'cannot read the sizes of a WaveGlow']),
    ('evaluate.py', ['-m', 'WaveGlow', '--checkpoint', '{wg_missing}', '-d', '{data}', '--filelist', '{wav_list}',
                     '--untrained', *EIGHT_MELS], 1, ['wg_missing.pt', 'upsample.weight']),
    ('evaluate.py', ['-m', 'FastPitch', '--checkpoint', '{waveglow}', '-d', '{data}', '--filelist', '{wav_list}',
                     '--untrained'], 1, ['waveglow.pt', 'holds a WaveGlow checkpoint, not FastPitch']),
    ('evaluate.py', ['-m', 'WaveGlow', '--checkpoint', '{waveglow}', '-d', '{data}', '--filelist', '{wav_list}',
                     '--hop-length', '0'], 2, ['--hop-length', 'positive']),
    ('evaluate.py', ['-m', 'WaveGlow', '--checkpoint', '{missing}', '-d', '{data}', '--filelist', '{wav_list}'], 1,
     ['missing.txt', 'no such checkpoint']),
    # train.py
    ('train.py', ['-m', 'WaveGlow', *TRAIN, '--hop-length', '0'], 2, ['--hop-length', 'positive']),
    ('train.py', ['-m', 'Nope', *TRAIN], 1, ["unknown model 'Nope'"]),
    ('train.py', ['-m', 'WaveGlow', *TRAIN, '--config-file', '{missing}'], 1, ['--config-file', 'no such file']),
    # prepare_dataset.py
    ('prepare_dataset.py', ['-d', '{data}', '--wav-text-filelist', '{wav_list}', '--extract-mels', '--hop-length',
                            '0'], 2, ['--hop-length', 'positive']),
    ('prepare_dataset.py', ['-d', '{data}', '--wav-text-filelist', '{wav_list}'], 2, ['nothing to do']),
    ('prepare_dataset.py', ['-d', '{data}', '--wav-text-filelist', '{wav_list}', '--extract-mels', '--sampling-rate',
                            '8000'], 1, ['--mel-fmax 8000 Hz', 'Nyquist', '--sampling-rate 8000 (4000 Hz)']),
    ('inference.py', ['-i', '{hello}', '--fastpitch', '{fastpitch}', '--mel-fmin', '9000'], 1,
     ['--mel-fmin 9000 Hz must be below --mel-fmax (8000 Hz)']),
    ('prepare_dataset.py', ['-d', '{data}', '--wav-text-filelist', '{missing}', '--extract-mels'], 1,
     ['missing.txt', 'no such filelist']),
    # export.py
    ('export.py', ['-m', 'FastPitch', '--checkpoint', '{fastpitch}', '--format', 'svg', '-o', '{out}'], 2,
     ['--format', 'svg']),
    ('export.py', ['-m', 'FastPitch', '--checkpoint', '{fastpitch}', '--format', 'ts', '--int8', '-o', '{out}'], 1,
     ['--int8', '--format onnx']),
    ('export.py', ['-m', 'FastPitch', '--checkpoint', '{missing}', '--format', 'onnx', '-o', '{out}'], 1,
     ['missing.txt', 'no such checkpoint']),
    # the launcher, the corpus builder, the latency table
    ('python -m multiproc', ['--nproc', '0', 'train.py'], 2, ['--nproc', 'at least 1']),
    ('python -m multiproc', ['{missing}'], 2, ['missing.txt', 'no such script']),
    ('python -m common.corpus.build', ['--output', '{out}', '--num-clips', '0'], 2, ['--num-clips', 'at least 1']),
    ('python -m common.latency', ['{missing}'], 1, ['missing.txt']),
]


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp('bad_inputs')

    def save(name, model_name, model, extra=()):
        save_checkpoint({'model_name': model_name, 'config': tiny_config(model_name, extra),
                         'state_dict': model.state_dict()}, folder / name)

    # no frames at all: the rows that must synthesize (30,000 symbols of digits) stay fast
    save('fastpitch.pt', 'FastPitch', pin_durations(tiny_model('FastPitch'), 0))
    waveglow = tiny_model('WaveGlow', EIGHT_MELS)
    save('waveglow.pt', 'WaveGlow', waveglow, EIGHT_MELS)
    bare = waveglow.state_dict()
    torch.save({key: value for key, value in bare.items() if key != 'upsample.weight'}, folder / 'wg_missing.pt')
    torch.save({key: value.flatten()[0] if key.startswith('convinv') else value for key, value in bare.items()},
               folder / 'wg_0d.pt')
    (folder / 'data' / 'wavs').mkdir(parents=True)
    sf.write(folder / 'data' / 'wavs' / 'a.wav', (0.1 * np.sin(np.arange(11025) / 10)).astype(np.float32), 22050,
             subtype='PCM_16')
    texts = {'hello': 'Hello world.', 'digits_5000': f'I counted {"7" * 5000} sheep.',
             'ordinal_40': f'The {"1" * 40}th time.'}
    for name, text in texts.items():
        (folder / f'{name}.txt').write_text(text + '\n')
    (folder / 'wav_list.txt').write_text('wavs/a.wav|Hello world.\n')
    paths = {name: folder / f'{name}.txt' for name in texts}
    return {**paths, 'fastpitch': folder / 'fastpitch.pt', 'waveglow': folder / 'waveglow.pt',
            'wg_missing': folder / 'wg_missing.pt', 'wg_0d': folder / 'wg_0d.pt', 'data': folder / 'data',
            'wav_list': folder / 'wav_list.txt', 'missing': folder / 'missing.txt', 'out': folder / 'out'}


def filled(argv, files):
    return [token.format(**files) for token in argv]


def check_error(command, code, words, returned, lines):
    text = '\n'.join(lines)
    assert 'Traceback' not in text, text
    assert returned == code, text
    if code == 0:
        return
    errors = [line for line in lines if line.startswith(f'{command}: error: ')]
    assert len(errors) == 1 and errors[0] == lines[-1], text  # one error line, the last thing said
    missing = [word for word in words if word not in errors[0]]
    assert not missing, f'{missing} not in {errors[0]!r}'


@pytest.mark.parametrize('command, argv, code, words', ROWS, ids=[f'{row[0]} {" ".join(row[1])}'[:80] for row in ROWS])
def test_bad_input_ends_in_one_line(command, argv, code, words, files, monkeypatch):
    monkeypatch.delenv('TTS_DEBUG', raising=False)
    monkeypatch.chdir(REPO)  # multiproc finds its script relative to the working folder
    check_error(command, code, words, *run_main(MAINS[command], filled(argv, files)))


# as processes: the real exit code and stderr of a row of each kind
PROCESS_ROWS = [ROWS[1], ROWS[5], ROWS[13], ROWS[20]]


@pytest.mark.slow
def test_as_processes_the_exit_codes_and_stderr_are_the_same(files, monkeypatch):
    monkeypatch.delenv('TTS_DEBUG', raising=False)
    processes = [subprocess.Popen([sys.executable, *command.replace('python ', '').split(), *filled(argv, files)],
                                  cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for command, argv, _, _ in PROCESS_ROWS]
    for process, (command, _, code, words) in zip(processes, PROCESS_ROWS):
        _, stderr = process.communicate(timeout=300)
        check_error(command, code, words, process.returncode, stderr.splitlines())


@pytest.mark.slow
def test_debug_shows_the_traceback(files, monkeypatch):
    command, argv, _, words = ROWS[13]  # evaluate.py --n-mel-channels 40
    result = subprocess.run([sys.executable, command, *filled(argv, files), '--debug'], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert 'Traceback (most recent call last)' in result.stderr and words[0] in result.stderr
