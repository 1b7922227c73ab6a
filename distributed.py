"""python distributed.py -c config.json [-s DIR] [-a "ARGS"]: NVIDIA/waveglow's launcher name, on our multiproc.py
(torch's launcher): one `train.py --config=config.json ARGS` process per visible GPU (one without a GPU), trained
together. Unlike there, each rank's output reaches the console through torchrun rather than DIR/GPU_<i>.log; DIR
(default '.') is still created."""
import shlex
import sys
from pathlib import Path

import multiproc
from common.cli import ArgumentParser, command

TRAIN_SCRIPT = str(Path(__file__).resolve().with_name('train.py'))


def build_parser():
    parser = ArgumentParser(prog='distributed.py', description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', required=True, help='NVIDIA/waveglow JSON config')
    parser.add_argument('-s', '--stdout_dir', default='.', help='folder for the logs (created)')
    parser.add_argument('-a', '--args_str', default='', help='more train.py arguments, as one string')
    parser.add_argument('--nproc', type=int, default=None, help='processes (default: one per visible GPU)')
    return parser


@command('distributed.py')
def main(argv=None):
    args = build_parser().parse_args(argv)
    Path(args.stdout_dir).mkdir(parents=True, exist_ok=True)
    nproc = [] if args.nproc is None else ['--nproc', str(args.nproc)]
    return multiproc.main([*nproc, TRAIN_SCRIPT, f'--config={args.config}', *shlex.split(args.args_str)])


if __name__ == '__main__':
    sys.exit(main())
