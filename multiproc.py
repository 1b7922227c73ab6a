"""Run a training script once per local GPU with torch's own launcher:  python -m multiproc [--nproc N] train.py ARGS

This is torchrun on one node (its parser, rendezvous, elastic agent, worker monitoring and signal handling), with
the choices this recipe needs made for the user:
  * N processes (default: one per visible GPU, 1 without a GPU), each running `python -u SCRIPT ARGS` with the
    variables torchrun sets (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT...)
    and OMP_NUM_THREADS=1 when several run and the user has not set it;
  * a standalone rendezvous on the loopback address, or torchrun's static one on MASTER_PORT when that is set;
  * no restarts: a rank that fails stops the others (SIGTERM, SIGKILL 30 s later) and ends the job;
  * SIGINT, SIGTERM, SIGHUP or SIGQUIT is sent on to every rank (train.py saves a checkpoint at its next step
    boundary and exits); a rank still running after the grace period is killed.

Exit code (with a one-line explanation on stderr unless 0), as torchrun's and our earlier launcher's:
  0        every rank exited 0;
  N        the first rank that failed exited with code N (128 + N if signal N killed it);
  128 + N  signal N stopped the job (train.py's ranks have saved a checkpoint by then);
  1        the rendezvous failed (e.g. MASTER_PORT already in use);
  2        bad arguments.
"""
import argparse
import logging
import os
import sys
import uuid

import torch
from torch.distributed import run as torchrun
from torch.distributed.elastic.multiprocessing import SignalException
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

from common.cli import ArgumentParser, command

LOOPBACK = '127.0.0.1'
# Recent torchrun has --shutdown-timeout; older launchers (e.g. in the NGC 24.x images) always give ranks 30 s.
HAS_SHUTDOWN_TIMEOUT = hasattr(LaunchConfig, 'shutdown_timeout')


def parse_args(argv):
    parser = ArgumentParser(prog='python -m multiproc', description=__doc__.splitlines()[0])
    parser.add_argument('--nproc', type=int, default=None,
                        help='processes to start (default: number of visible GPUs, 1 without a GPU)')
    parser.add_argument('--grace-period', type=int, default=None,
                        help="seconds the ranks get after a signal to save and exit before they are killed "
                             "(torchrun's --shutdown-timeout; default: TORCH_ELASTIC_SHUTDOWN_TIMEOUT, else 30)")
    parser.add_argument('script', help='Python script to run in every process')
    parser.add_argument('script_args', nargs=argparse.REMAINDER, help='arguments passed on to the script')
    args = parser.parse_args(argv)
    if args.nproc is not None and args.nproc < 1:
        parser.error(f'--nproc must be at least 1, got {args.nproc}')
    if args.grace_period is not None and args.grace_period < 0:
        parser.error(f'--grace-period must be at least 0, got {args.grace_period}')
    if args.grace_period is not None and not HAS_SHUTDOWN_TIMEOUT:
        parser.error(f'--grace-period needs a torch whose launcher has --shutdown-timeout; torch {torch.__version__} '
                     'always gives the ranks 30 s')
    port = os.environ.get('MASTER_PORT')
    if port and not port.isdigit():
        parser.error(f'MASTER_PORT={port!r} is not a port number')
    if not os.path.isfile(args.script):
        parser.error(f'{args.script}: no such script')
    return args


def rendezvous_options():
    port = os.environ.get('MASTER_PORT')
    if port:
        return ['--master-addr', LOOPBACK, '--master-port', port]
    # torchrun --standalone, on the loopback address rather than the host's name (MASTER_ADDR comes from it)
    return ['--rdzv-backend', 'c10d', '--rdzv-endpoint', f'{LOOPBACK}:0', '--rdzv-id', str(uuid.uuid4()),
            '--local-addr', LOOPBACK]


def process_count(args):
    return args.nproc or max(torch.cuda.device_count(), 1)


def torchrun_argv(args):
    grace = [] if args.grace_period is None else ['--shutdown-timeout', str(args.grace_period)]
    return ['--nproc-per-node', str(process_count(args)), *rendezvous_options(), *grace, args.script]


def first_failure(error):
    """(rank, ProcessFailure) of the rank that failed first."""
    rank = min(error.failures, key=lambda rank: error.failures[rank].timestamp)
    return rank, error.failures[rank]


def shell_code(failure):
    """The code a shell reports for the failed process: 128 + N for one killed by signal N."""
    return 128 - failure.exitcode if failure.exitcode < 0 else failure.exitcode


def outcome(failure):
    if failure.exitcode < 0:
        return f'was killed by {failure.signal_name()}'
    return f'exited with code {failure.exitcode}'


def launch(config, entrypoint, entrypoint_args):
    """torchrun's launch of the ranks -> the exit code, explained in one line on stderr unless 0."""
    try:
        elastic_launch(config, entrypoint)(*entrypoint_args)
    except SignalException as stop:  # the agent has sent the signal on to every rank and waited for them
        print(f'multiproc: stopped by {stop.sigval.name}; the ranks saved what they could '
              '(train.py: continue with --resume-from-last)', file=sys.stderr)
        return 128 + stop.sigval
    except ChildFailedError as error:
        rank, failure = first_failure(error)
        print(f'multiproc: rank {rank} {outcome(failure)}; stopped the others', file=sys.stderr)
        return shell_code(failure)
    except torch.distributed.DistNetworkError as error:  # e.g. MASTER_PORT already in use
        print(f'multiproc: rendezvous failed: {str(error).splitlines()[0]}', file=sys.stderr)
        return 1
    return 0


def quiet_launcher(nproc):
    """torchrun's agent logs again what the ranks and our one line say (W: its thread advice and closing signals,
    E: the failed rank): keep its critical messages only. Its one advice is followed here instead: one OpenMP thread
    per rank when several run and the user has not chosen."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith('torch.distributed'):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    if nproc > 1:
        os.environ.setdefault('OMP_NUM_THREADS', '1')


@command('python -m multiproc')
def main(argv=None):
    args = parse_args(argv)
    quiet_launcher(process_count(args))
    config, entrypoint, entrypoint_args = torchrun.config_from_args(torchrun.parse_args(torchrun_argv(args)))
    # the script's arguments bypass torchrun's parser, which rejects any that abbreviate one of its options
    return launch(config, entrypoint, [*entrypoint_args, *args.script_args])


if __name__ == '__main__':
    sys.exit(main())
