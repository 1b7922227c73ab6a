"""common/distributed.py: one process without a launcher, and two real processes over gloo."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from common import distributed

REPO_ROOT = Path(__file__).resolve().parents[1]
LAUNCHER_VARIABLES = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')

WORKER = '''
import json, torch
from common import distributed as d
info = d.init_distributed()
result = {'info': [info.rank, info.world_size, info.local_rank, info.device.type],
          'sum': d.all_reduce_sum(torch.tensor([info.rank + 1.0])).item(),
          'object': d.broadcast_object({'sent_by': info.rank} if info.rank == 0 else None)}
d.cleanup()
result['group_after_cleanup'] = torch.distributed.is_initialized()
print(json.dumps(result))
'''


def free_port():
    """A TCP port that the OS reports free right now (the workers are started without a launcher)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def no_launcher(monkeypatch):
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_single_process_needs_no_process_group(no_launcher):
    info = distributed.init_distributed()
    expected_device = torch.device('cuda', 0) if torch.cuda.is_available() else torch.device('cpu')
    assert info == distributed.DistInfo(0, 1, 0, expected_device)
    assert not torch.distributed.is_initialized()
    value = torch.tensor([1.5, 2.5])
    assert torch.equal(distributed.all_reduce_sum(value), value) and distributed.all_reduce_sum(value) is not value
    assert distributed.broadcast_object({'a': 1}) == {'a': 1}
    distributed.cleanup()


@pytest.mark.parametrize('variables, problem', [
    ({'WORLD_SIZE': 'two'}, "environment variable WORLD_SIZE='two' is not an integer"),
    ({'WORLD_SIZE': '2', 'RANK': '2'}, 'RANK=2 WORLD_SIZE=2 do not describe a process'),
    ({'WORLD_SIZE': '2', 'RANK': '1', 'MASTER_PORT': '1234'}, 'environment variable MASTER_ADDR is not set'),
])
def test_bad_launcher_environment_is_named(no_launcher, variables, problem):
    for name, value in variables.items():
        no_launcher.setenv(name, value)
    with pytest.raises(ValueError, match=problem):
        distributed.init_distributed()


@pytest.mark.slow  # two fresh interpreters import torch
@pytest.mark.skipif(torch.cuda.is_available(), reason='two ranks over gloo need the CPU path')
def test_two_processes_reduce_and_broadcast_over_gloo(tmp_path):
    script = tmp_path / 'worker.py'
    script.write_text(WORKER)
    port = free_port()
    workers = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE='2', LOCAL_RANK=str(rank), MASTER_ADDR='127.0.0.1',
                   MASTER_PORT=str(port), PYTHONPATH=str(REPO_ROOT))
        workers.append(subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True))
    results = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            worker.kill()
    for rank, result in enumerate(results):
        assert result['info'] == [rank, 2, rank, 'cpu']
        assert result['sum'] == 3.0
        assert result['object'] == {'sent_by': 0}
        assert result['group_after_cleanup'] is False


@pytest.mark.parametrize('visible, local_rank, expected', [(0, 1, 'cpu'), (4, 3, 'cuda:3'), (1, 0, 'cuda:0'),
                                                          (1, 5, 'cuda:0')])
def test_each_process_finds_its_device(monkeypatch, visible, local_rank, expected):
    """cuda:LOCAL_RANK among all of a node's GPUs, or the one GPU a launcher left visible to this process."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: visible > 0)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: visible)
    assert str(distributed.local_device(local_rank)) == expected


def test_a_local_rank_beyond_the_visible_gpus_is_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
    with pytest.raises(ValueError, match='LOCAL_RANK=2 but only 2 CUDA devices are visible'):
        distributed.local_device(2)


def test_a_hang_up_asks_to_stop_however_often_it_comes():
    """A rank whose launcher died gets SIGHUP from the kernel once per thread the launcher had: every one of them
    must only ask for a stop (a second SIGTERM or SIGINT, by contrast, stops at once)."""
    import os
    import signal

    from common.training import StopRequest
    with StopRequest() as stop:
        for _ in range(3):
            os.kill(os.getpid(), signal.SIGHUP)
        assert stop.received == 'SIGHUP'
        assert signal.getsignal(signal.SIGHUP) == stop._handle
        assert signal.getsignal(signal.SIGTERM) == stop._handle


@pytest.mark.parametrize('environ, warned', [
    ({'TORCHELASTIC_USE_AGENT_STORE': 'True', 'TORCHELASTIC_MAX_RESTARTS': '3'}, True),   # torchrun's default store
    ({'TORCHELASTIC_USE_AGENT_STORE': 'False', 'TORCHELASTIC_MAX_RESTARTS': '3'}, False),  # a fresh store per round
    ({'TORCHELASTIC_USE_AGENT_STORE': 'True', 'TORCHELASTIC_MAX_RESTARTS': '0'}, False),  # no restarts (multiproc)
    ({}, False),                                                                          # no launcher
])
def test_a_restartable_torchrun_with_its_shared_store_is_warned_about(environ, warned):
    warning = distributed.restart_store_warning(environ)
    assert (warning is not None) == warned
    if warned:
        assert 'TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1' in warning
