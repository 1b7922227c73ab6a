"""Floor time: how long a speed case's unavoidable work takes at this machine's ceilings (benchmarks/ceilings.py).

Each case counts its work as Phases of FLOP and bytes (its model package's benchmark.py, by the rules of
common/benchmarking.py). Floor time = sum over phases of max(FLOP / GEMM ceiling, bytes / stream bandwidth): each
phase waits at least for its arithmetic or for its memory traffic. The distance from the floor is measured time /
floor time.
"""
# the GEMM ceiling of each precision
PEAK_KEY = {'fp32': 'fp32_gflops', 'fp16': 'fp16_gflops', 'bf16': 'bf16_gflops', 'int8': 'int8_gops'}


def phase_seconds(phase, ceilings, precision):
    """A machine without the precision's own ceiling (int8 where it is unsupported, fp16 on a CPU) is held to the fp32
    one."""
    peak = ceilings.get(PEAK_KEY[precision]) or ceilings['fp32_gflops']
    bandwidth = max(ceilings['copy_gbps'], ceilings['read_gbps'])
    return max(phase.flops / (peak * 1e9), phase.bytes / (bandwidth * 1e9))


def floor_seconds(phases, ceilings, precision='fp32'):
    return sum(phase_seconds(phase, ceilings, precision) for phase in phases)


def reference_over_floor(items, reference_per_second, floor):
    """The reference's time for `items` over a floor time: the ratio to the reference that no code doing the same
    arithmetic can pass on the machine of that floor (below 1: the reference ran on a faster machine)."""
    return items / reference_per_second / floor
