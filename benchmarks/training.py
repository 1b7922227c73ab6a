"""Training throughput of train.py, in items per second (mel frames or audio samples), per model and precision.

    python -m benchmarks.training [--dataset-path D] [--models NAME ...] [--precisions fp32 bf16]

Config (small, not tiny): each model's TrainingCase (common/benchmarking.py; its package's benchmark.py) gives its
filelists and flags, and configs/demo_<model>.json, where there is one, its demo size; all train with batches of
4 clips. Data: the embedded corpus after prepare_dataset.py (D; without it, --num-clips clips are built, split and
prepared in a temporary folder first, a minute or two). Each model trains --epochs epochs through train.main,
loading in the training process (--workers 0); the first --warmup-steps optimizer steps are not timed. Items/s =
items of the timed steps / their time, as train.py logs them (train_iter_time: data loading, forward, backward,
optimizer step).
"""
import contextlib
import io
import sys
import tempfile
from pathlib import Path

import torch

import models
import train
from common.cli import ArgumentParser, command, run_step
from common.benchmarking import TrainingCase, cases_of_kind
from common.logger import read_json_log
from common.splits import audio_filelist_path, write_split_filelists

REPO_ROOT = Path(__file__).resolve().parents[1]
PREFIX = 'espeak'  # the embedded corpus's filelists: <PREFIX>_<kind>_{train,val}_filelist.txt in D/filelists
BATCH_SIZE = 4
PRECISION_FLAGS = {'fp32': [], 'bf16': ['--amp', '--amp-dtype', 'bf16'], 'fp16': ['--amp', '--amp-dtype', 'fp16']}


def training_cases():
    """{model name: (spec, case)}."""
    return {spec.name: (spec, case) for spec, case in cases_of_kind(models.MODELS.values(), TrainingCase)}


def demo_config_flags(spec):
    """--config-file configs/demo_<model>.json where the model has a demo size."""
    path = REPO_ROOT / 'configs' / f'demo_{spec.cli_name}.json'
    return ['--config-file', str(path)] if path.is_file() else []


def prepare_corpus(folder, num_clips):
    from common.corpus import build

    import prepare_dataset
    run_step(build.main, ['--output', str(folder), '--num-clips', str(num_clips)])
    write_split_filelists(folder / 'metadata.csv', folder / 'filelists', PREFIX)
    filelists = [str(audio_filelist_path(folder / 'filelists', PREFIX, split)) for split in ('train', 'val')]
    run_step(prepare_dataset.main, ['--dataset-path', str(folder), '--wav-text-filelist', *filelists,
                                    '--extract-mels', '--extract-durations', '--extract-pitch'])


def train_argv(spec, case, precision, dataset, output, epochs):
    lists = dataset / 'filelists'
    return ['-m', spec.name, '-o', str(output), '-d', str(dataset), '--epochs', str(epochs),
            '--training-files', str(lists / f'{PREFIX}_{case.filelist_kind}_train_filelist.txt'),
            '--validation-files', str(lists / f'{PREFIX}_{case.filelist_kind}_val_filelist.txt'),
            '--workers', '0', '--no-tensorboard', '--validation-interval', str(epochs), '-bs', str(BATCH_SIZE),
            *demo_config_flags(spec), *[flag.format(dataset=dataset) for flag in case.flags],
            *PRECISION_FLAGS[precision]]


def throughput(log_file, warmup_steps):
    """(items per second, seconds per step, timed steps) over the steps after the warm-up."""
    steps = [record['data'] for record in read_json_log(log_file)
             if isinstance(record['step'], list) and len(record['step']) == 2][warmup_steps:]
    if not steps:
        raise SystemExit(f'error: {log_file}: no steps after the {warmup_steps} warm-up steps; raise --epochs')
    seconds = sum(step['train_iter_time'] for step in steps)
    items = sum(step['train_items_per_sec'] * step['train_iter_time'] for step in steps)
    return items / seconds, seconds / len(steps), len(steps)


def benchmark(spec, case, precision, dataset, epochs, warmup_steps):
    with tempfile.TemporaryDirectory() as output:
        with contextlib.redirect_stdout(io.StringIO()) as log:
            code = train.main(train_argv(spec, case, precision, dataset, Path(output), epochs))
        if code != 0:
            raise SystemExit(f'error: {spec.name} {precision} failed:\n{log.getvalue()[-2000:]}')
        return throughput(Path(output) / 'nvlog.json', warmup_steps)


@command('python -m benchmarks.training')
def main(argv=None):
    cases = training_cases()
    parser = ArgumentParser(prog='python -m benchmarks.training', description=__doc__.splitlines()[0])
    parser.add_argument('--dataset-path', type=Path, help='A prepared embedded corpus (default: build one)')
    parser.add_argument('--num-clips', type=int, default=16, help='Clips to build without --dataset-path')
    parser.add_argument('--models', nargs='+', default=list(cases), choices=list(cases))
    parser.add_argument('--precisions', nargs='+', default=['fp32', 'bf16'], choices=list(PRECISION_FLAGS))
    parser.add_argument('--epochs', type=int, default=2, help='Epochs per run (14 training clips: 3 steps each)')
    parser.add_argument('--warmup-steps', type=int, default=2, help='Steps left out of the timing')
    parser.add_argument('--threads', type=int, default=None,
                        help="torch's CPU threads (default: its own choice; 1 where other jobs share the cores, "
                             'as OpenMP threads waiting for a busy core make small ops very slow)')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as scratch:
        dataset = args.dataset_path
        if dataset is None:
            dataset = Path(scratch) / 'corpus'
            prepare_corpus(dataset, args.num_clips)
        device = 'cuda' if torch.cuda.is_available() else f'cpu ({torch.get_num_threads()} threads)'
        print(f'train.py throughput on {device}, torch {torch.__version__}, {args.epochs} epochs per run, '
              f'first {args.warmup_steps} steps not timed')
        print(f'{"model":<10} {"precision":<9} {"items/s":>12} {"s/step":>8} {"steps":>6}  items')
        for model_name in args.models:
            spec, case = cases[model_name]
            for precision in args.precisions:
                rate, step_time, steps = benchmark(spec, case, precision, dataset, args.epochs, args.warmup_steps)
                print(f'{model_name:<10} {precision:<9} {rate:>12.1f} {step_time:>8.3f} {steps:>6}  '
                      f'{spec.item_unit}', flush=True)


if __name__ == '__main__':
    sys.exit(main())
