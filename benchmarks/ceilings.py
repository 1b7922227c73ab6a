"""This machine's ceilings: how fast a large matrix product runs (fp32, bf16, int8) and how fast memory streams.

Every benchmark case is compared with these two roofs (benchmarks/floors.py turns its FLOP and byte counts into a
floor time with them). A ceiling is the best of a few runs, not the median: it estimates what the hardware can do
when nothing gets in the way, and a floor must not be set higher than that.

    python -m benchmarks.ceilings [--threads 2] [--device cpu] [--quick] [--json out.json]
"""
import json
import os
import sys
import time

import torch

from common.cli import ArgumentParser, command
from common.int8 import int8_product, pack_int8

GEMM_SIZE = 2048           # 17 GFLOP per product: long enough to hide call overheads, short enough to repeat
SLOW_PRODUCT_SECONDS = 0.1  # a product type this slow at a smaller size is measured there (emulated bf16 runs at
                            # about 1 GFLOP/s on CPUs without its instructions: minutes at full size)
STREAM_BYTES = 256 << 20   # 256 MiB per buffer: far beyond any cache level
REPEATS = 5


def _synchronize(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def best_seconds(fn, device, repeats):
    """Fastest of `repeats` timed calls after one untimed warm-up."""
    fn()
    _synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _synchronize(device)
        times.append(time.perf_counter() - start)
    return min(times)


def square_product_rate(make_operands, product, device, n_max, repeats):
    """Operations per second (1e9) of product(*make_operands(n)), a square n x n product, at n_max or at the size
    where one call became slow."""
    n = 256
    while True:
        operands = make_operands(n)
        seconds = best_seconds(lambda: product(*operands), device, repeats)
        if n >= n_max or seconds > SLOW_PRODUCT_SECONDS:
            return 2 * n ** 3 / seconds / 1e9
        n = min(2 * n, n_max)


def gemm_gflops(dtype, device, n=GEMM_SIZE, repeats=REPEATS):
    """Square n x n product in `dtype`: 2 n^3 FLOP per call."""
    def operands(size):
        return [torch.randn(size, size, device=device).to(dtype) for _ in range(2)]
    return square_product_rate(operands, torch.matmul, device, n, repeats)


def int8_gemm_gops(device, n=GEMM_SIZE, repeats=REPEATS):
    """The product every int8 layer runs (common/int8.py: fbgemm, a packed int8 weight, the activations quantized
    per call, int32 sums): the roof of the int8 paths. None off the CPU, where they do not run."""
    if device.type != 'cpu':
        return None

    def operands(size):
        return torch.randn(size, size), pack_int8(torch.randn(size, size), None)
    return square_product_rate(operands, int8_product, device, n, repeats)


def copy_gbps(device, n_bytes=STREAM_BYTES, repeats=REPEATS):
    """Large copy; counts the bytes read plus the bytes written."""
    source = torch.ones(n_bytes // 4, device=device)
    target = torch.empty_like(source)  # written once by the warm-up, so page faults are not timed
    return 2 * n_bytes / best_seconds(lambda: target.copy_(source), device, repeats) / 1e9


def read_gbps(device, n_bytes=STREAM_BYTES, repeats=REPEATS):
    """Large read-only stream (a sum): what a matrix-vector product over weights that miss the cache needs."""
    source = torch.ones(n_bytes // 4, device=device)
    return n_bytes / best_seconds(source.sum, device, repeats) / 1e9


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def measure(device='cpu', quick=False):
    """Ceilings of `device` under the current thread setting, with the load average seen before and after."""
    device = torch.device(device)
    repeats = 2 if quick else REPEATS
    size = GEMM_SIZE // 2 if quick else GEMM_SIZE
    load_before = loadavg()
    result = {
        'device': str(device),
        'threads': torch.get_num_threads() if device.type == 'cpu' else None,
        'fp32_gflops': gemm_gflops(torch.float32, device, size, repeats),
        'bf16_gflops': gemm_gflops(torch.bfloat16, device, size, repeats),
        # CPUs emulate fp16 products (slowly): fp16 autocast is a GPU path here
        'fp16_gflops': gemm_gflops(torch.float16, device, size, repeats) if device.type == 'cuda' else None,
        'int8_gops': int8_gemm_gops(device, size, repeats),
        'copy_gbps': copy_gbps(device, repeats=repeats),
        'read_gbps': read_gbps(device, repeats=repeats),
    }
    result['loadavg'] = {'before': load_before, 'after': loadavg()}
    return result


def format_ceilings(c):
    int8 = f"{c['int8_gops']:.0f} GOP/s" if c['int8_gops'] else 'n/a'
    fp16 = f"{c['fp16_gflops']:.0f} GFLOP/s" if c.get('fp16_gflops') else 'n/a'
    return (f"{c['device']} ({c['threads'] or '-'} threads): GEMM fp32 {c['fp32_gflops']:.0f} GFLOP/s, "
            f"fp16 {fp16}, bf16 {c['bf16_gflops']:.0f} GFLOP/s, int8 {int8}; "
            f"copy {c['copy_gbps']:.1f} GB/s (read+write), "
            f"read {c['read_gbps']:.1f} GB/s; load average {c['loadavg']['before']} -> {c['loadavg']['after']}")


@command('python -m benchmarks.ceilings')
def main(argv=None):
    parser = ArgumentParser(prog='python -m benchmarks.ceilings', description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (CPU)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--quick', action='store_true', help='smaller products, fewer repeats')
    parser.add_argument('--json', help='also write the figures to this JSON file')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ceilings = measure(args.device, args.quick)
    print(format_ceilings(ceilings))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(ceilings, f, indent=1)


if __name__ == '__main__':
    sys.exit(main())
