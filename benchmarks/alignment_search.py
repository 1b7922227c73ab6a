"""Time of the monotonic alignment search (common/alignment_search.py) per training step, at LJSpeech scale.

    python -m benchmarks.alignment_search [--batch-size 16] [--frames 800] [--symbols 150] [--repeats 10]
                                          [--device cpu|cuda] [--threads 1]

Every item of the batch at the full size (the worst case of a step): a soft attention (B, 1, frames, symbols) on
the device, through binarize_attention as a model calls it in its forward pass (log, copy to the CPU, search,
copy back). The one-time numba compilation is timed separately, then the median and range of --repeats
timed calls are printed. The search's cost does not depend on the attention's values.
"""
import statistics
import sys
import time

import torch

from common.alignment_search import binarize_attention
from common.cli import ArgumentParser, command


def soft_attention(batch_size, n_frames, n_symbols, device):
    """A random soft attention (softmax over symbols) that favours the diagonal, as a trained aligner's does."""
    gen = torch.Generator().manual_seed(0)
    diagonal = torch.linspace(0, n_symbols - 1, n_frames)[:, None] - torch.arange(n_symbols)
    logits = torch.randn(batch_size, 1, n_frames, n_symbols, generator=gen) - 0.1 * diagonal.abs()
    return logits.softmax(dim=3).to(device)


def time_calls(function, device, repeats):
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        runs.append(time.perf_counter() - start)
    return runs


@command('python -m benchmarks.alignment_search')
def main(argv=None):
    parser = ArgumentParser(prog='python -m benchmarks.alignment_search', description=__doc__.splitlines()[0])
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--frames', type=int, default=800)
    parser.add_argument('--symbols', type=int, default=150)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=1, help='torch.set_num_threads (log and copies)')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    attn = soft_attention(args.batch_size, args.frames, args.symbols, device)
    frame_lens = torch.full((args.batch_size,), args.frames, device=device)
    symbol_lens = torch.full((args.batch_size,), args.symbols, device=device)

    def step():
        return binarize_attention(attn, symbol_lens, frame_lens)

    compile_seconds = time_calls(step, device, 1)[0]
    runs = time_calls(step, device, args.repeats)
    print(f'alignment search, batch {args.batch_size} x {args.frames} frames x {args.symbols} symbols on '
          f'{device}, {args.threads} torch thread(s)')
    print(f'first call (numba compiles): {compile_seconds:.2f} s')
    print(f'per step: median {statistics.median(runs) * 1e3:.2f} ms, range {min(runs) * 1e3:.2f}-'
          f'{max(runs) * 1e3:.2f} ms over {args.repeats} calls')


if __name__ == '__main__':
    sys.exit(main())
