"""multiproc.py: torchrun-style environment, argument forwarding, failure propagation and signal forwarding."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

RECORD_ENVIRONMENT = '''
import json, os, sys
names = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
seen = {name: os.environ[name] for name in names}
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

# Both ranks announce they are ready, then record the SIGTERM that multiproc forwards to them.
RECORD_SIGTERM = '''
import os, signal, sys, time
folder, rank = sys.argv[1], os.environ['RANK']
def on_sigterm(signum, frame):
    open(os.path.join(folder, 'got_sigterm' + rank), 'w').close()
    sys.exit(0)
signal.signal(signal.SIGTERM, on_sigterm)
open(os.path.join(folder, 'ready' + rank), 'w').close()
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
    script = write_script(tmp_path, RECORD_ENVIRONMENT)
    result = run_multiproc('--nproc', '2', script, str(tmp_path), '--nproc', '7', '-m', 'x y')
    assert result.returncode == 0, result.stderr
    seen = [json.loads((tmp_path / f'rank{rank}.json').read_text()) for rank in range(2)]
    for rank, env in enumerate(seen):
        assert env['RANK'] == env['LOCAL_RANK'] == str(rank)
        assert env['WORLD_SIZE'] == env['LOCAL_WORLD_SIZE'] == '2'
        assert env['MASTER_ADDR'] == '127.0.0.1' and int(env['MASTER_PORT']) > 0
        assert env['argv'] == [str(tmp_path), '--nproc', '7', '-m', 'x y']
    assert seen[0]['MASTER_PORT'] == seen[1]['MASTER_PORT']


def test_master_port_from_the_environment_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv('MASTER_PORT', '29123')
    script = write_script(tmp_path, RECORD_ENVIRONMENT)
    assert run_multiproc('--nproc', '1', script, str(tmp_path)).returncode == 0
    assert json.loads((tmp_path / 'rank0.json').read_text())['MASTER_PORT'] == '29123'


@pytest.mark.parametrize('mode', ['sleeps', 'stubborn'])
def test_a_failing_rank_stops_the_others_and_sets_the_exit_code(tmp_path, mode):
    script = write_script(tmp_path, RANK_ONE_FAILS)
    result = run_multiproc('--nproc', '2', '--grace-period', '1', script, mode)  # 60 s timeout: never hangs
    assert result.returncode == 3
    assert 'rank 1 exited with code 3' in result.stderr


def test_sigterm_is_forwarded_to_every_rank(tmp_path):
    script = write_script(tmp_path, RECORD_SIGTERM)
    launcher = subprocess.Popen(multiproc_command('--nproc', '2', script, str(tmp_path)), cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 30
        while not all((tmp_path / f'ready{rank}').exists() for rank in range(2)):
            assert time.monotonic() < deadline and launcher.poll() is None
            time.sleep(0.05)
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        launcher.kill()
    assert (tmp_path / 'got_sigterm0').exists() and (tmp_path / 'got_sigterm1').exists()


@pytest.mark.parametrize('args, problem', [
    (['--nproc', '0', 'multiproc.py'], '--nproc must be at least 1, got 0'),
    (['--nproc', '1', 'no_such_train.py'], 'no_such_train.py: no such script'),
])
def test_bad_arguments_are_named(args, problem):
    result = run_multiproc(*args)
    assert result.returncode == 2 and problem in result.stderr.strip().splitlines()[-1]
