"""NVIDIA/waveglow's command lines (train.py -c config.json, distributed.py, mel2samp.py, inference.py -f -w) and the
Ascend port's, on the embedded corpus with a tiny config.json: the seed documents' commands with only the data paths
and the sizes changed."""
import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import torch

import evaluate
import inference
import mel2samp
import models
import train
from common.audio import load_wav
from common.stft import TacotronSTFT, mel_from_audio
from waveglow.upstream_config import CONFIG_SCHEMA, ConfigError, read_config

REPO = Path(__file__).resolve().parents[1]


def tiny_config(training_files, output_directory='checkpoints', **train_config):
    """NVIDIA/waveglow's config.json with the sizes changed (12 flows of 8 layers x 256 channels -> 4 x 2 x 16)."""
    config = json.loads(json.dumps(CONFIG_SCHEMA))
    config['train_config'].update(fp16_run=False, output_directory=str(output_directory), epochs=3,
                                  learning_rate=1e-3, iters_per_checkpoint=3, batch_size=2, with_tensorboard=True)
    config['train_config'].update(train_config)
    config['data_config'].update(training_files=str(training_files), segment_length=2048)
    config['waveglow_config'].update(n_flows=4, n_early_every=2, WN_config={'n_layers': 2, 'n_channels': 16,
                                                                             'kernel_size': 3})
    return config


def in_folder(main, argv, cwd):
    """An entry point's main(argv) run in `cwd` in this process -> (exit code, stdout, stderr)."""
    out, err, previous, threads = io.StringIO(), io.StringIO(), os.getcwd(), torch.get_num_threads()
    os.chdir(cwd)
    torch.set_num_threads(1)  # tiny models: a second thread only waits on a busy core
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        os.chdir(previous)
        torch.set_num_threads(threads)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope='module')
def upstream_run(corpus_dir, tmp_path_factory):
    """python train.py -c config.json: 8 clips (one audio path a line), 4 iterations an epoch, 3 epochs."""
    folder = tmp_path_factory.mktemp('waveglow_run')
    wavs = sorted((corpus_dir / 'wavs').glob('*.wav'))
    (folder / 'train_files.txt').write_text(''.join(f'{path}\n' for path in wavs))
    (folder / 'config.json').write_text(json.dumps(tiny_config('train_files.txt')))
    code, out, err = in_folder(train.main, ['-c', 'config.json'], folder)
    assert code == 0, err
    return folder, wavs, out


def train_losses(folder):
    records = [json.loads(line.split(' ', 1)[1]) for line in (folder / 'nvlog.json').read_text().splitlines()]
    return [record['data']['train_loss'] for record in records if 'train_loss' in record.get('data', {})]


@pytest.mark.slow
def test_training_writes_iteration_checkpoints_that_load_and_losses_fall(upstream_run):
    folder, _, _ = upstream_run
    output = folder / 'checkpoints'
    names = sorted(path.name for path in output.glob('waveglow_*'))
    assert names == ['waveglow_0', 'waveglow_11', 'waveglow_3', 'waveglow_6', 'waveglow_9']
    checkpoint = torch.load(output / 'waveglow_9', weights_only=True)
    assert checkpoint['iteration'] == 9 and checkpoint['learning_rate'] == 1e-3 and 'optimizer' in checkpoint
    model = models.load_model_from_checkpoint('WaveGlow', output / 'waveglow_9')
    assert len(model.WN) == 4 and model.WN[0].n_channels == 16
    losses = train_losses(output)
    assert len(losses) == 12 and sum(losses[-3:]) < sum(losses[:3])
    assert list((output / 'logs').glob('events.out.tfevents.*'))  # with_tensorboard


@pytest.mark.slow
def test_mel2samp_then_inference_vocode_the_saved_mels(upstream_run, tmp_path):
    """The Ascend port's evaluation: mel2samp.py on WAVs, then inference.py -f mel_files.txt -w P -o . --is_fp16
    -s 0.6 (one short clip: bf16 is emulated on this CPU)."""
    folder, wavs, _ = upstream_run
    shortest = min(wavs, key=lambda path: sf.info(path).frames)
    (tmp_path / 'wav_files.txt').write_text(f'{shortest}\n')
    code, _, err = in_folder(mel2samp.main, ['-f', 'wav_files.txt', '-o', 'mels', '-c',
                                             str(folder / 'config.json')], tmp_path)
    assert code == 0, err
    mel_path = tmp_path / 'mels' / f'{shortest.name}.pt'
    mel = torch.load(mel_path, weights_only=True)
    audio, _ = load_wav(shortest, 22050)
    torch.testing.assert_close(mel, mel_from_audio(TacotronSTFT(), audio))

    (tmp_path / 'mel_files.txt').write_text(f'mels/{mel_path.name}\n')
    command = ['-f', 'mel_files.txt', '-w', str(folder / 'checkpoints' / 'waveglow_11'), '-o', '.', '--is_fp16',
               '-s', '0.6']
    code, out, err = in_folder(inference.main, command, tmp_path)
    assert code == 0, err
    wav = tmp_path / f'{shortest.name}_synthesis.wav'
    info = sf.info(wav)
    assert info.samplerate == 22050 and info.frames == mel.shape[1] * 256 and info.subtype == 'PCM_16'


@pytest.mark.slow
def test_evaluate_reports_the_validation_negative_log_likelihood(upstream_run, tmp_path):
    """What the port's evaluation lacked (scripts/upstream/eval_waveglow.sh): a number to judge a checkpoint by."""
    folder, wavs, _ = upstream_run
    (tmp_path / 'filelist.txt').write_text(''.join(f'{path}|(audio only)\n' for path in wavs[:2]))
    args = ['-m', 'WaveGlow', '-d', '/', '--filelist', str(tmp_path / 'filelist.txt'), '--validation-loss']
    checkpoint = str(folder / 'checkpoints' / 'waveglow_11')
    trained = evaluate.evaluate(evaluate.parse_args([*args, '--checkpoint', checkpoint]))
    untrained = evaluate.evaluate(evaluate.parse_args([*args, '--checkpoint', checkpoint, '--untrained']))
    assert trained['validation_loss'] < -0.2 < untrained['validation_loss'] and trained['mel_l1'] > 0


def test_text_mode_of_inference_still_asks_for_its_input(tmp_path, capsys):
    assert inference.main(['-o', str(tmp_path), '--waveglow', 'W.pt']) == 2
    assert 'the following arguments are required: -i/--input' in capsys.readouterr().err


@pytest.mark.slow
def test_distributed_launcher_runs_train_with_the_config(upstream_run, tmp_path):
    """python distributed.py -c config.json: one rank per GPU, one on a CPU-only machine."""
    folder, _, _ = upstream_run
    config = tiny_config(folder / 'train_files.txt', tmp_path / 'out', epochs=1, iters_per_checkpoint=100)
    (tmp_path / 'config.json').write_text(json.dumps(config))
    result = subprocess.run([sys.executable, str(REPO / 'distributed.py'), '-c', 'config.json'], cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(path.name for path in (tmp_path / 'out').glob('waveglow_*')) == ['waveglow_0', 'waveglow_3']


# ---------------------------------------------------------------- config errors

@pytest.mark.parametrize('change, problem', [
    (lambda config: config['train_config'].update(batch_sise=3), 'unknown key train_config.batch_sise'),
    (lambda config: config['waveglow_config']['WN_config'].update(n_chanels=3),
     'unknown key waveglow_config.WN_config.n_chanels'),
    (lambda config: config.update(optimizer_config={}), 'unknown key optimizer_config'),
    (lambda config: config['train_config'].update(batch_size='12'), 'train_config.batch_size is "12", expected int'),
    (lambda config: config['train_config'].update(fp16_run=1), 'train_config.fp16_run is 1, expected bool'),
    (lambda config: config['data_config'].update(mel_fmax='8000'), 'data_config.mel_fmax is "8000", expected a number'),
])
def test_config_errors_name_the_key(tmp_path, change, problem):
    config = tiny_config('train_files.txt')
    change(config)
    (tmp_path / 'config.json').write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=f'^{tmp_path / "config.json"}: {problem}'):
        read_config(tmp_path / 'config.json')


def test_missing_keys_take_the_defaults_and_command_line_overrides_win(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'files.txt').write_text('a.wav\n')
    (tmp_path / 'config.json').write_text(json.dumps({'train_config': {'output_directory': 'out'},
                                                      'data_config': {'training_files': 'files.txt'}}))
    flags = models.upstream_train_args(['-c', 'config.json', '--fp16_run=false', '--iters_per_checkpoint=7'])
    pairs = dict(zip(flags, flags[1:]))
    assert pairs['-m'] == 'WaveGlow' and pairs['-o'] == 'out' and pairs['--checkpoint-name'] == 'waveglow_{iteration}'
    assert pairs['--iters-per-checkpoint'] == '7' and '--amp' not in flags  # the config's default fp16_run is true
    assert pairs['-bs'] == '12' and pairs['--wn-channels'] == '256' and pairs['--segment-length'] == '16000'
    assert (tmp_path / 'out' / 'upstream_training_files.txt').read_text() == 'a.wav|(audio only)\n'


def test_a_bad_config_is_one_line_on_stderr(tmp_path):
    (tmp_path / 'config.json').write_text('{"train_config": {"epochs": "many"}}')
    code, _, err = in_folder(train.main, ['-c', 'config.json'], tmp_path)
    assert code == 1
    assert err.strip() == 'train.py: error: config.json: train_config.epochs is "many", expected int'
