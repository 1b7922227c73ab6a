"""Process ranks and collective operations: the only module that knows about them.

Launch with `python -m multiproc train.py ...` or torchrun: they set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT. Without those variables (or with WORLD_SIZE=1) there is one process and no process group, and every
helper below degrades to the obvious single-process answer.
"""
import contextlib
import os
import re
import signal
from dataclasses import dataclass

import torch
import torch.distributed as dist

from common.process_lifetime import end_with_parent


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device


def _env_int(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f'environment variable {name}={value!r} is not an integer') from None


def local_device(local_rank):
    """This process's device: cuda:LOCAL_RANK when each process sees every GPU of the node (torchrun, multiproc);
    the one visible GPU when the launcher gave each process its own through CUDA_VISIBLE_DEVICES (e.g. SLURM's
    --gpus-per-task); the CPU without a GPU."""
    if not torch.cuda.is_available():
        return torch.device('cpu')
    count = torch.cuda.device_count()
    if local_rank < count:
        return torch.device('cuda', local_rank)
    if count == 1:
        return torch.device('cuda', 0)
    raise ValueError(f'LOCAL_RANK={local_rank} but only {count} CUDA devices are visible')


def init_distributed():
    """Join the process group described by the launcher's environment; pick this process's device.

    NCCL on CUDA (the device of local_device), gloo on CPU.
    """
    world = _env_int('WORLD_SIZE', 1)
    rank = _env_int('RANK', 0)
    local_rank = _env_int('LOCAL_RANK', 0)
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f'environment variables RANK={rank} WORLD_SIZE={world} do not describe a process')
    if 'TORCHELASTIC_RUN_ID' in os.environ:
        # torchrun (and multiproc) start each rank in a session of its own: a launcher killed with SIGKILL could not
        # pass a signal on, and its ranks would train on as orphans. They get SIGHUP instead: save and stop.
        end_with_parent(signal.SIGHUP)
    device = local_device(local_rank)
    if device.type == 'cuda':
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        missing = [name for name in ('MASTER_ADDR', 'MASTER_PORT') if name not in os.environ]
        if missing:
            raise ValueError(f'WORLD_SIZE={world} but environment variable {missing[0]} is not set')
        backend = 'nccl' if device.type == 'cuda' else 'gloo'
        try:
            dist.init_process_group(backend, rank=rank, world_size=world,
                                    device_id=device if device.type == 'cuda' else None)
        except RuntimeError as error:  # a rank that never came, or went while the group formed
            raise RankLostError(f'could not connect to the other ranks: {_backend_text(error)}') from None
    return DistInfo(rank, world, local_rank, device)


def restart_store_warning(environ=os.environ):
    """The warning for a run torchrun may restart (--max-restarts) while its agents share one store across rounds:
    a restarted rank can read the gloo/NCCL address its dead peer left there and fail to connect until the restarts
    run out. None when the launcher cannot restart, or starts a fresh store each round."""
    if environ.get('TORCHELASTIC_USE_AGENT_STORE') != 'True' or environ.get('TORCHELASTIC_MAX_RESTARTS', '0') == '0':
        return None
    return ('torchrun may restart this run but shares one store across restarts, where a restarted rank can read '
            'a dead peer\'s address and fail to connect: set TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 for torchrun')


def _active():
    return dist.is_available() and dist.is_initialized()


def world_size():
    """The number of processes in the group (1 without one)."""
    return dist.get_world_size() if _active() else 1


def all_reduce_sum(tensor):
    """Sum of `tensor` over all processes, as a new tensor (the argument is left unchanged)."""
    total = tensor.detach().clone()
    if _active():
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


def broadcast_object(obj, src=0):
    """`obj` as held by rank `src`, on every process (any picklable object)."""
    if not _active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_gather_object(obj):
    """[obj of rank 0, obj of rank 1, ...] on every process (any picklable object), e.g. each rank's RNG state."""
    if not _active():
        return [obj]
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def cleanup():
    if _active():
        dist.destroy_process_group()


class RankLostError(ConnectionError):
    """A collective operation failed because another rank is gone (its own error says why)."""


# gloo names its failures by source file (".../gloo/transport/tcp/pair.cc"), NCCL by its own name
PEER_FAILURE = re.compile(r'gloo|nccl|Connection (closed|reset) by peer|Broken pipe', re.IGNORECASE)


@contextlib.contextmanager
def lost_ranks_reported():
    """Inside the block, a collective that fails because another rank stopped raises RankLostError: one line that
    points at that rank's error, rather than the backend's text as if this rank had a bug."""
    try:
        yield
    except RuntimeError as error:
        if not (_active() and PEER_FAILURE.search(str(error))):
            raise
        raise RankLostError(f'lost contact with another rank, which has probably stopped (its error says why): '
                            f'{_backend_text(error)}') from None


def _backend_text(error):
    """The first sentence of a backend's error, without the source file and line it starts with."""
    text = re.sub(r'\[[^\]]*\.(cc|cpp|h):\d+\]\s*', '', str(error).strip().splitlines()[0])
    return text.split('. ')[0]
