"""Latency measurement for inference: timing that waits for the GPU, summary statistics and the printed table.

Percentiles are measured, not modelled: the sorted latencies are interpolated linearly between the two nearest
ranks (rank q/100 * (n - 1), numpy's default 'linear' method), so p50 of [1, 2, 3, 4] is 2.5 and p100 is the
maximum. The standard deviation is the population one (divisor n). The real-time factor is audio seconds produced
per second of compute (above 1: faster than real time), as the reference recipes report it. A streamed run
(inference.py --stream: one input line) also has its time to first audio: from its start to its first audio chunk.

`python -m common.latency LOG.json [LOG.json ...]` prints one table row per JSON log's summary record.
"""
import math
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from common.cli import ArgumentParser, command
from common.logger import format_value, read_json_log

PERCENTILES = (50, 90, 95, 99)
FIRST_AUDIO_PERCENTILES = (50, 90)  # a streamed run is a whole input line: fewer runs, fewer percentiles

# (summary key, label, unit) in table order.
SUMMARY_ROWS = (
    ('runs', 'measured runs', ''),
    ('latency_mean', 'latency mean', 's'),
    ('latency_std', 'latency std', 's'),
    *((f'latency_p{q}', f'latency p{q}', 's') for q in PERCENTILES),
    ('latency_max', 'latency max', 's'),
    ('generator_latency_mean', 'generator latency mean', 's'),
    ('vocoder_latency_mean', 'vocoder latency mean (incl. denoiser)', 's'),
    ('throughput_samples_per_s', 'throughput', 'audio samples/s'),
    ('generator_frames_per_s', 'generator', 'mel frames/s'),
    ('vocoder_samples_per_s', 'vocoder', 'audio samples/s'),
    ('realtime_factor', 'real-time factor', 'x real time'),
    ('mel_frames_mean', 'mel frames per run', 'frames'),
    ('audio_seconds_mean', 'audio length per utterance', 's'),
)
# Streamed runs (inference.py --stream, one input line each) also time their first audio chunk.
STREAM_ROWS = (
    ('first_audio_latency_mean', 'time to first audio mean', 's'),
    *((f'first_audio_latency_p{q}', f'time to first audio p{q}', 's') for q in FIRST_AUDIO_PERCENTILES),
    ('first_audio_latency_max', 'time to first audio max', 's'),
)


def synchronize(device):
    """Wait for queued GPU work, so that a timer read afterwards covers it."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


@contextmanager
def timed(device, timings, key):
    """Add the wall time of the block, device work included, to timings[key] (seconds; from 0 where absent)."""
    synchronize(device)
    start = time.perf_counter()
    yield
    synchronize(device)
    timings[key] = timings.get(key, 0.0) + time.perf_counter() - start


def percentile(sorted_values, q):
    """The q-th percentile (0..100) of ascending values, linear between the two nearest ranks."""
    if not sorted_values:
        raise ValueError('percentile of no values')
    if not 0 <= q <= 100:
        raise ValueError(f'percentile must lie in [0, 100], got {q}')
    rank = q / 100 * (len(sorted_values) - 1)
    below = math.floor(rank)
    above = min(below + 1, len(sorted_values) - 1)
    return sorted_values[below] + (rank - below) * (sorted_values[above] - sorted_values[below])


def summarize(runs, sampling_rate):
    """Statistics of measured runs, each a dict with generator_latency, vocoder_latency, latency (s), mel_frames,
    audio_samples and utterances (pieces of text synthesized in the run); streamed runs also have
    first_audio_latency (s), the time to their first audio chunk."""
    if not runs:
        raise ValueError('no measured runs to summarize')
    latencies = sorted(run['latency'] for run in runs)
    n = len(latencies)
    mean = sum(latencies) / n
    keys = ('latency', 'generator_latency', 'vocoder_latency', 'mel_frames', 'audio_samples', 'utterances')
    total = {key: sum(run[key] for run in runs) for key in keys}
    summary = {'runs': n, 'latency_mean': mean,
               'latency_std': math.sqrt(sum((value - mean) ** 2 for value in latencies) / n)}
    summary.update({f'latency_p{q}': percentile(latencies, q) for q in PERCENTILES})
    summary.update({
        'latency_max': latencies[-1],
        'generator_latency_mean': total['generator_latency'] / n,
        'vocoder_latency_mean': total['vocoder_latency'] / n,
        'throughput_samples_per_s': _ratio(total['audio_samples'], total['latency']),
        'generator_frames_per_s': _ratio(total['mel_frames'], total['generator_latency']),
        'vocoder_samples_per_s': _ratio(total['audio_samples'], total['vocoder_latency']),
        'realtime_factor': _ratio(total['audio_samples'] / sampling_rate, total['latency']),
        'mel_frames_mean': total['mel_frames'] / n,
        'audio_seconds_mean': _ratio(total['audio_samples'] / sampling_rate, total['utterances']),
    })
    if all('first_audio_latency' in run for run in runs):
        summary.update(_first_audio_statistics(sorted(run['first_audio_latency'] for run in runs)))
    return summary


def _first_audio_statistics(latencies):
    return {'first_audio_latency_mean': sum(latencies) / len(latencies),
            **{f'first_audio_latency_p{q}': percentile(latencies, q) for q in FIRST_AUDIO_PERCENTILES},
            'first_audio_latency_max': latencies[-1]}


def _ratio(amount, seconds):
    return amount / seconds if seconds > 0 else math.inf


def format_table(summary):
    """The summary as an aligned two-column text table (with the time to first audio of streamed runs)."""
    rows = [(f'{label} ({unit})' if unit else label, format_value(summary[key]))
            for key, label, unit in _rows_of([summary])]
    width = max(len(label) for label, _ in rows)
    return '\n'.join(f'{label:<{width}}  {value}' for label, value in rows)


def format_comparison(cases):
    """One Markdown row per (name, summary) pair: the table the latency scripts leave in their results folder."""
    keys = ['device', 'precision', 'batch_size'] + [key for key, _, _ in _rows_of([summary for _, summary in cases])]
    lines = ['| case | ' + ' | '.join(keys) + ' |', '|---' * (len(keys) + 1) + '|']
    lines += ['| ' + ' | '.join([name] + [format_value(summary.get(key, '')) for key in keys]) + ' |'
              for name, summary in cases]
    return '\n'.join(lines)


def _rows_of(summaries):
    """SUMMARY_ROWS, and STREAM_ROWS where a summary is of streamed runs."""
    streamed = any(STREAM_ROWS[0][0] in summary for summary in summaries)
    return SUMMARY_ROWS + STREAM_ROWS if streamed else SUMMARY_ROWS


def summary_record(log_path):
    """The data of the last summary record (step []) of a JSON-lines log written by inference.py."""
    summaries = [record['data'] for record in read_json_log(log_path) if record['step'] == []]
    if not summaries:
        raise ValueError(f'{log_path}: holds no summary record')
    return summaries[-1]


@command('python -m common.latency')
def main(argv=None):
    parser = ArgumentParser(prog='python -m common.latency', description='Print the latency summaries of inference JSON logs as one table')
    parser.add_argument('logs', nargs='+', help='JSON-lines logs written by inference.py --log-file')
    args = parser.parse_args(argv)
    print(format_comparison([(Path(path).stem, summary_record(path)) for path in args.logs]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
