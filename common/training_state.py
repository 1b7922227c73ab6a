"""What a training run must keep to stop and continue exactly: its progress, where each rank is in the epoch's
shuffled batches, and the checkpoint payload (read and written through common/checkpoint.py only).

A checkpoint holds the reference training keys (epoch, config, state_dict without `module.`, optimizer, scaler,
cuda_rng_state_all, random_rng_states_all), so the reference tools read it, plus model_name, iteration, the
learning rate, every rank's complete RNG state (python, numpy, torch, CUDA), the position in the epoch and the
running epoch sums, and the run's flags (train_setup).
"""
import contextlib
import itertools
import random
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.utils.data import BatchSampler, Dataset, DistributedSampler

from common import distributed
from common.checkpoint import CheckpointError, capture_rng_state, load_checkpoint, restore_rng_state


@dataclass
class Progress:
    """Where a run is: `epoch` (from 1) is the epoch in progress, `batches_done` the micro-batches of it this rank
    has consumed; the epoch sums make a resumed epoch report the same averages as an uninterrupted one."""
    epoch: int = 1
    batches_done: int = 0
    iteration: int = 0          # optimizer steps taken in the whole run
    epoch_steps: int = 0
    epoch_loss_sum: float = 0.0
    epoch_items: float = 0.0
    epoch_seconds: float = 0.0

    def start_epoch(self, epoch):
        self.epoch, self.batches_done = epoch, 0
        self.epoch_steps, self.epoch_loss_sum, self.epoch_items, self.epoch_seconds = 0, 0.0, 0.0, 0.0

    def record_step(self, batches_done, loss, items, seconds):
        self.iteration += 1
        self.batches_done = batches_done
        self.epoch_steps += 1
        self.epoch_loss_sum += loss
        self.epoch_items += items
        self.epoch_seconds += seconds


class ResumableBatchSampler(BatchSampler):
    """This rank's batches of a per-epoch shuffle (DistributedSampler: seeded by seed + epoch, one share per rank),
    cut to whole optimizer steps of `accumulation_steps` batches, and able to start part-way into an epoch."""

    def __init__(self, dataset, batch_size, accumulation_steps, rank, world_size, seed):
        sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
        super().__init__(sampler, batch_size, drop_last=True)
        self.accumulation_steps = accumulation_steps
        self.skip = 0

    def set_epoch(self, epoch, skip=0):
        self.sampler.set_epoch(epoch)
        self.skip = skip

    def batches_per_epoch(self):
        return super().__len__() // self.accumulation_steps * self.accumulation_steps

    def __iter__(self):
        epoch = self.sampler.epoch
        batches = itertools.islice(super().__iter__(), self.skip, self.batches_per_epoch())
        return (EpochBatch(batch, epoch) for batch in batches)

    def __len__(self):
        return self.batches_per_epoch() - self.skip


class EpochBatch(list):
    """A batch of dataset indices that knows its epoch (it travels to the data-loader workers as it is)."""

    def __init__(self, indices, epoch):
        super().__init__(indices)
        self.epoch = epoch


class SeededItems(Dataset):
    """A dataset whose items draw their random numbers (WaveGlow's and HiFi-GAN's windows, FastPitch 1.1's ARPAbet
    choices) from generators seeded by (seed, epoch, item index) rather than from whichever process loads them: the
    same draws whatever the number of data-loader workers, ranks or micro-batches, and after resuming mid-epoch.
    Training batches carry their epoch (EpochBatch); other batches (validation) count as epoch 0, so every
    validation sees the same windows. The caller's own random generators are left as they were (with no workers
    the items load in the training process)."""

    def __init__(self, dataset, seed):
        self.dataset, self.seed = dataset, seed

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.__getitems__([index])[0]

    def __getitems__(self, batch):
        epoch = getattr(batch, 'epoch', 0)
        items = []
        with kept_random_state():
            for index in batch:
                seed_every_generator(int(np.random.SeedSequence([self.seed, epoch, index]).generate_state(1)[0]))
                items.append(self.dataset[index])
        return items


@contextlib.contextmanager
def kept_random_state():
    """Python's, NumPy's and torch's CPU generators as they were before the block."""
    python, numpy = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(python)
            np.random.set_state(numpy)


def seed_every_generator(seed):
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def loader_seed(seed, rank, epoch):
    """A seed for the DataLoader's own generator (the base of its workers' seeds), fixed per seed, rank and epoch,
    so that restarting an epoch's iterator does not draw from the global RNG."""
    return int(np.random.SeedSequence([seed, rank, epoch]).generate_state(1)[0])


def unwrap(model):
    return getattr(model, 'module', model)


def _stacked_states(states, pick):
    tensors = [pick(state) for state in states]
    if any(tensor is None for tensor in tensors):
        return torch.zeros(len(states), 16, dtype=torch.uint8)  # CPU run: the reference's placeholder
    return torch.stack(tensors)


def checkpoint_payload(model_name, model, config, step_state, progress, learning_rate, args, epoch_complete):
    """The checkpoint of this moment; `step_state` holds the training step's entries (optimizer, scaler).
    Collective: every rank must call it (their RNG states are gathered)."""
    own_cuda = torch.cuda.get_rng_state() if torch.cuda.is_available() else None  # this rank's device
    states, cuda_states = zip(*distributed.all_gather_object((capture_rng_state(), own_cuda)))
    return {
        'model_name': model_name,
        'epoch': progress.epoch,
        'iteration': progress.iteration,
        'config': config,
        'state_dict': unwrap(model).state_dict(),
        **step_state,
        'cuda_rng_state_all': _stacked_states(cuda_states, lambda state: state),
        'random_rng_states_all': _stacked_states(states, lambda state: state['torch']),
        'rng_states': list(states),
        'learning_rate': learning_rate,
        'progress': {**asdict(progress), 'epoch_complete': epoch_complete, 'world_size': len(states),
                     'batch_size': args.batch_size, 'accumulation_steps': args.gradient_accumulation_steps},
        'train_setup': dict(vars(args)),
    }


def read_training_checkpoint(path, model_name):
    """A checkpoint this trainer wrote, checked to be one of `model_name` with everything resuming needs."""
    checkpoint = load_checkpoint(path)
    required = ('model_name', 'config', 'state_dict', 'rng_states', 'progress')
    missing = [key for key in required if not (isinstance(checkpoint, dict) and key in checkpoint)]
    if missing:
        raise CheckpointError(f'{path}: not a resumable training checkpoint (no {", ".join(missing)}); '
                              'use --checkpoint-path to start from its weights')
    if checkpoint['model_name'] != model_name:
        raise CheckpointError(f"{path}: holds a {checkpoint['model_name']} checkpoint, not {model_name}")
    return checkpoint


def resume_progress(checkpoint, args, rank, world_size, warn):
    """The Progress to continue from, and this rank's RNG state restored. A different number of ranks, batch size
    or accumulation cannot continue mid-epoch exactly: such a run restarts that epoch."""
    saved = dict(checkpoint['progress'])
    epoch_complete = saved.pop('epoch_complete')
    same_layout = (saved.pop('world_size'), saved.pop('batch_size'), saved.pop('accumulation_steps')) == (
        world_size, args.batch_size, args.gradient_accumulation_steps)
    progress = Progress(**saved)
    if epoch_complete:
        progress.start_epoch(progress.epoch + 1)
    elif not same_layout:
        warn('the checkpoint was saved mid-epoch with other ranks/batch size/accumulation: restarting its epoch')
        progress.start_epoch(progress.epoch)
    states = checkpoint['rng_states']
    if len(states) != world_size:
        warn(f'the checkpoint holds RNG states of {len(states)} ranks, this run has {world_size}: '
             'ranks without a saved state keep their fresh seed')
    if rank < len(states):
        restore_rng_state(states[rank])
    return progress
