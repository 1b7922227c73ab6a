"""common/latency.py: measured percentiles, the summary statistics and the tables."""
import math

import numpy as np
import pytest

from common import latency
from common.logger import Logger


def test_percentiles_interpolate_between_measured_values():
    assert latency.percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    values = [float(v) for v in range(1, 101)]
    assert latency.percentile(values, 90) == pytest.approx(90.1)
    assert latency.percentile(values, 99) == pytest.approx(99.01)
    assert latency.percentile(values, 100) == 100.0
    assert latency.percentile([7.0], 95) == 7.0


def test_percentiles_follow_the_data_not_the_mean_and_deviation():
    """One slow outlier among 99 equal runs: p50..p95 stay at the common value; a normal-theory estimate
    (mean + 2.33 std) would put p99 near 24."""
    values = sorted([1.0] * 99 + [100.0])
    for q in (50, 90, 95):
        assert latency.percentile(values, q) == 1.0
    assert latency.percentile(values, 99) == pytest.approx(1.99)
    mean, std = np.mean(values), np.std(values)
    assert mean + 2.33 * std > 20


@pytest.mark.parametrize('q', [0, 13, 50, 90, 95, 99, 100])
def test_percentiles_match_numpy_linear_method(q):
    values = sorted(np.random.default_rng(q).exponential(size=37).tolist())
    assert latency.percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_percentile_rejects_bad_requests():
    with pytest.raises(ValueError, match='no values'):
        latency.percentile([], 50)
    with pytest.raises(ValueError, match=r'\[0, 100\]'):
        latency.percentile([1.0], 101)


def _run(latency_s, generator_s, frames, samples, utterances=1):
    return {'latency': latency_s, 'generator_latency': generator_s, 'vocoder_latency': latency_s - generator_s,
            'mel_frames': frames, 'audio_samples': samples, 'utterances': utterances}


def test_summary_statistics_on_known_runs():
    runs = [_run(0.1, 0.02, 100, 25600), _run(0.2, 0.05, 200, 51200, 2), _run(0.3, 0.03, 100, 25600),
            _run(0.4, 0.1, 300, 76800, 3)]
    summary = latency.summarize(runs, sampling_rate=22050)
    assert summary['runs'] == 4
    assert summary['latency_mean'] == pytest.approx(0.25)
    assert summary['latency_std'] == pytest.approx(math.sqrt(0.0125))  # population deviation
    assert summary['latency_p50'] == pytest.approx(0.25)
    assert summary['latency_p90'] == pytest.approx(0.37)
    assert summary['latency_max'] == pytest.approx(0.4)
    assert summary['generator_latency_mean'] == pytest.approx(0.05)
    assert summary['vocoder_latency_mean'] == pytest.approx(0.2)
    assert summary['throughput_samples_per_s'] == pytest.approx(179200 / 1.0)
    assert summary['generator_frames_per_s'] == pytest.approx(700 / 0.2)
    assert summary['vocoder_samples_per_s'] == pytest.approx(179200 / 0.8)
    assert summary['realtime_factor'] == pytest.approx(179200 / 22050 / 1.0)
    assert summary['mel_frames_mean'] == pytest.approx(175)
    assert summary['audio_seconds_mean'] == pytest.approx(179200 / 22050 / 7)
    assert set(summary) == {key for key, _, _ in latency.SUMMARY_ROWS}


def test_summary_needs_runs():
    with pytest.raises(ValueError, match='no measured runs'):
        latency.summarize([], 22050)


def test_timed_records_the_block_on_the_cpu():
    timings = {}
    with latency.timed('cpu', timings, 'step'):
        sum(range(1000))
    assert set(timings) == {'step'} and timings['step'] >= 0


def test_timed_waits_for_the_gpu_before_and_after(monkeypatch):
    calls = []
    monkeypatch.setattr(latency.torch.cuda, 'synchronize', lambda device: calls.append(str(device)))
    timings = {}
    with latency.timed('cuda', timings, 'step'):
        calls.append('block')
    assert calls == ['cuda', 'block', 'cuda'] and 'step' in timings


def test_table_and_comparison_show_every_statistic(tmp_path, capsys):
    summary = latency.summarize([_run(0.1, 0.02, 100, 25600), _run(0.3, 0.1, 100, 25600)], 22050)
    table = latency.format_table(summary)
    for _, label, _ in latency.SUMMARY_ROWS:
        assert label in table
    assert len(table.splitlines()) == len(latency.SUMMARY_ROWS)

    log_path = tmp_path / 'fastpitch_cpu_bs1_fp32.json'
    logger = Logger(log_file=log_path, stdout=None)
    logger.log('run 0', {'latency': 0.1})
    logger.log((), {**summary, 'batch_size': 1, 'precision': 'fp32', 'device': 'cpu'})
    logger.close()
    assert latency.main([str(log_path)]) == 0
    header, rule, row = capsys.readouterr().out.splitlines()
    assert header.count('|') == rule.count('|') == row.count('|')
    assert row.startswith('| fastpitch_cpu_bs1_fp32 | cpu | fp32 | 1 | 2 |')


def test_comparison_of_a_log_without_summary_is_a_one_line_error(tmp_path, capsys):
    log_path = tmp_path / 'partial.json'
    logger = Logger(log_file=log_path, stdout=None)
    logger.log('run 0', {'latency': 0.1})
    logger.close()
    assert latency.main([str(log_path)]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and 'partial.json: holds no summary record' in error


def test_streamed_runs_add_the_time_to_first_audio(tmp_path):
    streamed = [{**_run(0.4, 0.1, 100, 25600), 'first_audio_latency': seconds} for seconds in (0.05, 0.15, 0.1)]
    summary = latency.summarize(streamed, 22050)
    assert summary['first_audio_latency_mean'] == pytest.approx(0.1)
    assert summary['first_audio_latency_p50'] == pytest.approx(0.1)
    assert summary['first_audio_latency_p90'] == pytest.approx(0.14)
    assert summary['first_audio_latency_max'] == pytest.approx(0.15)
    table = latency.format_table(summary)
    assert len(table.splitlines()) == len(latency.SUMMARY_ROWS) + len(latency.STREAM_ROWS)
    assert 'time to first audio p90 (s)' in table

    whole = latency.summarize([_run(0.4, 0.1, 300, 76800)], 22050)
    header, _, whole_row, streamed_row = latency.format_comparison([('whole', whole), ('stream', summary)]).splitlines()
    assert header.endswith('| first_audio_latency_max |') and streamed_row.endswith('| 0.15 |')
    assert whole_row.endswith('|  |  |  |  |')  # no time to first audio for a batch run
    assert 'first_audio' not in latency.format_comparison([('whole', whole)])
