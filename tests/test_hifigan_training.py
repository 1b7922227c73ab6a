"""HiFi-GAN through train.py on the embedded corpus with the tiny config: the generator's mel loss falls, the
checkpoint holds the generator and the whole GAN step (discriminators, both optimizers and scalers) and loads back
as the generator alone, a resumed run repeats the uninterrupted one exactly, accumulation matches the larger batch,
and fine-tuning starts from NVIDIA's generator file (alone, or merged with its discriminator file), also on mels
written by a mel generator (--fine-tuning)."""
import math
import shutil

import pytest
import torch

import models
from common.checkpoint import save_checkpoint
from common.filelist import read_filelist, write_filelist
from hifigan.checkpoint_compat import training_checkpoint_from_dle
from hifigan.model import Generator
from tests.test_train import (assert_same_losses, epoch_values, iteration_losses, one_thread,  # noqa: F401
                              records, run_train)
from tests.test_train_distributed import launch_two_ranks
from tests.tiny_configs import TINY_FLAGS

EPOCHS = 3
STEP_ENTRIES = ('mpd', 'msd', 'optim_g', 'optim_d', 'scaler_g', 'scaler_d')
# the golden discriminators' sizes (GOLDEN.md): the reference periods at a sixteenth of the widths
GOLDEN_DISCRIMINATOR_FLAGS = ('--mpd-periods', '2', '3', '5', '7', '11', '--discriminator-channel-divisor', '16')


def hifigan_argv(corpus, output, *extra):
    lists = corpus / 'filelists'
    return ['-m', 'HiFiGAN', '-o', str(output), '-d', str(corpus),
            '--training-files', str(lists / 'espeak_audio_text_train_filelist.txt'),
            '--validation-files', str(lists / 'espeak_audio_text_val_filelist.txt'),
            '-lr', '1e-3', '-bs', '2', '--epochs', str(EPOCHS), '--workers', '0', '--no-tensorboard',
            *TINY_FLAGS['HiFiGAN'], *extra]


def step_metric(output, name):
    return [record['data'][f'train_{name}'] for record in records(output)
            if isinstance(record['step'], list) and len(record['step']) == 2]


@pytest.fixture(scope='module')
def hifigan_run(prepared_corpus, tmp_path_factory):
    """EPOCHS uninterrupted epochs of the tiny HiFi-GAN, the reference of the resume test."""
    output = tmp_path_factory.mktemp('hifigan_uninterrupted')
    with_tensorboard = [flag for flag in hifigan_argv(prepared_corpus, output) if flag != '--no-tensorboard']
    run_train(with_tensorboard)
    return output


def test_hifigan_trains_and_loads_back_as_the_generator(hifigan_run):
    val_losses = epoch_values(hifigan_run, 'val_loss')  # mel L1 on the same validation windows every epoch
    assert len(val_losses) == EPOCHS and val_losses[-1] < val_losses[0]
    mel_losses = step_metric(hifigan_run, 'mel_loss')
    steps_per_epoch = len(mel_losses) // EPOCHS
    assert sum(mel_losses[-steps_per_epoch:]) < sum(mel_losses[:steps_per_epoch])
    assert all(value > 0 for value in step_metric(hifigan_run, 'discriminator_loss'))
    # the learning rate decays by --lr-decay after every epoch, for both optimizers
    rates = [record['data']['train_lr'] for record in records(hifigan_run) if 'train_lr' in record['data']]
    assert rates[-1] == pytest.approx(1e-3 * 0.9998 ** (EPOCHS - 1))

    path = hifigan_run / 'checkpoint_HiFiGAN_last.pt'
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    assert set(STEP_ENTRIES) <= set(checkpoint)
    assert all(key.startswith(('conv_pre.', 'ups.', 'resblocks.', 'conv_post.')) for key in checkpoint['state_dict'])
    assert checkpoint['optim_g']['state'] and checkpoint['optim_d']['state']
    assert checkpoint['optim_g']['param_groups'][0]['betas'] == (0.8, 0.99)
    model = models.load_model_from_checkpoint('HiFiGAN', path)
    assert isinstance(model, Generator) and not model.training and not model.has_weight_norm()
    assert model.infer(torch.randn(1, 80, 5)).shape == (1, 5 * 256)

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(hifigan_run / 'tensorboard'), size_guidance={'images': 0})
    events.Reload()
    assert {'validation/mel_predicted', 'validation/mel_target'} <= set(events.Tags()['images'])
    assert {'train_mel_loss', 'train_discriminator_loss', 'val_loss'} <= set(events.Tags()['scalars'])


def test_resume_mid_epoch_repeats_the_uninterrupted_run(hifigan_run, prepared_corpus, tmp_path):
    saved, resumed = tmp_path / 'saved', tmp_path / 'resumed'
    run_train(hifigan_argv(prepared_corpus, saved, '--epochs', '1', '--iters-per-checkpoint', '2'))
    resumed.mkdir()
    shutil.copy(saved / 'checkpoint_HiFiGAN_1_it2.pt', resumed)
    run_train(hifigan_argv(prepared_corpus, resumed, '--resume-from-last'))
    assert iteration_losses(resumed)[0][0] == (1, 3)
    assert_same_losses(iteration_losses(resumed), iteration_losses(hifigan_run)[2:], 1e-6)
    for name in ('discriminator_loss', 'mel_loss'):
        assert step_metric(resumed, name) == pytest.approx(step_metric(hifigan_run, name)[2:], abs=1e-6)
    assert epoch_values(resumed, 'val_loss') == pytest.approx(epoch_values(hifigan_run, 'val_loss'), abs=1e-6)


def test_accumulated_micro_batches_train_like_the_larger_batch(hifigan_run, prepared_corpus, tmp_path):
    run_train(hifigan_argv(prepared_corpus, tmp_path, '-bs', '1', '--gradient-accumulation-steps', '2',
                           '--epochs', '1'))
    # the same clips and windows per step; the spectral-normed discriminator iterates once per call, so its
    # estimate differs a little with the number of calls
    losses, reference = iteration_losses(tmp_path), iteration_losses(hifigan_run)[:len(iteration_losses(tmp_path))]
    assert_same_losses(losses, reference, 1e-3 * max(loss for _, loss in reference))


def test_two_ranks_train_like_one_process_with_the_same_global_batch(hifigan_run, prepared_corpus, tmp_path):
    """train.py wraps the generator in DistributedDataParallel, the step each discriminator. The spectral norm's
    power iteration depends on the weights only, so each rank iterating once per call keeps them exact."""
    with open(tmp_path / 'launcher.txt', 'w') as log:
        launcher = launch_two_ranks(hifigan_argv(prepared_corpus, tmp_path / 'run', '-bs', '1', '--epochs', '1'), log)
        assert launcher.wait(timeout=600) == 0, (tmp_path / 'launcher.txt').read_text()
    losses = iteration_losses(tmp_path / 'run')
    reference = iteration_losses(hifigan_run)[:len(losses)]
    assert_same_losses(losses, reference, 1e-5 * max(loss for _, loss in reference))
    assert step_metric(tmp_path / 'run', 'discriminator_loss') == pytest.approx(
        step_metric(hifigan_run, 'discriminator_loss')[:len(losses)], rel=1e-5)


def test_bf16_autocast_trains_on_the_cpu(prepared_corpus, tmp_path):
    run_train(hifigan_argv(prepared_corpus, tmp_path, '--amp', '--amp-dtype', 'bf16', '--epochs', '1'))
    assert all(math.isfinite(loss) for _, loss in iteration_losses(tmp_path))
    checkpoint = torch.load(tmp_path / 'checkpoint_HiFiGAN_last.pt', map_location='cpu', weights_only=True)
    assert checkpoint['scaler_g'] == checkpoint['scaler_d'] == {}  # bf16 scales no loss


@pytest.mark.cuda
def test_fp16_trains_with_a_loss_scaler_per_optimizer_and_resumes_on_the_gpu(prepared_corpus, tmp_path):
    whole, resumed = tmp_path / 'whole', tmp_path / 'resumed'
    fp16 = ('--amp', '--amp-dtype', 'fp16')
    run_train(hifigan_argv(prepared_corpus, whole, *fp16))
    checkpoint = torch.load(whole / 'checkpoint_HiFiGAN_last.pt', map_location='cpu', weights_only=True)
    assert checkpoint['scaler_g']['scale'] > 0 and checkpoint['scaler_d']['scale'] > 0
    run_train(hifigan_argv(prepared_corpus, resumed, *fp16, '--epochs', '1'))
    run_train(hifigan_argv(prepared_corpus, resumed, *fp16, '--resume-from-last'))
    reference = iteration_losses(whole)
    # cuDNN's backward passes are not deterministic
    assert_same_losses(iteration_losses(resumed), reference, 1e-4 * max(loss for _, loss in reference))


def test_fine_tuning_starts_from_nvidias_generator_file(reference_dir, prepared_corpus, tmp_path, capfd):
    golden_file = reference_dir / 'golden_hifigan_gen_ckpt.pt'
    golden = torch.load(golden_file, map_location='cpu', weights_only=True)
    run_train(hifigan_argv(prepared_corpus, tmp_path / 'generator_only', '--epochs', '1', '--checkpoint-path',
                           str(golden_file), *GOLDEN_DISCRIMINATOR_FLAGS))
    assert 'warm start from' in capfd.readouterr().out
    saved = torch.load(tmp_path / 'generator_only' / 'checkpoint_HiFiGAN_last.pt', map_location='cpu',
                       weights_only=True)
    assert saved['config'] == golden['config']  # the file's generator, not the tiny flags'
    assert saved['state_dict'].keys() == golden['generator'].keys()


def test_fine_tuning_takes_the_discriminators_of_a_merged_dle_pair(reference_dir, load_reference,
                                                                   prepared_corpus, tmp_path, capfd):
    merged = tmp_path / 'merged.pt'
    save_checkpoint(training_checkpoint_from_dle(load_reference('golden_hifigan_gen_ckpt.pt'),
                                                 load_reference('golden_hifigan_discrim_ckpt.pt')), merged)
    run_train(hifigan_argv(prepared_corpus, tmp_path / 'fits', '--epochs', '1', '--checkpoint-path', str(merged),
                           *GOLDEN_DISCRIMINATOR_FLAGS))
    assert 'not loaded' not in capfd.readouterr().out
    run_train(hifigan_argv(prepared_corpus, tmp_path / 'other_sizes', '--epochs', '1', '--checkpoint-path',
                           str(merged)))  # the tiny discriminators: DLE's do not fit, nor does their optimizer
    out = capfd.readouterr().out
    assert f'mpd of {merged} not loaded' in out and f'msd of {merged} not loaded' in out


def test_fine_tuning_mode_trains_on_mels_from_disk(reference_dir, prepared_corpus, tmp_path):
    """--fine-tuning: lines wavs/ID.wav|MELS/ID.pt|text; prepare_dataset.py's mels stand in for a generator's."""
    lists = {}
    for split in ('train', 'val'):
        mel_list = prepared_corpus / 'filelists' / f'espeak_mel_text_{split}_filelist.txt'
        lists[split] = tmp_path / f'fine_tuning_{split}_filelist.txt'
        write_filelist(lists[split], [(f'wavs/{entry.clip_id}.wav', entry.paths[0], entry.text)
                                      for entry in read_filelist(mel_list, n_path_columns=1)])
    output = tmp_path / 'run'
    run_train(hifigan_argv(prepared_corpus, output, '--epochs', '2', '--fine-tuning', '--checkpoint-path',
                           str(reference_dir / 'golden_hifigan_gen_ckpt.pt'), *GOLDEN_DISCRIMINATOR_FLAGS,
                           '--training-files', str(lists['train']), '--validation-files', str(lists['val'])))
    assert len(epoch_values(output, 'val_loss')) == 2
    assert all(loss > 0 for loss in step_metric(output, 'mel_loss'))
