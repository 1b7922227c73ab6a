"""What the command lines of NVIDIA/tacotron2 and NVIDIA/waveglow share once translated into train.py's flags:
their ranks (a process started by hand with --rank/--n_gpus, as their launchers start them) and their
checkpoint_path (a resume: exact for a file of ours, weights and optimizer for one of theirs)."""
import os
from urllib.parse import urlparse

from common.checkpoint import load_checkpoint

DEFAULT_DIST_URL = 'tcp://localhost:54321'  # both repositories' default


def join_by_rank(rank, world_size, dist_url=DEFAULT_DIST_URL):
    """A process given its rank and world size on the command line (NVIDIA's launchers) joins through the
    environment that common/distributed.py reads; under torchrun (our multiproc.py) the environment is set already
    and wins."""
    if world_size <= 1 or 'WORLD_SIZE' in os.environ:
        return
    if not 0 <= rank < world_size:
        raise ValueError(f'--rank {rank} is not a rank of {world_size} processes')
    address = urlparse(dist_url)
    if address.scheme != 'tcp' or not address.hostname or not address.port:
        raise ValueError(f'dist_url {dist_url!r}: expected tcp://HOST:PORT')
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR=address.hostname, MASTER_PORT=str(address.port))


def resume_flags(path, allow_pickle=False):
    """train.py's flags for NVIDIA's `checkpoint_path`: --resume-from for a checkpoint this trainer wrote (exactly
    where it stopped), else --checkpoint-path (weights and optimizer state; the run counts from 0 again)."""
    checkpoint = load_checkpoint(path, allow_pickle=allow_pickle)
    if isinstance(checkpoint, dict) and 'progress' in checkpoint:
        return ['--resume-from', str(path)]
    return ['--checkpoint-path', str(path), *(['--allow-pickle'] if allow_pickle else [])]
