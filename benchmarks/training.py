"""Training throughput of train.py, in items per second (mel frames or audio samples), per model and precision.

    python -m benchmarks.training [--dataset-path D] [--models Tacotron2 WaveGlow FastPitch] [--precisions fp32 bf16]

Config (small, not tiny): FastPitch and WaveGlow at the demo sizes of configs/demo_*.json (WaveGlow: 8 flows of 4
layers x 64 channels, 4000-sample segments; FastPitch: 3+3 FFT layers of width 128), Tacotron 2 at the small size
below (encoder 256, attention and decoder LSTMs 512: a quarter of the reference's parameters), all with batches of
4 clips. Data: the embedded corpus after prepare_dataset.py (D; without it, --num-clips clips are built and prepared
in a temporary folder first, a minute or two). Each model trains --epochs epochs through train.main, loading in the
training process (--workers 0); the first --warmup-steps optimizer steps are not timed. Items/s = items of the timed
steps / their time, as train.py logs them (train_iter_time: data loading, forward, backward, optimizer step).
"""
import argparse
import contextlib
import io
import tempfile
from pathlib import Path

import torch

import models
import train
from common.logger import read_json_log

REPO_ROOT = Path(__file__).resolve().parents[1]
TACOTRON2_SMALL = ['--symbols-embedding-dim', '256', '--encoder-embedding-dim', '256', '--attention-rnn-dim', '512',
                   '--decoder-rnn-dim', '512', '--prenet-dim', '128', '--postnet-embedding-dim', '256']
# Flags per model on top of the shared ones; filelists are <stem>_{train,val}_filelist.txt in D/filelists.
CONFIGS = {
    'Tacotron2': ('espeak_mel_text', ['--load-mel-from-disk', '-lr', '1e-3', *TACOTRON2_SMALL]),
    'WaveGlow': ('espeak_audio_text', ['--config-file', str(REPO_ROOT / 'configs' / 'demo_waveglow.json'),
                                       '-lr', '1e-4', '--weight-decay', '0']),
    'FastPitch': ('espeak_mel_dur_pitch_text', ['--config-file', str(REPO_ROOT / 'configs' / 'demo_fastpitch.json'),
                                                '-lr', '0.1', '--pitch-mean-std-file',
                                                '{dataset}/pitch_char_stats__espeak_audio_text_train_filelist.json']),
}
BATCH_SIZE = 4
PRECISION_FLAGS = {'fp32': [], 'bf16': ['--amp', '--amp-dtype', 'bf16'], 'fp16': ['--amp', '--amp-dtype', 'fp16']}


def prepare_corpus(folder, num_clips):
    from common.corpus import build

    import prepare_dataset
    build.main(['--output', str(folder), '--num-clips', str(num_clips), '--filelists-dir', str(folder / 'filelists')])
    filelists = [str(folder / 'filelists' / f'espeak_audio_text_{split}_filelist.txt') for split in ('train', 'val')]
    prepare_dataset.main(['--dataset-path', str(folder), '--wav-text-filelist', *filelists, '--extract-mels',
                          '--extract-durations', '--extract-pitch'])


def train_argv(model_name, precision, dataset, output, epochs):
    stem, flags = CONFIGS[model_name]
    lists = dataset / 'filelists'
    return ['-m', model_name, '-o', str(output), '-d', str(dataset), '--epochs', str(epochs),
            '--training-files', str(lists / f'{stem}_train_filelist.txt'),
            '--validation-files', str(lists / f'{stem}_val_filelist.txt'),
            '--workers', '0', '--no-tensorboard', '--validation-interval', str(epochs), '-bs', str(BATCH_SIZE),
            *[flag.format(dataset=dataset) for flag in flags], *PRECISION_FLAGS[precision]]


def throughput(log_file, warmup_steps):
    """(items per second, seconds per step, timed steps) over the steps after the warm-up."""
    steps = [record['data'] for record in read_json_log(log_file)
             if isinstance(record['step'], list) and len(record['step']) == 2][warmup_steps:]
    if not steps:
        raise SystemExit(f'error: {log_file}: no steps after the {warmup_steps} warm-up steps; raise --epochs')
    seconds = sum(step['train_iter_time'] for step in steps)
    items = sum(step['train_items_per_sec'] * step['train_iter_time'] for step in steps)
    return items / seconds, seconds / len(steps), len(steps)


def benchmark(model_name, precision, dataset, epochs, warmup_steps):
    with tempfile.TemporaryDirectory() as output:
        with contextlib.redirect_stdout(io.StringIO()) as log:
            code = train.main(train_argv(model_name, precision, dataset, Path(output), epochs))
        if code != 0:
            raise SystemExit(f'error: {model_name} {precision} failed:\n{log.getvalue()[-2000:]}')
        return throughput(Path(output) / 'nvlog.json', warmup_steps)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset-path', type=Path, help='A prepared embedded corpus (default: build one)')
    parser.add_argument('--num-clips', type=int, default=16, help='Clips to build without --dataset-path')
    parser.add_argument('--models', nargs='+', default=list(CONFIGS), choices=list(CONFIGS))
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
            items = models.model_package(model_name).ITEMS
            for precision in args.precisions:
                rate, step_time, steps = benchmark(model_name, precision, dataset, args.epochs, args.warmup_steps)
                print(f'{model_name:<10} {precision:<9} {rate:>12.1f} {step_time:>8.3f} {steps:>6}  {items}',
                      flush=True)


if __name__ == '__main__':
    main()
