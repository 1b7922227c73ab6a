"""Run a training script once per local GPU, the way torchrun does:  python -m multiproc [--nproc N] train.py ARGS

Every process runs `python -u SCRIPT ARGS` with MASTER_ADDR=127.0.0.1, MASTER_PORT (kept from the environment, else
a free port), WORLD_SIZE, RANK, LOCAL_RANK and LOCAL_WORLD_SIZE set; `common.distributed.init_distributed` reads them.
If a process exits non-zero the others are stopped (SIGTERM, then SIGKILL after the grace period) and multiproc
exits with that code (128 + N for a process killed by signal N). SIGINT and SIGTERM are forwarded to every process.

Each process gets its own process group, so a Ctrl-C reaches it once (forwarded by us) and stopping a process also
stops its helpers (data-loader workers).
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time

POLL_SECONDS = 0.1


def free_port():
    """A TCP port that the OS reports free right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python -m multiproc', description=__doc__.splitlines()[0])
    parser.add_argument('--nproc', type=int, default=None,
                        help='processes to start (default: number of visible GPUs, 1 without a GPU)')
    parser.add_argument('--grace-period', type=float, default=10.0,
                        help='seconds a stopped process gets to exit before it is killed')
    parser.add_argument('script', help='Python script to run in every process')
    parser.add_argument('script_args', nargs=argparse.REMAINDER, help='arguments passed on to the script')
    args = parser.parse_args(argv)
    if args.nproc is not None and args.nproc < 1:
        parser.error(f'--nproc must be at least 1, got {args.nproc}')
    if not os.path.isfile(args.script):
        parser.error(f'{args.script}: no such script')
    return args


def local_gpu_count():
    import torch  # only needed when --nproc is not given
    return max(torch.cuda.device_count(), 1)


def child_env(rank, world_size, port):
    return dict(os.environ, MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), WORLD_SIZE=str(world_size),
                RANK=str(rank), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world_size))


def signal_group(process, signum):
    """Signal a still-running process and its helpers (never a reaped pid, which the OS may have reused)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass


def stop(processes, grace_period):
    for process in processes:
        signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace_period
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.wait()


def shell_code(returncode):
    return 128 - returncode if returncode < 0 else returncode


def supervise(processes, received, grace_period):
    """Wait until all processes succeed, one fails, or a forwarded signal has had its grace period."""
    while True:
        codes = [process.poll() for process in processes]
        for rank, code in enumerate(codes):
            if code not in (None, 0):
                print(f'multiproc: rank {rank} exited with code {code}; stopping the others', file=sys.stderr)
                return shell_code(code)
        if received and (None not in codes or time.monotonic() - received[0][1] > grace_period):
            return 128 + received[0][0]
        if None not in codes:
            return 0
        time.sleep(POLL_SECONDS)


def main(argv=None):
    args = parse_args(argv)
    world_size = args.nproc or local_gpu_count()
    port = os.environ.get('MASTER_PORT') or free_port()
    command = [sys.executable, '-u', args.script, *args.script_args]
    processes, received = [], []

    def forward(signum, frame):
        received.append((signum, time.monotonic()))
        for process in processes:
            signal_group(process, signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    try:
        for rank in range(world_size):
            processes.append(subprocess.Popen(command, env=child_env(rank, world_size, port), process_group=0))
        return supervise(processes, received, args.grace_period)
    finally:
        stop(processes, args.grace_period)


if __name__ == '__main__':
    sys.exit(main())
