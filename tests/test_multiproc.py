"""multiproc.py: torchrun's environment, argument forwarding, failure propagation, signal handling and exit codes."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from multiproc import HAS_SHUTDOWN_TIMEOUT
from tests.test_train import fastpitch_argv, records, wait_for

REPO_ROOT = Path(__file__).resolve().parents[1]

RECORD_ENVIRONMENT = '''
import json, os, sys
names = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'OMP_NUM_THREADS')
seen = {name: os.environ.get(name) for name in names}
seen['argv'] = sys.argv[1:]
with open(os.path.join(sys.argv[1], 'rank' + os.environ['RANK'] + '.json'), 'w') as f:
    json.dump(seen, f)
'''

# Rank 1 fails at once; rank 0 would sleep far beyond the test's timeout (and with `stubborn`, ignores SIGTERM).
RANK_ONE_FAILS = '''
import os, signal, sys, time
if os.environ['RANK'] == '1':
    sys.exit(3)
if sys.argv[1:] == ['stubborn']:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(600)
'''

# Like train.py: every rank handles SIGTERM and SIGINT, records the signal and exits; rank 1 with the code given
# (`ignore`: neither rank exits, so the launcher must kill them). Each writes its pid once its handlers are set.
STOP_ON_SIGNAL = '''
import os, signal, sys, time
folder, rank, rank_one_code = sys.argv[1], os.environ['RANK'], sys.argv[2]
def on_signal(signum, frame):
    open(os.path.join(folder, f'got{signum}_rank{rank}'), 'w').close()
    if rank_one_code != 'ignore':
        sys.exit(int(rank_one_code) if rank == '1' else 0)
for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, on_signal)
with open(os.path.join(folder, 'pid' + rank), 'w') as f:
    f.write(str(os.getpid()))
time.sleep(600)
'''


def write_script(tmp_path, text):
    script = tmp_path / 'script.py'
    script.write_text(text)
    return str(script)


def multiproc_command(*args):
    return [sys.executable, '-m', 'multiproc', *args]


def run_multiproc(*args):
    return subprocess.run(multiproc_command(*args), cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_every_rank_gets_the_torchrun_environment_and_the_arguments(tmp_path, monkeypatch):
    monkeypatch.delenv('MASTER_PORT', raising=False)
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    script = write_script(tmp_path, RECORD_ENVIRONMENT)
    # the script's own --nproc and -m must reach it, not torchrun's parser (--nproc-per-node, --module)
    result = run_multiproc('--nproc', '2', script, str(tmp_path), '--nproc', '7', '-m', 'x y')
    assert result.returncode == 0, result.stderr
    seen = [json.loads((tmp_path / f'rank{rank}.json').read_text()) for rank in range(2)]
    for rank, env in enumerate(seen):
        assert env['RANK'] == env['LOCAL_RANK'] == str(rank)
        assert env['WORLD_SIZE'] == env['LOCAL_WORLD_SIZE'] == '2'
        assert env['MASTER_ADDR'] == '127.0.0.1' and int(env['MASTER_PORT']) > 0
        assert env['OMP_NUM_THREADS'] == '1'  # as torchrun sets it when several processes share the machine
        assert env['argv'] == [str(tmp_path), '--nproc', '7', '-m', 'x y']
    assert seen[0]['MASTER_PORT'] == seen[1]['MASTER_PORT']


def test_master_port_and_omp_num_threads_from_the_environment_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv('MASTER_PORT', '29123')
    monkeypatch.setenv('OMP_NUM_THREADS', '3')
    script = write_script(tmp_path, RECORD_ENVIRONMENT)
    assert run_multiproc('--nproc', '2', script, str(tmp_path)).returncode == 0
    for rank in range(2):
        env = json.loads((tmp_path / f'rank{rank}.json').read_text())
        assert env['MASTER_PORT'] == '29123' and env['OMP_NUM_THREADS'] == '3'


@pytest.mark.skipif(torch.cuda.is_available(), reason='without --nproc, a GPU machine starts one rank per GPU')
def test_one_process_without_a_gpu(tmp_path):
    script = write_script(tmp_path, RECORD_ENVIRONMENT)
    assert run_multiproc(script, str(tmp_path)).returncode == 0
    assert [path.name for path in tmp_path.glob('rank*.json')] == ['rank0.json']
    assert json.loads((tmp_path / 'rank0.json').read_text())['WORLD_SIZE'] == '1'


@pytest.mark.parametrize('mode', ['sleeps', 'stubborn'])
def test_a_failing_rank_stops_the_others_and_sets_the_exit_code(tmp_path, mode):
    script = write_script(tmp_path, RANK_ONE_FAILS)
    # torch's agent gives a stubborn rank 30 s after its SIGTERM, then kills it: within the 60 s timeout
    result = run_multiproc('--nproc', '2', script, mode)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1] == 'multiproc: rank 1 exited with code 3; stopped the others'
    # torchrun's own W/E log lines (thread advice, closing signals, the failed rank) would say it all again
    assert not re.search(r'^[WE]\d{4} ', result.stderr, re.MULTILINE), result.stderr


def start_and_signal(tmp_path, signum, rank_one_code, *options):
    """multiproc over STOP_ON_SIGNAL, sent `signum` once both ranks are ready; (exit code, its stderr, rank pids)."""
    script = write_script(tmp_path, STOP_ON_SIGNAL)
    with open(tmp_path / 'stderr.txt', 'w') as stderr:
        launcher = subprocess.Popen(multiproc_command('--nproc', '2', *options, script, str(tmp_path), rank_one_code),
                                    cwd=REPO_ROOT, stderr=stderr)
        try:
            deadline = time.monotonic() + 30
            while not all((tmp_path / f'pid{rank}').exists() for rank in range(2)):
                assert time.monotonic() < deadline and launcher.poll() is None
                time.sleep(0.05)
            launcher.send_signal(signum)
            code = launcher.wait(timeout=30)
        finally:
            launcher.kill()
    pids = [int((tmp_path / f'pid{rank}').read_text()) for rank in range(2)]
    return code, (tmp_path / 'stderr.txt').read_text(), pids


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_a_signal_reaches_every_rank_and_the_job_exits_128_plus_the_signal(tmp_path, signum):
    code, stderr, _ = start_and_signal(tmp_path, signum, '0')
    assert code == 128 + signum, stderr
    assert all((tmp_path / f'got{signum}_rank{rank}').exists() for rank in range(2))
    assert stderr.strip().splitlines()[-1].startswith(f'multiproc: stopped by {signum.name};')


@pytest.mark.slow
def test_sigterm_makes_two_training_ranks_save_and_stop(prepared_corpus, tmp_path):
    output = tmp_path / 'run'
    argv = fastpitch_argv(prepared_corpus, output, '--epochs', '1000')
    with open(tmp_path / 'launcher.txt', 'w') as log:
        launcher = subprocess.Popen(multiproc_command('--nproc', '2', 'train.py', *argv), cwd=REPO_ROOT, stdout=log,
                                    stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: (output / 'nvlog.json').exists() and records(output), 300, 'the training log')
            launcher.send_signal(signal.SIGTERM)
            code = launcher.wait(timeout=120)
        finally:
            launcher.kill()
            launcher.wait()
    log = (tmp_path / 'launcher.txt').read_text()
    assert code == 128 + signal.SIGTERM and 'multiproc: stopped by SIGTERM' in log, log
    assert (output / 'checkpoint_FastPitch_last.pt').exists()


@pytest.mark.skipif(not HAS_SHUTDOWN_TIMEOUT, reason='this torch has no --shutdown-timeout: --grace-period is refused')
def test_ranks_still_running_after_the_grace_period_are_killed(tmp_path):
    start = time.monotonic()
    code, stderr, pids = start_and_signal(tmp_path, signal.SIGTERM, 'ignore', '--grace-period', '1')
    assert code == 128 + signal.SIGTERM and time.monotonic() - start < 30
    for pid in pids:  # killed, not orphaned
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert all((tmp_path / f'got{signal.SIGTERM}_rank{rank}').exists() for rank in range(2))
    assert not any(Path(f'/proc/{pid}').exists() for pid in pids)


@pytest.mark.parametrize('args, environment, problem', [
    (['--nproc', '0', 'multiproc.py'], {}, '--nproc must be at least 1, got 0'),
    (['--nproc', '1', 'no_such_train.py'], {}, 'no_such_train.py: no such script'),
    (['--grace-period', '2.5', 'multiproc.py'], {}, "argument --grace-period: invalid int value: '2.5'"),
    (['--grace-period', '-1', 'multiproc.py'], {}, '--grace-period must be at least 0, got -1'),
    (['multiproc.py'], {'MASTER_PORT': 'x1'}, "MASTER_PORT='x1' is not a port number"),
])
def test_bad_arguments_are_named(args, environment, problem, monkeypatch):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = run_multiproc(*args)
    assert result.returncode == 2 and problem in result.stderr.strip().splitlines()[-1]
    assert 'Traceback' not in result.stderr


def test_a_busy_master_port_is_one_line(tmp_path, monkeypatch):
    script = write_script(tmp_path, RECORD_ENVIRONMENT)
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        monkeypatch.setenv('MASTER_PORT', str(busy.getsockname()[1]))
        result = run_multiproc('--nproc', '1', script, str(tmp_path))
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith('multiproc: rendezvous failed: ')
