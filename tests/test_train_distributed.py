"""train.py over two CPU processes (gloo), launched by multiproc as torchrun would: the same losses as one process
with the same global batch, files written by rank 0 only, and a killed rank ends the job."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import torch

from common.logger import read_json_log
from tests.test_train import one_thread  # noqa: F401 (an autouse fixture: one torch thread)
from tests.test_train import REPO_ROOT, assert_same_losses, fastpitch_argv, iteration_losses, run_train, wait_for

# Without dropout the runs see the same numbers; each rank would otherwise draw its own masks.
NO_DROPOUT = ['--p-in-fft-dropout', '0', '--p-in-fft-dropatt', '0', '--p-out-fft-dropout', '0',
              '--p-out-fft-dropatt', '0', '--p-dur-predictor-dropout', '0', '--p-pitch-predictor-dropout', '0']
# Ranks 0 and 1 take clips 0 and 1 of each pair of the shuffled order, as one process accumulating two batches of
# one clip does: the same losses up to float rounding.
EXACT_TOLERANCE = 1e-5
# One process with batches of two clips averages FastPitch's loss over the mel frames of both clips, where two
# ranks (or accumulation) average the two per-clip averages: the same clips, weighted a little differently.
SAME_BATCH_TOLERANCE = 0.1  # relative to the largest loss


def launch_two_ranks(argv, log):
    return subprocess.Popen([sys.executable, '-m', 'multiproc', '--nproc', '2', 'train.py', *argv], cwd=REPO_ROOT,
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, OMP_NUM_THREADS='1'))


def test_two_ranks_match_one_process_with_the_same_global_batch(prepared_corpus, tmp_path):
    single, accumulated, double = tmp_path / 'single', tmp_path / 'accumulated', tmp_path / 'double'
    run_train(fastpitch_argv(prepared_corpus, single, '-bs', '2', *NO_DROPOUT))
    run_train(fastpitch_argv(prepared_corpus, accumulated, '-bs', '1', '--gradient-accumulation-steps', '2',
                             *NO_DROPOUT))
    with open(tmp_path / 'launcher.txt', 'w') as log:
        launcher = launch_two_ranks(fastpitch_argv(prepared_corpus, double, '-bs', '1', *NO_DROPOUT), log)
        assert launcher.wait(timeout=600) == 0, (tmp_path / 'launcher.txt').read_text()

    assert_same_losses(iteration_losses(double), iteration_losses(accumulated), EXACT_TOLERANCE)
    reference = iteration_losses(single)
    assert_same_losses(iteration_losses(double), reference,
                       SAME_BATCH_TOLERANCE * max(abs(loss) for _, loss in reference))
    # rank 0 alone writes: the same files as one process, and each record once
    assert sorted(path.name for path in double.iterdir()) == sorted(path.name for path in single.iterdir())
    assert [record['step'] for record in read_json_log(double / 'nvlog.json')].count('PARAMETER') == 1
    checkpoint = torch.load(double / 'checkpoint_FastPitch_last.pt', map_location='cpu', weights_only=True)
    assert len(checkpoint['rng_states']) == 2 and checkpoint['random_rng_states_all'].shape[0] == 2
    assert not torch.equal(*checkpoint['random_rng_states_all'])  # each rank has its own generator
    assert not any(key.startswith('module.') for key in checkpoint['state_dict'])


def child_pids(pid):
    return [int(child) for child in Path(f'/proc/{pid}/task/{pid}/children').read_text().split()]


def rank_of(pid):
    environment = Path(f'/proc/{pid}/environ').read_bytes().split(b'\0')
    return int(next(entry for entry in environment if entry.startswith(b'RANK='))[5:])


def test_killing_one_rank_ends_the_job_with_a_non_zero_exit(prepared_corpus, tmp_path):
    with open(tmp_path / 'launcher.txt', 'w') as log:
        launcher = launch_two_ranks(fastpitch_argv(prepared_corpus, tmp_path / 'run', '--epochs', '1000'), log)
        try:
            wait_for(lambda: (tmp_path / 'run' / 'nvlog.json').exists() and iteration_losses(tmp_path / 'run'),
                     300, 'both ranks to train')
            ranks = {rank_of(pid): pid for pid in child_pids(launcher.pid)}
            os.kill(ranks[1], signal.SIGKILL)
            code = launcher.wait(timeout=60)  # multiproc stops rank 0 (SIGTERM, then SIGKILL after its grace)
        finally:
            launcher.kill()
            launcher.wait()
    assert code != 0
    assert not Path(f'/proc/{ranks[0]}').exists()
