"""The CUDA paths, where a GPU is present (every test here is marked `cuda` and skipped without one): outputs on the
GPU against the CPU in fp32 with TF32 off, a training step of every model in fp32, fp16 (with the loss scaler) and
bf16, resuming on the GPU, and two ranks over NCCL where two GPUs are present.

Tolerances: fp32 GPU against CPU within 1e-4 absolute (different kernels sum in different orders); resumed losses
within 1e-4 relative of the uninterrupted run's (cuDNN and atomics make backward passes non-deterministic on GPUs).
"""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import models
import train
from common.precision import configure_backends
from tests.test_train import fastpitch_argv, iteration_losses, waveglow_argv
from tests.tiny_configs import TINY_FLAGS, tiny_model

pytestmark = pytest.mark.cuda
REPO_ROOT = Path(__file__).resolve().parents[1]
CUDA = torch.device('cuda')


@pytest.fixture
def exact_fp32():
    """TF32 off, so that fp32 on the GPU is comparable with the CPU."""
    configure_backends(CUDA, True, False, tf32=False)
    yield
    configure_backends(CUDA, True, False, tf32=True)


def _symbols(length=24):
    torch.manual_seed(3)
    return torch.randint(1, 148, (2, length)), torch.tensor([length, length - 5])


def _tacotron2_output(model, device):
    model.decoder.prenet.p_dropout = 0.0  # its dropout is on even in eval mode and draws differently per device
    text, lengths = _symbols()
    return model.infer(text.to(device), lengths.to(device))[0]


def _fastpitch_output(model, device):
    text, lengths = _symbols()
    return model.infer(text.to(device), lengths.to(device), dur_tgt=torch.full_like(text, 3).to(device))[0]


def _waveglow_output(model, device):
    model = model.remove_weightnorm(model)
    torch.manual_seed(4)
    return model.infer(torch.randn(1, 80, 12).to(device), sigma=0.0)


OUTPUTS = {'Tacotron2': (['--decoder-no-early-stopping', '--max-decoder-steps', '20'], _tacotron2_output),
           'FastPitch': ([], _fastpitch_output), 'WaveGlow': ([], _waveglow_output)}


@pytest.mark.parametrize('name', OUTPUTS)
def test_gpu_outputs_equal_cpu_outputs_in_fp32(exact_fp32, name):
    extra, output = OUTPUTS[name]
    model = tiny_model(name, extra).eval()
    with torch.no_grad():
        expected = output(model, torch.device('cpu'))
        got = output(model.to(CUDA), CUDA)
    torch.testing.assert_close(got.cpu(), expected, atol=1e-4, rtol=1e-3)


def tacotron2_argv(corpus, output, *extra):
    lists = corpus / 'filelists'
    return ['-m', 'Tacotron2', '-o', str(output), '-d', str(corpus), '--load-mel-from-disk',
            '--training-files', str(lists / 'espeak_mel_text_val_filelist.txt'),
            '--validation-files', str(lists / 'espeak_mel_text_val_filelist.txt'), '-lr', '1e-3', '-bs', '1',
            '--epochs', '1', '--workers', '0', '--no-tensorboard', *TINY_FLAGS['Tacotron2'], *extra]


ARGV = {'Tacotron2': tacotron2_argv,
        'FastPitch': lambda corpus, output, *extra: fastpitch_argv(corpus, output, '--epochs', '1', *extra,
                                                                 training_split='val'),
        'WaveGlow': lambda corpus, output, *extra: waveglow_argv(corpus, output, '--epochs', '1', *extra)}
PRECISION_FLAGS = {'fp32': [], 'fp16': ['--amp', '--amp-dtype', 'fp16'], 'bf16': ['--amp', '--amp-dtype', 'bf16']}


@pytest.mark.parametrize('precision', PRECISION_FLAGS)
@pytest.mark.parametrize('name', ARGV)
def test_every_model_trains_on_the_gpu(prepared_corpus, tmp_path, name, precision):
    assert train.main(ARGV[name](prepared_corpus, tmp_path, *PRECISION_FLAGS[precision])) == 0
    losses = [loss for _, loss in iteration_losses(tmp_path)]
    assert losses and all(torch.isfinite(torch.tensor(losses)))
    models.load_model_from_checkpoint(name, tmp_path / f'checkpoint_{name}_last.pt', device=CUDA)


def test_resuming_on_the_gpu_repeats_the_losses(prepared_corpus, tmp_path):
    whole, resumed = tmp_path / 'whole', tmp_path / 'resumed'
    assert train.main(fastpitch_argv(prepared_corpus, whole, '--epochs', '2', training_split='val')) == 0
    assert train.main(fastpitch_argv(prepared_corpus, resumed, '--epochs', '1', training_split='val')) == 0
    assert train.main(fastpitch_argv(prepared_corpus, resumed, '--epochs', '2', '--resume-from-last',
                                     training_split='val')) == 0
    expected, got = iteration_losses(whole), iteration_losses(resumed)
    assert [step for step, _ in got] == [step for step, _ in expected]
    for (step, loss), (_, reference) in zip(got, expected):
        assert loss == pytest.approx(reference, rel=1e-4), step


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason='needs two GPUs for two NCCL ranks')
def test_two_ranks_train_over_nccl(prepared_corpus, tmp_path):
    argv = fastpitch_argv(prepared_corpus, tmp_path, '--epochs', '1', training_split='val')
    result = subprocess.run([sys.executable, '-m', 'multiproc', '--nproc', '2', 'train.py', *argv], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / 'checkpoint_FastPitch_last.pt').exists()
