"""train.py and its step mechanics (common/training.py, common/training_state.py) on the embedded corpus with tiny
models: training lowers the loss, checkpoints load back, resuming (after an epoch or a SIGTERM) repeats the
uninterrupted run exactly, accumulation equals the larger batch, bf16 runs, non-finite steps are skipped and then
stop the run, and bad input ends in a one-line error.

Every run uses one thread: the 2-core test machine is shared, and two OpenMP threads fighting over it are several
times slower than one.
"""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import models
import train
from common.logger import read_json_log
from common.precision import Precision, PrecisionError, resolve_precision
from common.training import GradientStep, NonFiniteLossError, optimizer_state_mismatch
from common.training_state import ResumableBatchSampler
from tests.tiny_configs import TINY_FLAGS

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def fastpitch_argv(corpus, output, *extra, training_split='train'):
    lists = corpus / 'filelists'
    return ['-m', 'FastPitch', '-o', str(output), '-d', str(corpus),
            '--training-files', str(lists / f'espeak_mel_dur_pitch_text_{training_split}_filelist.txt'),
            '--validation-files', str(lists / 'espeak_mel_dur_pitch_text_val_filelist.txt'),
            '--pitch-mean-std-file', str(corpus / 'pitch_char_stats__espeak_audio_text_train_filelist.json'),
            '-lr', '0.1', '-bs', '1', '--epochs', '2', '--warmup-steps', '3', '--workers', '0', '--no-tensorboard',
            *TINY_FLAGS['FastPitch'], *extra]


def waveglow_argv(corpus, output, *extra):
    lists = corpus / 'filelists'
    return ['-m', 'WaveGlow', '-o', str(output), '-d', str(corpus),
            '--training-files', str(lists / 'espeak_audio_text_train_filelist.txt'),
            '--validation-files', str(lists / 'espeak_audio_text_val_filelist.txt'),
            '-lr', '1e-3', '-bs', '2', '--epochs', '2', '--workers', '0', '--no-tensorboard', '--n-mel-channels', '8',
            *TINY_FLAGS['WaveGlow'], *extra]


def training_clips(corpus):
    return len((corpus / 'filelists' / 'espeak_audio_text_train_filelist.txt').read_text().splitlines())


def records(output):
    return read_json_log(Path(output) / 'nvlog.json')


def iteration_losses(output):
    """[((epoch, step in epoch), loss)] in the order logged."""
    return [(tuple(record['step']), record['data']['train_loss']) for record in records(output)
            if isinstance(record['step'], list) and len(record['step']) == 2]


def epoch_values(output, key):
    return [record['data'][key] for record in records(output) if key in record['data'] and len(record['step']) == 1]


def assert_same_losses(run, reference, tolerance):
    assert [step for step, _ in run] == [step for step, _ in reference]
    for (step, loss), (_, expected) in zip(run, reference):
        assert loss == pytest.approx(expected, abs=tolerance, rel=0), step


def run_train(argv):
    assert train.main(argv) == 0


@pytest.fixture(scope='module')
def fastpitch_run(prepared_corpus, tmp_path_factory):
    """Two uninterrupted epochs of the tiny FastPitch (one clip per step), the reference for the resume tests."""
    output = tmp_path_factory.mktemp('fastpitch_uninterrupted')
    run_train(fastpitch_argv(prepared_corpus, output))
    return output


def test_fastpitch_trains_and_its_checkpoint_loads_back(fastpitch_run, prepared_corpus):
    steps = 2 * training_clips(prepared_corpus)
    assert len(iteration_losses(fastpitch_run)) == steps
    first, second = epoch_values(fastpitch_run, 'train_epoch_loss')
    assert second < first
    first, second = epoch_values(fastpitch_run, 'val_loss')
    assert second < first

    path = fastpitch_run / 'checkpoint_FastPitch_last.pt'
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    for key in ('epoch', 'config', 'state_dict', 'optimizer', 'scaler', 'cuda_rng_state_all', 'random_rng_states_all',
                'model_name', 'iteration', 'rng_states', 'progress'):
        assert key in checkpoint
    assert checkpoint['epoch'] == 2 and checkpoint['iteration'] == steps
    assert not any(key.startswith('module.') for key in checkpoint['state_dict'])
    model = models.load_model_from_checkpoint('FastPitch', path)
    stats = json.loads((prepared_corpus / 'pitch_char_stats__espeak_audio_text_train_filelist.json').read_text())
    assert float(model.pitch_mean) == pytest.approx(stats['mean'])  # --pitch-mean-std-file travels in the model
    assert float(model.pitch_std) == pytest.approx(stats['std'])


def test_resume_after_an_epoch_repeats_the_uninterrupted_run(fastpitch_run, prepared_corpus, tmp_path):
    run_train(fastpitch_argv(prepared_corpus, tmp_path, '--epochs', '1', '--iters-per-checkpoint', '2',
                             '--keep-checkpoints', '2'))
    # every second step inside the epoch and at its end; the newest two are kept
    last_inside = (training_clips(prepared_corpus) - 1) // 2 * 2
    assert sorted(path.name for path in tmp_path.glob('checkpoint_*')) == [
        'checkpoint_FastPitch_1.pt', f'checkpoint_FastPitch_1_it{last_inside}.pt', 'checkpoint_FastPitch_last.pt']
    run_train(fastpitch_argv(prepared_corpus, tmp_path, '--resume-from-last', '--epochs-per-checkpoint', '1',
                             '--keep-checkpoints', '1'))
    assert_same_losses(iteration_losses(tmp_path), iteration_losses(fastpitch_run), 1e-6)
    assert epoch_values(tmp_path, 'val_loss') == pytest.approx(epoch_values(fastpitch_run, 'val_loss'), abs=1e-6)
    assert sorted(path.name for path in tmp_path.glob('checkpoint_*')) == [
        'checkpoint_FastPitch_2.pt', 'checkpoint_FastPitch_last.pt']


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f'timed out waiting for {what}')
        time.sleep(0.05)


def test_sigterm_mid_epoch_saves_and_the_resumed_run_matches(fastpitch_run, prepared_corpus, tmp_path):
    argv = fastpitch_argv(prepared_corpus, tmp_path)
    with open(tmp_path / 'stdout.txt', 'w') as stdout:
        process = subprocess.Popen([sys.executable, 'train.py', *argv], cwd=REPO_ROOT, stdout=stdout,
                                   stderr=subprocess.STDOUT, env=dict(os.environ, OMP_NUM_THREADS='1'))
        try:
            # the log starts once the signal handlers are in place, and well before the first step ends
            wait_for(lambda: (tmp_path / 'nvlog.json').exists() and records(tmp_path), 300, 'the training log')
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=120) == 0, (tmp_path / 'stdout.txt').read_text()
        finally:
            process.kill()
            process.wait()
    assert sorted(path.name for path in tmp_path.glob('checkpoint_*')) == [
        'checkpoint_FastPitch_1_it1.pt', 'checkpoint_FastPitch_last.pt']
    assert len(iteration_losses(tmp_path)) == 1  # stopped at the first step boundary

    run_train(argv + ['--resume-from-last'])
    assert_same_losses(iteration_losses(tmp_path), iteration_losses(fastpitch_run), 1e-6)


def test_warm_start_takes_the_weights_and_a_fitting_optimizer_state(fastpitch_run, prepared_corpus, tmp_path,
                                                                      capfd):
    checkpoint = str(fastpitch_run / 'checkpoint_FastPitch_last.pt')
    fresh, warm, other_optimizer = tmp_path / 'fresh', tmp_path / 'warm', tmp_path / 'adam'
    one_step = ('--epochs', '1')
    run_train(fastpitch_argv(prepared_corpus, fresh, *one_step, training_split='val'))
    run_train(fastpitch_argv(prepared_corpus, warm, *one_step, '--checkpoint-path', checkpoint,
                             training_split='val'))
    assert 'optimizer state' not in capfd.readouterr().out
    assert iteration_losses(warm)[0][1] < 0.8 * iteration_losses(fresh)[0][1]

    run_train(fastpitch_argv(prepared_corpus, other_optimizer, *one_step, '--checkpoint-path', checkpoint,
                             '--optimizer', 'adam', training_split='val'))
    assert 'optimizer state of' in capfd.readouterr().out  # a LAMB state does not fit Adam: warned, not loaded
    assert iteration_losses(other_optimizer)[0][1] == pytest.approx(iteration_losses(warm)[0][1], rel=1e-6)


def test_warm_start_reads_the_reference_checkpoint_format(reference_dir, prepared_corpus, tmp_path, capfd):
    reference = reference_dir / 'golden_fastpitch10_ckpt.pt'  # DLE FastPitch 1.0 keys, a torch Adam state
    run_train(fastpitch_argv(prepared_corpus, tmp_path, '--epochs', '1', '--checkpoint-path', str(reference),
                             '--optimizer', 'adam', training_split='val'))
    assert 'not loaded' not in capfd.readouterr().out
    saved = torch.load(tmp_path / 'checkpoint_FastPitch_last.pt', map_location='cpu', weights_only=True)
    assert saved['config'] == torch.load(reference, map_location='cpu', weights_only=True)['config']


def test_target_validation_loss_saves_and_stops(prepared_corpus, tmp_path):
    run_train(fastpitch_argv(prepared_corpus, tmp_path, '--epochs', '5', '--target-val-loss', '1e9',
                             training_split='val'))
    assert len(epoch_values(tmp_path, 'val_loss')) == 1
    assert (tmp_path / 'checkpoint_FastPitch_1.pt').is_file()


def test_bf16_autocast_trains_on_the_cpu(prepared_corpus, tmp_path):
    run_train(fastpitch_argv(prepared_corpus, tmp_path, '--amp', '--amp-dtype', 'bf16', '--epochs', '1',
                             training_split='val'))
    losses = [loss for _, loss in iteration_losses(tmp_path)]
    assert len(losses) == 1 and math.isfinite(losses[0])
    with resolve_precision(torch.device('cpu'), True, 'bf16').autocast():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16


def test_fp16_on_the_cpu_is_refused():
    with pytest.raises(PrecisionError, match='--amp-dtype bf16'):
        resolve_precision(torch.device('cpu'), True, 'fp16')


def test_a_diverging_run_skips_nonfinite_steps_then_stops(prepared_corpus, tmp_path, capfd):
    argv = fastpitch_argv(prepared_corpus, tmp_path, '-lr', '1e30', '--optimizer', 'adam', '--warmup-steps', '0',
                          '--epochs', '20', '--max-nonfinite-steps', '3', training_split='val')
    assert train.main(argv) == 1
    captured = capfd.readouterr()
    assert captured.out.count('skipped: non-finite loss or gradient') == 3
    assert captured.err.strip().count('\n') == 0
    assert '3 optimizer steps in a row had a non-finite loss' in captured.err
    assert len(iteration_losses(tmp_path)) == 4  # one good step (it diverges), then three non-finite ones


def tiny_regression(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Linear(3, 1), torch.randn(8, 3), torch.randn(8, 1)


def test_accumulated_micro_batches_step_like_one_large_batch():
    def weights_after_one_step(accumulation_steps):
        model, inputs, targets = tiny_regression()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        stepper = GradientStep(model, F.mse_loss, optimizer, Precision('cpu'), accumulation_steps,
                               grad_clip_thresh=1e9, max_nonfinite_steps=3)
        for index, (x, y) in enumerate(zip(inputs.chunk(accumulation_steps), targets.chunk(accumulation_steps))):
            stepper.accumulate(x, y, last_micro_batch=index == accumulation_steps - 1)
        stepper.step(0.0)
        return torch.cat([model.weight.flatten(), model.bias])

    assert torch.allclose(weights_after_one_step(4), weights_after_one_step(1), atol=1e-6)


def test_nonfinite_steps_leave_the_weights_alone_and_too_many_in_a_row_stop():
    model, inputs, targets = tiny_regression()
    scale = {'value': float('nan')}  # multiplies the loss: nan, then 1, then inf

    def loss_function(output, target):
        return F.mse_loss(output, target) * scale['value']
    stepper = GradientStep(model, loss_function, torch.optim.SGD(model.parameters(), lr=0.1), Precision('cpu'),
                           1, grad_clip_thresh=1.0, max_nonfinite_steps=2)
    before = model.weight.detach().clone()
    stepper.accumulate(inputs, targets, last_micro_batch=True)
    result = stepper.step(float('nan'))
    assert result.skipped and result.nonfinite
    assert torch.equal(model.weight, before) and model.weight.grad is None

    scale['value'] = 1.0
    stepper.accumulate(inputs, targets, last_micro_batch=True)
    assert not stepper.step(1.0).skipped  # a good step resets the count
    assert not torch.equal(model.weight, before) and stepper.nonfinite_in_a_row == 0

    scale['value'] = float('inf')
    stepper.accumulate(inputs, targets, last_micro_batch=True)
    stepper.step(float('inf'))
    stepper.check_nonfinite_limit()  # one in a row: carry on
    stepper.accumulate(inputs, targets, last_micro_batch=True)
    stepper.step(float('inf'))
    with pytest.raises(NonFiniteLossError, match='2 optimizer steps in a row'):
        stepper.check_nonfinite_limit()


def test_ranks_share_each_large_batch_and_resume_skips_what_was_seen():
    dataset = list(range(20))
    single = ResumableBatchSampler(dataset, 4, 1, rank=0, world_size=1, seed=7)
    ranks = [ResumableBatchSampler(dataset, 2, 1, rank=rank, world_size=2, seed=7) for rank in range(2)]
    for sampler in (single, *ranks):
        sampler.set_epoch(3)
    for large, *shares in zip(single, *ranks):
        assert sorted(large) == sorted(sum(shares, []))
    resumed = ResumableBatchSampler(dataset, 4, 1, rank=0, world_size=1, seed=7)
    resumed.set_epoch(3, skip=2)
    assert list(resumed) == list(single)[2:] and len(resumed) == len(single) - 2
    accumulating = ResumableBatchSampler(dataset, 3, 2, rank=0, world_size=1, seed=7)
    assert len(accumulating) == 6  # 6 whole batches of 3 make 3 steps of 2; the last 2 items wait for next epoch


def test_optimizer_state_must_fit_to_be_loaded():
    model, inputs, targets = tiny_regression()
    adam = torch.optim.Adam(model.parameters())
    F.mse_loss(model(inputs), targets).backward()
    adam.step()
    assert optimizer_state_mismatch(torch.optim.Adam(model.parameters()), adam.state_dict()) is None
    other_model = torch.nn.Linear(4, 1)
    assert 'shape' in optimizer_state_mismatch(torch.optim.Adam(other_model.parameters()), adam.state_dict())
    assert 'another optimizer' in optimizer_state_mismatch(torch.optim.SGD(model.parameters(), lr=1),
                                                           adam.state_dict())


def test_waveglow_trains_and_accumulation_matches_the_larger_batch(prepared_corpus, tmp_path):
    large, accumulated = tmp_path / 'batch2', tmp_path / 'batch1x2'
    run_train(waveglow_argv(prepared_corpus, large))
    first, second = epoch_values(large, 'train_epoch_loss')
    assert second < first
    model = models.load_model_from_checkpoint('WaveGlow', large / 'checkpoint_WaveGlow_last.pt')
    assert model.n_mel_channels == 8

    # same clips per step and the same random windows in the same order; equal-sized items make the mean of the
    # two half-batch losses the loss of the whole batch
    run_train(waveglow_argv(prepared_corpus, accumulated, '-bs', '1', '--gradient-accumulation-steps', '2'))
    assert_same_losses(iteration_losses(accumulated), iteration_losses(large), 1e-5)


def test_tacotron2_trains_logs_alignments_and_loads_back(prepared_corpus, tmp_path):
    # the two shortest clips: the tiny decoder still runs one step per mel frame
    mel_list = prepared_corpus / 'filelists' / 'espeak_mel_text_train_filelist.txt'
    lines = mel_list.read_text().splitlines()
    frames = [torch.load(prepared_corpus / line.split('|')[0], weights_only=True).size(1) for line in lines]
    short = tmp_path / 'short_filelist.txt'
    short.write_text('\n'.join(line for _, line in sorted(zip(frames, lines))[:2]) + '\n')
    output = tmp_path / 'run'
    run_train(['-m', 'Tacotron2', '-o', str(output), '-d', str(prepared_corpus), '--load-mel-from-disk',
               '--training-files', str(short), '--validation-files', str(short), '-lr', '3e-3', '-bs', '2',
               '--epochs', '2', '--workers', '0', *TINY_FLAGS['Tacotron2']])
    first, second = epoch_values(output, 'train_epoch_loss')
    assert second < first
    models.load_model_from_checkpoint('Tacotron2', output / 'checkpoint_Tacotron2_last.pt')

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(output / 'tensorboard'), size_guidance={'images': 0})
    events.Reload()
    assert {'validation/alignment', 'validation/mel_predicted', 'validation/mel_target'} <= set(
        events.Tags()['images'])
    assert {'train_loss', 'train_lr', 'train_grad_norm', 'val_loss'} <= set(events.Tags()['scalars'])


# ---- flags and bad input ---------------------------------------------------------------------------------------

REQUIRED = ['-o', 'out', '--training-files', 'train.txt', '--validation-files', 'val.txt']


def test_config_file_sets_flags_and_the_command_line_wins(tmp_path):
    config = tmp_path / 'config.json'
    config.write_text(json.dumps({'model-name': 'FastPitch', 'learning-rate': 0.5, '--batch-size': 8,
                                  'epochs': 3, 'anneal_steps': [1, 2], 'amp': True, 'tf32': False,
                                  'symbols-embedding-dim': 64}))
    args = train.parse_args(['--config-file', str(config), '-lr', '0.25', *REQUIRED])
    assert (args.model_name, args.learning_rate, args.batch_size, args.epochs) == ('FastPitch', 0.25, 8, 3)
    assert args.symbols_embedding_dim == 64
    assert args.anneal_steps == [1, 2] and args.amp and not args.tf32
    assert args.optimizer == 'lamb' and args.grad_clip_thresh == 1000.0  # FastPitch's own defaults


def exit_code(argv):
    """main's return value, or the code argparse exits with."""
    try:
        return train.main(argv)
    except SystemExit as exit_info:
        return exit_info.code


@pytest.mark.parametrize('content, problem', [
    ('{"learning-rat": 1}', "unknown flag 'learning_rat'"),
    ('{"epochs": 1', 'not readable JSON'),
    ('[1, 2]', 'expected a JSON object'),
])
def test_bad_config_file_is_named(tmp_path, capfd, content, problem):
    config = tmp_path / 'config.json'
    config.write_text(content)
    assert exit_code(['-m', 'FastPitch', '--config-file', str(config), *REQUIRED]) == 1
    error = capfd.readouterr().err
    assert error.count('\n') == 1 and str(config) in error and problem in error


def test_config_file_switches_take_only_true_or_false(tmp_path, capfd):
    config = tmp_path / 'config.json'
    config.write_text('{"tf32": "false"}')  # a string: it used to read as true and turn TF32 on
    assert exit_code(['--config-file', str(config), '-m', 'FastPitch', *REQUIRED, '-lr', '1', '-bs', '1',
                      '--epochs', '1']) == 1
    assert "'tf32' takes true or false, not \"false\"" in capfd.readouterr().err
    config.write_text('{"tf32": false}')
    assert train.parse_args(['--config-file', str(config), '-m', 'FastPitch', *REQUIRED, '-lr', '1', '-bs', '1',
                             '--epochs', '1']).tf32 is False


@pytest.mark.parametrize('content, problem', [
    ('{"epochs": "3"}', "'epochs' takes an integer, not \"3\""),
    ('{"learning-rate": true}', "'learning_rate' takes a number, not true"),
    ('{"checkpoint-path": null}', "'checkpoint_path' takes a string, not null"),  # it read as the path 'None'
    ('{"anneal-steps": [1, "2"]}', "'anneal_steps' takes an integer or a list of them, not [1, \"2\"]"),
])
def test_config_file_values_must_have_their_flags_type(tmp_path, capfd, content, problem):
    config = tmp_path / 'config.json'
    config.write_text(content)
    assert exit_code(['-m', 'FastPitch', '--config-file', str(config), *REQUIRED, '-lr', '1', '-bs', '1',
                      '--epochs', '1']) == 1
    assert capfd.readouterr().err == f'train.py: error: --config-file {config}: {problem}\n'


def test_config_file_values_are_checked_like_flags(tmp_path, capfd):
    config = tmp_path / 'config.json'
    config.write_text('{"epochs": 0}')
    assert exit_code(['-m', 'FastPitch', '--config-file', str(config), *REQUIRED, '-lr', '1', '-bs', '1']) == 2
    assert capfd.readouterr().err == 'train.py: error: argument --epochs: 0 is not a positive integer (see --help)\n'


def test_bad_inputs_end_in_one_line_errors(prepared_corpus, tmp_path, capfd):
    def error_of(argv, code=1):
        assert exit_code(argv) == code  # 2: argparse's own exit
        error = capfd.readouterr().err
        assert error.count('\n') == 1, error
        return error

    assert "unknown model 'Nope'" in error_of(['-m', 'Nope', *REQUIRED, '-lr', '1', '-bs', '1', '--epochs', '1'])
    assert 'no such filelist' in error_of(fastpitch_argv(prepared_corpus, tmp_path / 'a', '--training-files',
                                                         str(tmp_path / 'missing.txt')))
    assert '--batch-size' in error_of(fastpitch_argv(prepared_corpus, tmp_path / 'b', '-bs', '0'), code=2)
    corrupt = tmp_path / 'corrupt.pt'
    corrupt.write_bytes(b'not a checkpoint')
    assert str(corrupt) in error_of(fastpitch_argv(prepared_corpus, tmp_path / 'c', '--checkpoint-path',
                                                   str(corrupt)))
    assert '--amp-dtype bf16' in error_of(fastpitch_argv(prepared_corpus, tmp_path / 'd', '--amp'))
    assert 'no optimizer step' in error_of(fastpitch_argv(prepared_corpus, tmp_path / 'e', '-bs', '100'))
    a_file = tmp_path / 'a_file'
    a_file.write_text('not a folder')
    assert str(a_file) in error_of(fastpitch_argv(prepared_corpus, a_file))  # -o naming a file
    assert '--hop-length: 0 is not a positive integer' in error_of(
        fastpitch_argv(prepared_corpus, tmp_path / 'f', '--hop-length', '0'), code=2)


def test_command_line_errors_exit_non_zero_without_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, 'train.py', '-m', 'WaveGlow', '-o', str(tmp_path), '-lr', '1', '-bs',
                             '1', '--epochs', '1', '--training-files', str(tmp_path / 'missing.txt'),
                             '--validation-files', str(tmp_path / 'missing.txt')],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert result.stderr.strip() == f'train.py: error: {tmp_path / "missing.txt"}: no such filelist'


class ChannelsLastScale(torch.nn.Module):
    """x * weight, with the weight stored transposed as our channels-last convolutions store theirs."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.weight = torch.nn.Parameter(torch.randn(4, 3).t())  # (3, 4), strides (1, 3)

    def forward(self, x):
        return self.weight * x


def test_a_loaded_optimizer_state_takes_its_parameters_layout():
    """A reference checkpoint's Adam state is contiguous; our channels-last parameters are not. Loaded as it is,
    the fused Adam would pair each state element with another parameter element."""
    def gradient_step(model):
        optimizer = torch.optim.Adam(model.parameters(), lr=0.1, fused=True)
        return GradientStep(model, lambda output, target: (output * target).sum(), optimizer, Precision('cpu'), 1,
                            grad_clip_thresh=1e9, max_nonfinite_steps=1)

    def one_step(step, seed):
        torch.manual_seed(seed)
        step.accumulate(torch.randn(3, 4), torch.randn(3, 4), last_micro_batch=True)
        step.step(0.0)

    uninterrupted, restarted = ChannelsLastScale(), ChannelsLastScale()
    steps = gradient_step(uninterrupted), gradient_step(restarted)
    one_step(steps[0], 1), one_step(steps[1], 1)
    saved = steps[1].state_dict()
    state = saved['optimizer']['state'][0]
    saved['optimizer']['state'][0] = {name: value.contiguous() for name, value in state.items()}
    resumed = gradient_step(restarted)
    resumed.load_state_dict(saved, 'saved.pt', warn=pytest.fail)
    one_step(steps[0], 2), one_step(resumed, 2)
    torch.testing.assert_close(restarted.weight, uninterrupted.weight)


def test_an_error_in_a_data_worker_ends_the_run_at_once(prepared_corpus, tmp_path):
    """Data-loader workers ignore SIGTERM (they must outlive a stop signal until the step boundary): after an error
    in one of them, the run must still exit, with the error in one line that names the filelist line."""
    lists = prepared_corpus / 'filelists'
    filelist = tmp_path / 'with_a_missing_wav.txt'
    lines = (lists / 'espeak_audio_text_train_filelist.txt').read_text().splitlines()[:3]
    filelist.write_text('\n'.join(lines + ['wavs/missing.wav|A clip that is not there.']) + '\n')
    argv = waveglow_argv(prepared_corpus, tmp_path / 'out', '--training-files', str(filelist), '--batch-size', '1',
                         '--workers', '2', '--epochs', '1')
    result = subprocess.run([sys.executable, 'train.py', *argv], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)  # it hung for ever
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith('train.py: error:')]
    assert error_lines == [f'train.py: error: {filelist}:4: {prepared_corpus / "wavs" / "missing.wav"}: no such file']


def test_waveglow_resumed_mid_epoch_with_workers_repeats_every_loss(prepared_corpus, tmp_path):
    """WaveGlow's random windows are drawn per item from (seed, epoch, clip), not from a worker's stream that a
    resume restarts: every per-step loss after a mid-epoch resume with --workers 2 is the uninterrupted run's."""
    whole, saved, resumed = tmp_path / 'whole', tmp_path / 'saved', tmp_path / 'resumed'
    flags = ('--workers', '2', '--batch-size', '1')
    run_train(waveglow_argv(prepared_corpus, whole, *flags))
    run_train(waveglow_argv(prepared_corpus, saved, *flags, '--iters-per-checkpoint', '2', '--epochs', '1'))
    resumed.mkdir()
    shutil.copy(saved / 'checkpoint_WaveGlow_1_it2.pt', resumed)
    run_train(waveglow_argv(prepared_corpus, resumed, *flags, '--resume-from-last'))
    after_resume = iteration_losses(resumed)
    assert after_resume[0][0] == (1, 3)
    assert_same_losses(after_resume, iteration_losses(whole)[2:], 1e-6)
