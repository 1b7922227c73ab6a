"""Data-loader workers: the random draws of a training item do not depend on which process loads it or on where the
epoch was resumed (common/training_state.SeededItems), and a worker's error reaches the training process as it would
without workers (common/training.loaded_batches)."""
import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from common.filelist import FilelistError
from common.training import loaded_batches, prepare_worker
from common.training_state import ResumableBatchSampler, SeededItems
from tests.test_train import (assert_same_losses, iteration_losses, one_thread,  # noqa: F401 (autouse)
                              run_train)


class RandomDraws(Dataset):
    """Item i: (i, a draw of Python's, NumPy's and torch's generator), as an augmentation would draw them."""

    def __len__(self):
        return 12

    def __getitem__(self, index):
        return torch.tensor([index, random.random(), np.random.rand(), torch.rand(()).item()], dtype=torch.float64)


def epoch_of_draws(workers, skip=0, rank=0, world_size=1):
    sampler = ResumableBatchSampler(RandomDraws(), 2, 1, rank, world_size, seed=5)
    sampler.set_epoch(3, skip=skip)
    # the loader's own generator, as train.py gives it: without one, starting an epoch draws from the global one
    loader = DataLoader(SeededItems(RandomDraws(), seed=5), batch_sampler=sampler, num_workers=workers,
                        worker_init_fn=prepare_worker if workers else None, generator=torch.Generator())
    return torch.cat(list(loaded_batches(loader)))


def test_item_draws_depend_on_seed_epoch_and_index_only():
    torch.manual_seed(0)
    before = torch.rand(())
    torch.manual_seed(0)
    in_process = epoch_of_draws(workers=0)
    assert torch.rand(()) == before  # the training process's own stream is untouched
    assert torch.equal(epoch_of_draws(workers=2), in_process)
    assert torch.equal(epoch_of_draws(workers=2, skip=3), in_process[6:])  # resumed after three batches
    on_two_ranks = torch.cat([epoch_of_draws(workers=0, rank=rank, world_size=2) for rank in range(2)])
    assert torch.equal(on_two_ranks[on_two_ranks[:, 0].argsort()], in_process[in_process[:, 0].argsort()])
    assert len(set(in_process[:, 1].tolist())) == len(in_process)  # every item its own draws


class FailingItem(Dataset):
    MESSAGE = 'list.txt:3: mels/x.pt: holds a dict\nsecond line of the message'

    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == 2:
            raise FilelistError(self.MESSAGE)
        return torch.zeros(1)


@pytest.mark.parametrize('workers', [0, 2])
def test_a_worker_error_arrives_as_its_own_type_and_message(workers):
    loader = DataLoader(FailingItem(), batch_size=1, num_workers=workers,
                        worker_init_fn=prepare_worker if workers else None)
    with pytest.raises(FilelistError) as raised:
        list(loaded_batches(loader))
    assert str(raised.value) == FailingItem.MESSAGE


@pytest.mark.slow
def test_hifigan_resumed_mid_epoch_with_workers_repeats_every_loss(prepared_corpus, tmp_path):
    """HiFi-GAN's windows are drawn per item from (seed, epoch, clip): every per-step loss after a mid-epoch
    resume with --workers 2 is the uninterrupted run's (WaveGlow's: tests/test_train.py)."""
    from tests.test_hifigan_training import hifigan_argv
    whole, resumed = tmp_path / 'whole', tmp_path / 'resumed'
    flags = ('--workers', '2', '--batch-size', '1', '--epochs', '1')
    run_train(hifigan_argv(prepared_corpus, whole, *flags))
    run_train(hifigan_argv(prepared_corpus, resumed, *flags, '--iters-per-checkpoint', '2'))
    for path in resumed.glob('checkpoint_HiFiGAN_1*.pt'):
        if path.name != 'checkpoint_HiFiGAN_1_it2.pt':
            path.unlink()  # resume from step 2 of the epoch
    (resumed / 'nvlog.json').unlink()
    run_train(hifigan_argv(prepared_corpus, resumed, *flags, '--resume-from-last'))
    after_resume = iteration_losses(resumed)
    assert after_resume[0][0] == (1, 3)
    assert_same_losses(after_resume, iteration_losses(whole)[2:], 1e-6)
