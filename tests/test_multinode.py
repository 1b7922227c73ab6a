"""train.py on two torchrun "nodes" of one rank each, on this machine (c10d rendezvous on 127.0.0.1): they train
together as one node with two ranks does (the same per-step losses), a node that dies ends the other with a non-zero
exit, and torchrun's restart (--max-restarts) with --resume-from-last continues the run where its last checkpoint
left it. Slow: each run starts three Python processes per node."""
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

from tests.test_train import REPO_ROOT, iteration_losses, waveglow_argv, wait_for

pytestmark = pytest.mark.slow

NODE_DEATH_LIMIT = 60  # seconds the surviving node may take to notice (the bound)
# What the README asks of torchrun with --max-restarts: by default its agents keep one store for every round, and a
# restarted rank can read the address its dead peer left there (gloo: "Connection refused" until the restarts run
# out); with this each round's rank 0 starts a store of its own.
RESTARTABLE_TORCHRUN = {'TORCH_DISABLE_SHARE_RDZV_TCP_STORE': '1'}


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def start_nodes(argv, log_folder, max_restarts=0):
    """Two torchrun agents, one rank each, meeting at a c10d rendezvous on the loopback address."""
    port, run_id = free_port(), uuid.uuid4().hex
    nodes = []
    for node in range(2):
        log = open(log_folder / f'node{node}.txt', 'w')
        nodes.append(subprocess.Popen(
            [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '2', '--nproc-per-node', '1',
             '--rdzv-backend', 'c10d', '--rdzv-endpoint', f'127.0.0.1:{port}', '--rdzv-id', run_id,
             '--local-addr', '127.0.0.1', '--max-restarts', str(max_restarts), 'train.py', *argv],
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            env=dict(os.environ, OMP_NUM_THREADS='1', **RESTARTABLE_TORCHRUN)))
        log.close()
    return nodes


def stop_all(nodes):
    """Kill what is left of the agents (their ranks follow them: common/distributed.py)."""
    for node in nodes:
        node.kill()
        node.wait()


def rank_process(agent):
    """The rank a torchrun agent started (its only child)."""
    children = open(f'/proc/{agent.pid}/task/{agent.pid}/children').read().split()
    return int(children[0])


def run_argv(corpus, output, *extra):
    # epochs of three steps, a checkpoint every second step: the restart resumes mid-epoch; no worker processes
    # (tests/test_worker_failures.py covers them), whose start-up would double the time
    return waveglow_argv(corpus, output, '--batch-size', '1', '--workers', '0', '--epochs', '2',
                         '--iters-per-checkpoint', '2', *extra)


@pytest.fixture(scope='module')
def one_node_two_ranks(prepared_corpus, tmp_path_factory):
    output = tmp_path_factory.mktemp('one_node')
    result = subprocess.run([sys.executable, '-m', 'multiproc', '--nproc', '2', 'train.py',
                             *run_argv(prepared_corpus, output)], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=600, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr
    return dict(iteration_losses(output))


def test_two_nodes_match_one_and_a_restart_resumes_the_run(prepared_corpus, one_node_two_ranks, tmp_path):
    output = tmp_path / 'run'
    started = time.monotonic()
    # more than one restart: on a loaded machine, gloo's connection of the restarted ranks can time out, and
    # torchrun then restarts them again (each time from the newest checkpoint)
    nodes = start_nodes(run_argv(prepared_corpus, output, '--resume-from-last'), tmp_path, max_restarts=3)
    try:
        wait_for(lambda: (output / 'checkpoint_WaveGlow_2_it4.pt').exists(), 600, 'the checkpoint of step 4')
        os.kill(rank_process(nodes[1]), signal.SIGKILL)  # a rank fails: both agents restart their ranks
        codes = [node.wait(timeout=600) for node in nodes]
    finally:
        stop_all(nodes)
    print(f'two nodes with a restart: {time.monotonic() - started:.0f} s')
    log = (tmp_path / 'node0.txt').read_text() + (tmp_path / 'node1.txt').read_text()
    assert codes == [0, 0], log
    assert 'resuming from' in log
    assert 'TORCH_DISABLE_SHARE_RDZV_TCP_STORE' not in log  # set: train.py has nothing to warn about
    losses = iteration_losses(output)  # a step logged after the checkpoint and before the kill is logged again
    assert {step for step, _ in losses} == set(one_node_two_ranks)
    for step, loss in losses:
        assert loss == pytest.approx(one_node_two_ranks[step], abs=1e-6, rel=0), step


def test_a_node_that_dies_ends_the_other_with_a_non_zero_exit(prepared_corpus, tmp_path):
    output = tmp_path / 'run'
    nodes = start_nodes(run_argv(prepared_corpus, output, '--epochs', '1000'), tmp_path)
    try:
        wait_for(lambda: (output / 'nvlog.json').exists() and iteration_losses(output), 600, 'training')
        rank = rank_process(nodes[1])
        nodes[1].kill()  # the whole node: its agent, its rank and the rank's workers (they die with the rank)
        os.kill(rank, signal.SIGKILL)
        died = time.monotonic()
        code = nodes[0].wait(timeout=NODE_DEATH_LIMIT)
        print(f'the surviving node ended {time.monotonic() - died:.1f} s after the other died')
    finally:
        stop_all(nodes)
    assert code != 0
    assert 'lost contact with another rank' in (tmp_path / 'node0.txt').read_text()
