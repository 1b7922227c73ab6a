"""Process ranks and collective operations: the only module that knows about them.

Launch with `python -m multiproc train.py ...` or torchrun: they set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT. Without those variables (or with WORLD_SIZE=1) there is one process and no process group, and every
helper below degrades to the obvious single-process answer.
"""
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


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
    device = local_device(local_rank)
    if device.type == 'cuda':
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        missing = [name for name in ('MASTER_ADDR', 'MASTER_PORT') if name not in os.environ]
        if missing:
            raise ValueError(f'WORLD_SIZE={world} but environment variable {missing[0]} is not set')
        backend = 'nccl' if device.type == 'cuda' else 'gloo'
        dist.init_process_group(backend, rank=rank, world_size=world,
                                device_id=device if device.type == 'cuda' else None)
    return DistInfo(rank, world, local_rank, device)


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
