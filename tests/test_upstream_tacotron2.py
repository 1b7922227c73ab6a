"""NVIDIA/tacotron2's (and DeepSparkHub's) train.py command lines on the embedded corpus, through our one training
loop: the seed documents' commands with only the data paths and the sizes (--hparams) changed."""
import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import models
import train
from tacotron2.upstream_cli import HPARAMS, translate
from tacotron2.upstream_hparams import HParamsError, parse_hparams

REPO = Path(__file__).resolve().parents[1]
TINY_SIZES = ('symbols_embedding_dim=32,encoder_embedding_dim=32,encoder_n_convolutions=2,attention_rnn_dim=48,'
              'attention_dim=16,attention_location_n_filters=8,decoder_rnn_dim=48,prenet_dim=16,'
              'postnet_embedding_dim=32,postnet_n_convolutions=3')
# 6 training clips in batches of 2: 3 iterations per epoch, a checkpoint and a validation every 2
RUN_SIZES = f'epochs=2,iters_per_checkpoint=2,batch_size=2,{TINY_SIZES}'


def run(command, cwd, check=True):
    """`python train.py ARGS` in `cwd`, in this process (a fresh interpreter costs seconds of imports) -> its exit
    code and what it printed."""
    out, err, previous, threads = io.StringIO(), io.StringIO(), os.getcwd(), torch.get_num_threads()
    os.chdir(cwd)
    torch.set_num_threads(1)  # tiny models: a second thread only waits on a busy core
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = train.main(command[1:])
    finally:
        os.chdir(previous)
        torch.set_num_threads(threads)
    result = subprocess.CompletedProcess(command, code, out.getvalue(), err.getvalue())
    if check:
        assert code == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope='module')
def data(corpus_dir, tmp_path_factory):
    """The corpus filelists with absolute WAV paths (NVIDIA/tacotron2 reads them relative to the working folder)."""
    folder = tmp_path_factory.mktemp('t2_data')
    hparams = {}
    for split, name in (('train', 'training_files'), ('val', 'validation_files')):
        source = corpus_dir / 'filelists' / f'espeak_audio_text_{split}_filelist.txt'
        lines = [f'{corpus_dir}/{line}' for line in source.read_text().splitlines() if line]
        (folder / source.name).write_text('\n'.join(lines) + '\n')
        hparams[name] = folder / source.name
    return f'training_files={hparams["training_files"]},validation_files={hparams["validation_files"]}'


@pytest.fixture(scope='module')
def upstream_run(data, tmp_path_factory):
    """DeepSparkHub's command: python train.py --output_directory=outdir --log_directory=logdir --target_val_loss=0.5"""
    folder = tmp_path_factory.mktemp('t2_run')
    result = run([str(REPO / 'train.py'), '--output_directory=outdir', '--log_directory=logdir',
                  f'--hparams={data},{RUN_SIZES}', '--target_val_loss=0.5'], cwd=folder)
    return folder, result


def logged(folder, metric):
    values = []
    for line in (folder / 'outdir' / 'nvlog.json').read_text().splitlines():
        record = json.loads(line.split(' ', 1)[1] if line.startswith('DLLL') else line)
        if metric in record.get('data', {}) and record.get('step') != []:
            values.append(record['data'][metric])
    return values


@pytest.mark.slow
def test_checkpoints_are_named_by_iteration_and_read_by_both_loaders(upstream_run):
    folder, _ = upstream_run
    names = sorted(path.name for path in (folder / 'outdir').iterdir() if path.name.startswith('checkpoint'))
    assert names == ['checkpoint_0', 'checkpoint_2', 'checkpoint_4', 'checkpoint_5']  # the last: end of training
    path = folder / 'outdir' / 'checkpoint_4'
    # theirs: {'iteration', 'state_dict', 'optimizer', 'learning_rate'} into a model of the hparams and a plain Adam
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    assert checkpoint['iteration'] == 4 and checkpoint['learning_rate'] == HPARAMS['learning_rate']
    config = dict(models.default_model_config('Tacotron2'), mask_padding=True, max_decoder_steps=1000,
                  **{key: int(value) for key, value in (item.split('=') for item in TINY_SIZES.split(','))})
    model = models.get_model('Tacotron2', config, 'cpu')
    model.load_state_dict(checkpoint['state_dict'])
    torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6).load_state_dict(checkpoint['optimizer'])
    # ours
    assert models.load_model_from_checkpoint('Tacotron2', path).decoder.max_decoder_steps == 1000


@pytest.mark.slow
def test_validates_at_every_checkpoint_losses_fall_and_tensorboard_is_in_the_log_directory(upstream_run):
    folder, result = upstream_run
    val_losses = logged(folder, 'val_loss')
    assert len(val_losses) == 4  # at iterations 0, 2, 4 and after the last epoch
    assert val_losses[-1] < val_losses[0]
    train_losses = logged(folder, 'train_loss')
    assert len(train_losses) == 6 and sum(train_losses[-2:]) < sum(train_losses[:2])
    assert list((folder / 'outdir' / 'logdir').glob('events.out.tfevents.*'))
    assert 'training status: aborted (--target-val-loss 0.5 not reached)' in result.stdout


@pytest.mark.slow
def test_warm_start_takes_every_weight_but_ignore_layers_and_the_target_loss_stops(upstream_run, data, tmp_path):
    folder, _ = upstream_run
    source = folder / 'outdir' / 'checkpoint_4'
    # a learning rate too small to move a weight, so that checkpoint_0 holds what the warm start loaded; a target
    # validation loss that the first validation reaches, so that training stops there, after saving
    result = run([str(REPO / 'train.py'), '--output_directory=outdir', '-c', str(source), '--warm_start',
                  f'--hparams={data},{RUN_SIZES},learning_rate=1e-20', '--target_val_loss=1000'], cwd=tmp_path)
    assert sorted(path.name for path in (tmp_path / 'outdir').glob('checkpoint*')) == ['checkpoint_0']
    assert 'training status: success (--target-val-loss 1000.0 reached)' in result.stdout
    before = torch.load(source, weights_only=True)['state_dict']
    after = torch.load(tmp_path / 'outdir' / 'checkpoint_0', weights_only=True)['state_dict']
    assert not torch.equal(before['embedding.weight'], after['embedding.weight'])
    for key in before:
        if key != 'embedding.weight' and 'running_' not in key and 'num_batches' not in key:  # BatchNorm statistics
            torch.testing.assert_close(before[key], after[key], atol=1e-6, rtol=0, msg=key)


@pytest.mark.slow
def test_checkpoint_path_resumes_exactly(upstream_run, data, tmp_path):
    folder, _ = upstream_run
    run([str(REPO / 'train.py'), '--output_directory=outdir', '-c', str(folder / 'outdir' / 'checkpoint_2'),
         f'--hparams={data},{RUN_SIZES}'], cwd=tmp_path)
    assert sorted(path.name for path in (tmp_path / 'outdir').glob('checkpoint*')) == ['checkpoint_4', 'checkpoint_5']
    resumed = torch.load(tmp_path / 'outdir' / 'checkpoint_5', weights_only=True)['state_dict']
    uninterrupted = torch.load(folder / 'outdir' / 'checkpoint_5', weights_only=True)['state_dict']
    for key in uninterrupted:
        torch.testing.assert_close(resumed[key], uninterrupted[key], msg=key)


@pytest.mark.slow
def test_multiproc_trains_the_ranks_together(data, tmp_path):
    """python -m multiproc train.py ... --hparams=distributed_run=True,fp16_run=True: fp16 needs a GPU, so on the
    CPU the same command without fp16_run, on two ranks."""
    command = ['-m', 'multiproc', '--nproc', '2', str(REPO / 'train.py'), '--output_directory=outdir',
               '--log_directory=logdir', f'--hparams=distributed_run=True,{data},{RUN_SIZES}', '--target_val_loss=1000']
    env_path = {'PYTHONPATH': str(REPO)}
    result = subprocess.run([sys.executable, *command], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, 'OMP_NUM_THREADS': '1', **env_path})
    assert result.returncode == 0, result.stderr[-3000:]
    assert '2 rank(s)' in result.stdout
    assert sorted(path.name for path in (tmp_path / 'outdir').glob('checkpoint*')) == ['checkpoint_0']


def test_fp16_run_on_the_cpu_is_a_one_line_error(data, tmp_path):
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: fp16_run works')
    result = run([str(REPO / 'train.py'), '--output_directory=outdir', '--log_directory=logdir',
                  f'--hparams=fp16_run=True,{data},{RUN_SIZES}'], cwd=tmp_path, check=False)
    assert result.returncode == 1 and 'needs a CUDA device' in result.stderr
    assert 'Traceback' not in result.stderr and len(result.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- the command line and --hparams

def test_hparams_are_typed_by_their_defaults():
    parsed = parse_hparams('epochs = 3, learning_rate=1e-4,fp16_run=True, distributed_run=0, sampling_rate=8000,'
                           'ignore_layers=[embedding.weight, decoder.linear_projection.linear_layer.weight],'
                           'text_cleaners=[],mel_fmax=8000', HPARAMS)
    assert parsed == {'epochs': 3, 'learning_rate': 1e-4, 'fp16_run': True, 'distributed_run': False,
                      'sampling_rate': 8000, 'mel_fmax': 8000.0, 'text_cleaners': [],
                      'ignore_layers': ['embedding.weight', 'decoder.linear_projection.linear_layer.weight']}


@pytest.mark.parametrize('text, problem', [
    ('batch_sise=32', "unknown hyperparameter 'batch_sise'"),
    ('batch_size=32.0', "batch_size='32.0' is not an int"),
    ('learning_rate=fast', "learning_rate='fast' is not a float"),
    ('fp16_run=yes', "fp16_run='yes' is not a boolean"),
    ('epochs=2,epochs=3', 'epochs is set twice'),
    ('ignore_layers=embedding.weight', 'ignore_layers takes a list in brackets'),
    ('epochs=[1,2]', 'epochs takes one value, not a list'),
    ('epochs', "malformed clause 'epochs'"),
])
def test_bad_hparams_are_errors_naming_the_key(text, problem):
    with pytest.raises(HParamsError, match=f'^--hparams: {problem}'.replace('[', r'\[').replace('(', r'\(')):
        parse_hparams(text, HPARAMS)


def test_the_command_line_translates_to_our_flags():
    flags = translate(['--output_directory=out', '--log_directory=logs', '--hparams=batch_size=8,mask_padding=false'])
    pairs = dict(zip(flags, flags[1:]))
    assert pairs['-o'] == 'out' and pairs['--tensorboard'] == 'out/logs' and pairs['--batch-size'] == '8'
    assert pairs['--mask-padding'] == 'False' and pairs['--max-decoder-steps'] == '1000'
    assert pairs['--checkpoint-name'] == 'checkpoint_{iteration}' and pairs['--target-val-loss'] == '5.0'
    assert translate(['-m', 'Tacotron2', '-o', 'out']) is None  # ours


def test_command_line_errors_exit_with_one_line(tmp_path):
    usage = run([str(REPO / 'train.py'), '--output_directory=out', '--epochs=3'], tmp_path, check=False)
    assert usage.returncode == 2 and 'unrecognized arguments: --epochs=3' in usage.stderr


@pytest.mark.slow
def test_an_unknown_hparams_key_exits_1_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / 'train.py'), '--output_directory=out',
                             '--hparams=batch_sise=3'], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == "train.py: error: --hparams: unknown hyperparameter 'batch_sise'"
