"""The benchmarks' arithmetic: the floors' FLOP and weight counts against the models themselves (parameters counted
by torch, FLOP counted by torch.utils.flop_counter on a short input), the floor formula, and one quick case of the
speed command end to end; the runners find every case through the specs and name no model."""
import json
import re
import time
import warnings
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import models
import prepare_dataset
import train
from benchmarks import ceilings, floors, headroom, inference_memory, preprocessing, speed
from benchmarks import training as training_benchmark
from common.benchmarking import Phase
from common.checkpoint import save_checkpoint
from common.splits import audio_filelist_path
from tests.tiny_configs import tiny_config, tiny_model
from fastpitch import benchmark as fastpitch_cases
from tacotron2 import benchmark as tacotron2_cases
from waveglow import benchmark as waveglow_cases

CEILINGS = {'fp32_gflops': 100.0, 'bf16_gflops': 50.0, 'int8_gops': 400.0, 'copy_gbps': 20.0, 'read_gbps': 10.0}


def _default(name, **overrides):
    torch.manual_seed(0)
    config = {**models.default_model_config(name), **overrides}
    return config, models.get_model(name, config, 'cpu').eval()


def _parameters(model, skip=()):
    return sum(p.numel() for name, p in model.named_parameters() if not any(part in name for part in skip))


def _addmm_inplace_flops(bias, a, b, *args, out_val=None, **kwargs):
    return 2 * a.size(0) * a.size(1) * b.size(1)


_addmm_inplace_flops._get_raw = True  # FlopCounterMode passes the tensors themselves


def _counted_flops(run):
    # torch's table has no entry for the in-place addmm_ that ChannelsLastConv1d accumulates its taps with
    counter = FlopCounterMode(display=False, custom_mapping={torch.ops.aten.addmm_: _addmm_inplace_flops})
    with torch.no_grad(), counter:
        run()
    return counter.get_total_flops()


def test_waveglow_floor_counts_every_weight_and_the_flows_flops():
    config, model = _default('WaveGlow')
    model = model.remove_weightnorm(model)
    n_frames = 2
    upsample, flows = waveglow_cases.infer_floor(config, 'fp32', batch=1, n_frames=n_frames)
    tallies = [waveglow_cases.upsample_tally(config, 1, n_frames), waveglow_cases.flows_tally(config, 1, 1)]
    assert sum(t.weights for t in tallies) == _parameters(model)
    counted = _counted_flops(lambda: model.infer(torch.randn(1, config['n_mel_channels'], n_frames), sigma=0.6))
    # torch counts the same products; the upsampler's overlap-add and the 1x1 inverses are within 1 %
    assert flows.flops + upsample.flops == pytest.approx(counted, rel=0.01)


def test_fastpitch_floor_counts_the_weights_and_flops_of_its_products():
    config, model = _default('FastPitch')
    n_symbols, duration = 16, 3
    phases = fastpitch_cases.infer_floor(config, 'fp32', batch=1, n_symbols=n_symbols, n_frames=n_symbols * duration)
    weights = (fastpitch_cases.symbols_tally(config, 1, n_symbols).weights
               + fastpitch_cases.frames_tally(config, 1, n_symbols).weights)
    # left out on purpose: the embeddings (a lookup, no product) and the layer norms (a few operations per element)
    assert weights == _parameters(model, skip=('word_emb', 'layer_norm', '.norm.', 'pos_emb'))
    text = torch.randint(1, config['n_symbols'], (1, n_symbols))
    counted = _counted_flops(lambda: model.infer(text, torch.tensor([n_symbols]),
                                                 dur_tgt=torch.full_like(text, duration)))
    assert sum(p.flops for p in phases) == pytest.approx(counted, rel=0.02)


def test_tacotron2_floor_counts_the_weights_and_flops_of_its_products():
    n_steps, n_symbols = 5, 12
    config, model = _default('Tacotron2', max_decoder_steps=n_steps, decoder_no_early_stopping=True)
    phases = tacotron2_cases.infer_floor(config, 'fp32', batch=1, n_symbols=n_symbols, n_steps=n_steps)
    weights = sum(tally.weights for tally in (tacotron2_cases.encoder_tally(config, 1, n_symbols),
                                              tacotron2_cases.decoder_step_tally(config, 1, n_symbols),
                                              tacotron2_cases.postnet_tally(config, 1, n_steps)))
    assert weights == _parameters(model, skip=('embedding', '.1.weight', '.1.bias'))  # embedding, batch norms
    text = torch.randint(1, config['n_symbols'], (1, n_symbols))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the gate of random weights may never fire: n_steps are wanted
        counted = _counted_flops(lambda: model.infer(text, torch.tensor([n_symbols])))
    # torch's counter does not see into the CPU's fused LSTM kernel: add the encoder LSTM's two products per symbol
    lstm_weights = sum(w.numel() for name, w in model.encoder.lstm.named_parameters() if 'weight' in name)
    assert sum(p.flops for p in phases) == pytest.approx(counted + 2 * lstm_weights * n_symbols, rel=0.02)


def test_floor_is_the_slower_of_arithmetic_and_memory_per_phase():
    compute_bound = Phase('gemm', flops=1e11, bytes=1e6)
    memory_bound = Phase('gemv', flops=1e6, bytes=1e10)
    assert floors.phase_seconds(compute_bound, CEILINGS, 'fp32') == pytest.approx(1.0)  # 1e11 FLOP / 100 GFLOP/s
    assert floors.phase_seconds(compute_bound, CEILINGS, 'int8') == pytest.approx(0.25)  # the int8 roof is 4x higher
    assert floors.phase_seconds(memory_bound, CEILINGS, 'fp32') == pytest.approx(0.5)  # 1e10 B / 20 GB/s (faster)
    assert floors.floor_seconds([compute_bound, memory_bound], CEILINGS) == pytest.approx(1.5)


def test_tacotron2_decoding_is_memory_bound_and_streams_its_weights_every_step():
    config = models.default_model_config('Tacotron2')
    one, two = (tacotron2_cases.infer_floor(config, 'fp32', 1, 128, n)[1] for n in (100, 200))
    assert floors.phase_seconds(one, CEILINGS, 'fp32') == pytest.approx(one.bytes / 20e9)  # bytes set the floor
    assert two.bytes == pytest.approx(2 * one.bytes, rel=0.01)
    assert 60e6 < one.bytes / 100 < 80e6  # about 70 MB of weights per step, as the issue estimates


def test_speed_command_quick_case_writes_its_figures(tmp_path, capsys):
    out = tmp_path / 'speed.json'
    speed.main(['--quick', '--cases', 'fp10_infer', '--json', str(out)])
    record = json.loads(out.read_text())['cases']['fp10_infer/cpu']
    assert record['figure'] == pytest.approx(record['items'] / record['seconds'])
    assert record['floor_distance'] == pytest.approx(record['seconds'] / record['floor_seconds'])
    assert 'ratio' not in record  # quick sizes differ from the reference's: no ratio is claimed
    assert 'fp10_infer' in capsys.readouterr().out


def test_speed_command_runs_the_onnx_runtime_backend_and_skips_what_it_cannot(tmp_path, capsys):
    pytest.importorskip('onnxruntime', reason='the ONNX Runtime backend needs onnx and onnxruntime')
    out = tmp_path / 'speed.json'
    speed.main(['--quick', '--backend', 'onnxruntime', '--cases', 'hfg_v3_infer,hfg_v1_infer_ts,fp10_train',
                '--precision', 'int8', '--json', str(out)])
    report = json.loads(out.read_text())
    assert list(report['cases']) == ['hfg_v3_infer/cpu']  # the traced case and a training step are skipped
    record = report['cases']['hfg_v3_infer/cpu']
    assert (record['backend'], record['precision']) == ('onnxruntime', 'int8') and record['figure'] > 0
    printed = capsys.readouterr().out
    assert 'hfg_v1_infer_ts cpu   onnxrt  int8  skipped' in printed
    assert 'fp10_train      cpu   onnxrt  int8  skipped' in printed


def test_reference_figures_are_those_of_this_processor(tmp_path, capsys):
    path = tmp_path / 'baseline.json'
    path.write_text(json.dumps({'cases': {'t2_infer': {'frames_per_s': 1.0}},
                                'by_processor': {'CPU A': {'cases': {'t2_infer': {'frames_per_s': 2.0}}}}}))
    assert speed.load_reference('CPU A', path) == {'t2_infer': {'frames_per_s': 2.0}}
    assert speed.load_reference('CPU B', path) is None
    assert "none for this processor ('CPU B'" in capsys.readouterr().out


def test_speed_command_rejects_unknown_cases(capsys):
    assert speed.main(['--cases', 'wg1024_infer']) == 2
    assert 'unknown case wg1024_infer' in capsys.readouterr().err


# models the reference's CPU baseline did not measure
UNMEASURED_CASES = {'fp11_infer', 'fp11_train', 'hfg_v1_infer', 'hfg_v1_infer_ts', 'hfg_v3_infer', 'hfg_v1_train'}


def test_speed_cases_are_the_reference_cases_inference_first():
    reference = json.loads(speed.REFERENCE_FILE.read_text())['cases'] if speed.REFERENCE_FILE.is_file() else None
    if reference is not None:
        assert set(speed.CASES) - UNMEASURED_CASES == set(reference)
    assert list(speed.CASES) == ['t2_infer', 'wg256_infer', 'wg512_infer', 'fp10_infer', 'fp11_infer',
                                 'hfg_v1_infer', 'hfg_v1_infer_ts', 'hfg_v3_infer', 't2_train', 'wg256_train',
                                 'fp10_train', 'fp11_train', 'hfg_v1_train']


def test_training_benchmark_flags_parse_as_train_py_takes_them(tmp_path):
    audio = audio_filelist_path(tmp_path / 'filelists', training_benchmark.PREFIX, 'train')
    prepared = {audio, *(prepare_dataset.derived_filelist_path(audio, kind)
                         for kind in ('mel_text', 'mel_dur_pitch_text'))}
    for spec, case in training_benchmark.training_cases().values():
        argv = training_benchmark.train_argv(spec, case, 'bf16', tmp_path, tmp_path / 'out', epochs=2)
        args = train.parse_args(argv)
        assert args.model_name == spec.name and args.amp and args.batch_size == training_benchmark.BATCH_SIZE
        assert Path(args.training_files) in prepared  # a filelist that the split and prepare_dataset.py write
    waveglow_args = train.parse_args(training_benchmark.train_argv(
        *training_benchmark.training_cases()['WaveGlow'], 'fp32', tmp_path, tmp_path / 'out', epochs=2))
    assert waveglow_args.wn_channels == 64  # the demo size of configs/demo_waveglow.json


def test_the_benchmark_runners_name_no_model():
    named = re.compile('tacotron|waveglow|fastpitch|hifi', re.IGNORECASE)
    for path in (Path(__file__).resolve().parents[1] / 'benchmarks').glob('*.py'):
        assert not named.search(path.read_text()), f'{path.name} names a model: the specs say what is model-specific'


def test_preprocessing_aligns_with_every_model_that_can(corpus_dir, tmp_path):
    """Each --durations-from model's stage runs its AlignmentCase's model (FastPitch: 1.1, as 1.0 has no aligner)
    and gives every clip of a batch one duration per symbol, adding up to its frames."""
    parsed = prepare_dataset.parse_args(['-d', str(preprocessing.work_folder(corpus_dir, tmp_path / 'work')),
                                         '--wav-text-filelist', '-', '--extract-mels'])
    settings = prepare_dataset.settings_from_args(parsed)
    clips = preprocessing.stage_clips(settings, settings.mel_stft(),
                                      preprocessing.corpus_filelist(corpus_dir, tmp_path, limit=2))
    stages = preprocessing.duration_stages(settings, clips, model_clips=2, batch_size=2)
    for name in prepare_dataset.aligning_specs():
        function, batches, _, _ = stages[f'durations ({name}, batches of 2)']
        assert [len(batch) for batch in batches] == [2]
        durations = function(batches[0])
        assert [len(item) for item in durations] == [len(ids) for ids, _ in batches[0]]
        assert [int(sum(item)) for item in durations] == [mel.size(1) for _, mel in batches[0]]


def test_inference_memory_runs_both_settings_on_the_checkpoints_it_is_given(tmp_path, capsys):
    paths = []
    for name in ('FastPitch', 'HiFiGAN'):
        paths.append(tmp_path / f'{name}.pt')
        save_checkpoint({'model_name': name, 'config': tiny_config(name), 'state_dict': tiny_model(name).state_dict()},
                        paths[-1])
    assert inference_memory.main([*map(str, paths), '--chars', '120']) == 0
    out = capsys.readouterr().out
    assert '120-character paragraph' in out and "glibc's default heap: peak" in out
    assert 'large blocks released (common/native_memory.py): peak' in out and 'default / released:' in out


def test_headroom_is_the_reference_time_over_the_floor_at_the_given_ceilings(tmp_path, capsys):
    """A machine with twice the GEMM roof halves a compute-bound case's floor, so doubles the headroom."""
    if not speed.REFERENCE_FILE.is_file():
        pytest.skip(f'{speed.REFERENCE_FILE} not found (../shared/reference holds the reference figures)')
    processor = 'AMD EPYC'
    reference_seconds = 640 / speed.load_reference(processor)['fp10_infer']['frames_per_s']  # the case's 640 frames
    ratios = []
    for gflops in (100.0, 200.0):
        path = tmp_path / f'ceilings_{gflops:.0f}.json'
        path.write_text(json.dumps({**CEILINGS, 'device': 'cpu', 'fp32_gflops': gflops}))
        assert headroom.main(['--ceilings', str(path), '--processor', processor, '--cases', 'fp10_infer']) == 0
        row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith('fp10_infer'))
        floor, shown_reference, ratio = (float(cell.rstrip('x')) for cell in row.split()[1:])
        assert shown_reference == pytest.approx(reference_seconds, abs=1e-3)
        assert ratio == pytest.approx(reference_seconds / floor, rel=0.01)
        ratios.append(ratio)
    assert ratios[1] == pytest.approx(2 * ratios[0], rel=0.02)


def test_headroom_rejects_unknown_cases(tmp_path, capsys):
    assert headroom.main(['--ceilings', str(tmp_path / 'c.json'), '--cases', 'wg1024_infer']) == 2
    assert 'unknown case wg1024_infer' in capsys.readouterr().err


def test_ceilings_measure_a_slow_product_at_a_smaller_size(monkeypatch):
    """A product type that is slow here (emulated bf16) is timed where one call got slow, not at the full size: the
    probe stops growing once a call takes longer than SLOW_PRODUCT_SECONDS."""
    sizes = []

    def product(a, b):
        sizes.append(a.size(0))
        time.sleep(0.001 * (a.size(0) // 256) ** 3)  # 256: 1 ms, 512: 8 ms, 1024: 64 ms, 2048: 512 ms
        return a

    monkeypatch.setattr(ceilings, 'SLOW_PRODUCT_SECONDS', 0.05)
    rate = ceilings.square_product_rate(lambda n: (torch.empty(n, 1), None), product, torch.device('cpu'), 2048,
                                       repeats=1)
    assert max(sizes) == 1024
    assert rate == pytest.approx(2 * 1024 ** 3 / 0.064 / 1e9, rel=0.5)
