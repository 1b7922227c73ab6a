"""Speed of every model against the reference implementation's CPU baseline, and against this machine's floor.

    python -m benchmarks.speed [--cases t2_infer,wg256_infer,...] [--precision fp32|bf16|int8]
                               [--json out.json] [--quick] [--threads 2] [--devices cpu,cuda]

Method (../shared/reference/BASELINE_CPU.md): build each model under torch.manual_seed(0) at its default config,
one untimed warm-up call, 3 timed calls, report the median; torch.set_num_threads(2) on CPU. Inference runs in
eval mode without gradients; a training step is forward + loss + backward + clip_grad_norm_ + optimizer.step() +
zero_grad(set_to_none=True). Per case it prints the throughput, the reference's throughput and the ratio, the floor
time (benchmarks/floors.py with the ceilings measured at start, benchmarks/ceilings.py) and how far above it we
are, and the 1-minute load average (other jobs share the machine). --quick runs smaller sizes once: a smoke test
whose ratios are not printed (the sizes differ from the reference's), though its floor distances are.
"""
import argparse
import json
import platform
import statistics
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

import fastpitch
import models
import tacotron2
import waveglow
from benchmarks import ceilings, floors
from common import precision as precisions
from common.text import text_to_sequence
from common.training import GradientStep, build_optimizer, resolve_precision, split_loss_output

REFERENCE_FILE = Path(__file__).resolve().parents[2] / 'shared' / 'reference' / 'baseline_cpu_reference.json'
REPEATS = 3
# Our own sentence; its first 128 symbols (english_cleaners) are the input of the text-to-mel cases.
SENTENCE = ('Every benchmark here reads the same plain sentence, long enough that the attention has real work to do '
            'across one hundred and twenty eight symbols.')
N_SYMBOLS = 128
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch's Adam defaults, which the reference's baseline used


@dataclass
class Workload:
    """A built case: the warm-up call, the timed call, the items one timed call produces and its sizes."""
    warmup: Callable[[], object]
    run: Callable[[], object]
    items: int
    config: dict
    sizes: dict
    setup: str


@dataclass(frozen=True)
class Case:
    name: str             # the key of the case in baseline_cpu_reference.json
    unit: str
    reference_field: str  # throughput field of the reference's record
    training: bool
    build: Callable[..., Workload]
    floor: Callable[..., list]


def _build(model_name, device, **overrides):
    config = models.default_model_config(model_name)
    config.update(overrides)
    torch.manual_seed(0)
    return config, models.get_model(model_name, config, device)


def sentence_ids(device, batch=1, length=N_SYMBOLS):
    ids = text_to_sequence(SENTENCE, ['english_cleaners'])
    if len(ids) < length:
        raise ValueError(f'benchmark sentence has {len(ids)} symbols, fewer than {length}')
    text = torch.tensor(ids[:length], device=device).repeat(batch, 1)
    return text, torch.full((batch,), length, device=device)


def _inference(model, precision, device, call):
    """Wrap `call(model)` in no_grad and the precision's autocast; the model is prepared once."""
    model = precisions.for_inference(model, precision)

    def run():
        with torch.no_grad(), precisions.autocast(precision, device.type), warnings.catch_warnings():
            warnings.simplefilter('ignore')  # Tacotron 2 warns that its gate never fired: 600 steps are wanted
            return call(model)
    return run


def t2_infer(device, precision, quick):
    n_steps = 30 if quick else 600
    config, model = _build('Tacotron2', device, max_decoder_steps=n_steps, decoder_no_early_stopping=True)
    text, lengths = sentence_ids(device)
    run = _inference(model, precision, device, lambda m: m.infer(text, lengths))
    return Workload(run, run, n_steps, config, {'batch': 1, 'n_symbols': N_SYMBOLS, 'n_steps': n_steps},
                    f'batch 1, {N_SYMBOLS} symbols, {n_steps} decoder steps (no early stopping)')


def _waveglow_infer(device, precision, quick, n_channels):
    n_frames, n_warmup = (16, 16) if quick else (600, 60)
    config, model = _build('WaveGlow', device, WN_config={**models.default_model_config('WaveGlow')['WN_config'],
                                                          'n_channels': n_channels})
    model = waveglow.Model.remove_weightnorm(model)
    mel = torch.randn(1, config['n_mel_channels'], n_frames, device=device)
    run = _inference(model, precision, device, lambda m: m.infer(mel, sigma=0.6))
    warm = _inference(model, precision, device, lambda m: m.infer(mel[:, :, :n_warmup], sigma=0.6))
    return Workload(warm, run, n_frames * floors.HOP_LENGTH, config, {'batch': 1, 'n_frames': n_frames},
                    f'wn_channels {n_channels}, mel (1, 80, {n_frames}), sigma 0.6, weight norm folded; '
                    f'warm-up on {n_warmup} frames')


def fp10_infer(device, precision, quick):
    config, model = _build('FastPitch', device)
    text, lengths = sentence_ids(device)
    durations = torch.full_like(text, 5)
    run = _inference(model, precision, device, lambda m: m.infer(text, lengths, dur_tgt=durations))
    return Workload(run, run, 5 * N_SYMBOLS, config, {'batch': 1, 'n_symbols': N_SYMBOLS, 'n_frames': 5 * N_SYMBOLS},
                    f'batch 1, {N_SYMBOLS} symbols, dur_tgt 5 per symbol -> {5 * N_SYMBOLS} frames')


def _training_step(model, optimizer, loss_fn, inputs, targets, clip, precision, device):
    """One optimizer step as train.py takes it: forward and loss under its autocast, then common/training.GradientStep
    (backward, clip_grad_norm_, optimizer step, zero_grad(set_to_none=True)), the reference's step definition.
    The optimizer is train.py's Adam (common/training.build_optimizer: torch's fused Adam, the reference's update
    rule in one kernel instead of a per-tensor loop)."""
    model.train()
    amp = resolve_precision(device, precision == 'bf16', 'bf16')
    stepper = GradientStep(model, optimizer, amp, accumulation_steps=1, grad_clip_thresh=clip, max_nonfinite_steps=1)

    def step():
        with amp.autocast():
            loss, _ = split_loss_output(loss_fn(model(inputs), targets))
        stepper.backward(loss, last_micro_batch=True)
        stepper.step(loss.item())
    return step


def t2_train(device, precision, quick):
    batch, n_text, n_frames = 4, 100, (20 if quick else 400)
    config, model = _build('Tacotron2', device)
    text = torch.randint(1, config['n_symbols'], (batch, n_text), device=device)
    text_lengths = torch.full((batch,), n_text, device=device)
    mel = torch.randn(batch, config['n_mel_channels'], n_frames, device=device)
    gate = torch.zeros(batch, n_frames, device=device)
    gate[:, -1] = 1.0
    optimizer = build_optimizer('adam', model.parameters(), 1e-3, 1e-6, ADAM_BETAS, ADAM_EPS)
    step = _training_step(model, optimizer, tacotron2.Tacotron2Loss(),
                          (text, text_lengths, mel, n_text, torch.full((batch,), n_frames, device=device)),
                          (mel, gate), 1.0, precision, device)
    return Workload(step, step, batch * n_frames, config, {'batch': batch, 'n_symbols': n_text, 'n_frames': n_frames},
                    f'batch {batch}, text {n_text}, mel {n_frames} frames, fused Adam(1e-3, wd 1e-6), clip 1.0')


def wg256_train(device, precision, quick):
    batch, n_samples = 2, (1024 if quick else 8000)
    config, model = _build('WaveGlow', device, WN_config={**models.default_model_config('WaveGlow')['WN_config'],
                                                          'n_channels': 256})
    n_frames = -(-n_samples // floors.HOP_LENGTH)
    mel = torch.randn(batch, config['n_mel_channels'], n_frames, device=device)
    audio = torch.rand(batch, n_samples, device=device) - 0.5
    optimizer = build_optimizer('adam', model.parameters(), 1e-4, 0.0, ADAM_BETAS, ADAM_EPS)
    step = _training_step(model, optimizer, waveglow.WaveGlowLoss(sigma=1.0), (mel, audio), audio, 3.4e38,
                          precision, device)
    return Workload(step, step, batch * n_samples, config, {'batch': batch, 'n_samples': n_samples},
                    f'wn_channels 256, batch {batch}, segment {n_samples} samples, fused Adam(1e-4), clip 3.4e38')


def fp10_train(device, precision, quick):
    batch, n_text, duration = 4, 100, (1 if quick else 4)
    config, model = _build('FastPitch', device)
    n_frames = n_text * duration
    text = torch.randint(1, 148, (batch, n_text), device=device)
    lengths = torch.full((batch,), n_text, device=device)
    mel = torch.randn(batch, config['n_mel_channels'], n_frames, device=device)
    durations = torch.full((batch, n_text), duration, device=device)
    pitch = torch.randn(batch, n_text, device=device)
    optimizer = build_optimizer('adam', model.parameters(), 0.1, 1e-6, (0.9, 0.98), 1e-9)
    inputs = [text, lengths, mel, torch.full((batch,), n_frames, device=device), durations, lengths, pitch]
    step = _training_step(model, optimizer, fastpitch.FastPitchLoss(), inputs, [mel, durations, lengths, pitch],
                          1000.0, precision, device)
    return Workload(step, step, batch * n_frames, config, {'batch': batch, 'n_symbols': n_text, 'n_frames': n_frames},
                    f'batch {batch}, text {n_text}, durations {duration} -> {n_frames} frames, '
                    'fused Adam(0.1, betas .9/.98, eps 1e-9, wd 1e-6), clip 1000')


CASES = {case.name: case for case in [
    Case('t2_infer', 'mel frames/s', 'frames_per_s', False, t2_infer, floors.tacotron2_infer),
    Case('wg256_infer', 'samples/s', 'samples_per_s', False,
         lambda *a: _waveglow_infer(*a, n_channels=256), floors.waveglow_infer),
    Case('wg512_infer', 'samples/s', 'samples_per_s', False,
         lambda *a: _waveglow_infer(*a, n_channels=512), floors.waveglow_infer),
    Case('fp10_infer', 'mel frames/s', 'frames_per_s', False, fp10_infer, floors.fastpitch_infer),
    Case('t2_train', 'mel frames/s', 'mel_frames_per_s', True, t2_train, floors.tacotron2_train),
    Case('wg256_train', 'samples/s', 'audio_samples_per_s', True, wg256_train, floors.waveglow_train),
    Case('fp10_train', 'mel frames/s', 'mel_frames_per_s', True, fp10_train, floors.fastpitch_train),
]}


def load_reference(path=REFERENCE_FILE):
    """The reference's per-case records, or None (with the reason printed) when the file is absent."""
    if not path.is_file():
        print(f'reference figures: {path} not found; ratios are left out')
        return None
    with open(path) as f:
        return json.load(f)['cases']


def load_ceilings(path, device_name):
    """Ceilings of `device_name` from a ceilings JSON or from a report of this command; ValueError if absent."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f'--ceilings {path}: cannot read ceilings ({error})') from None
    found = data.get('ceilings', {}).get(device_name) if 'ceilings' in data else data
    if not found or found.get('device') != device_name:
        raise ValueError(f'--ceilings {path}: no ceilings for device {device_name}')
    return found


def time_workload(workload, device, repeats):
    """One untimed warm-up, then `repeats` timed calls: the list of seconds."""
    def synchronize():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    workload.warmup()
    synchronize()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        workload.run()
        synchronize()
        runs.append(time.perf_counter() - start)
    return runs


def run_case(case, device, precision, quick, reference, machine_ceilings):
    workload = case.build(device, precision, quick)
    runs = time_workload(workload, device, 1 if quick else REPEATS)
    seconds = statistics.median(runs)
    figure = workload.items / seconds
    phases = case.floor(workload.config, precision, **workload.sizes)
    floor = floors.floor_seconds(phases, machine_ceilings, precision)
    record = {'device': str(device), 'precision': precision, 'seconds': seconds, 'runs': runs,
              'items': workload.items, 'figure': figure, 'unit': case.unit,
              'floor_seconds': floor, 'floor_distance': seconds / floor,
              'floor_flops': sum(p.flops for p in phases), 'floor_bytes': sum(p.bytes for p in phases),
              'loadavg': ceilings.loadavg(), 'setup': workload.setup, 'quick': quick}
    reference_record = (reference or {}).get(case.name)
    if reference_record and device.type == 'cpu' and not quick:
        record['reference'] = reference_record[case.reference_field]
        record['ratio'] = figure / record['reference']
    return record


def format_row(name, r):
    reference = f"{r['reference']:>10,.0f}" if 'reference' in r else f"{'-':>10}"
    ratio = f"{r['ratio']:>6.2f}x" if 'ratio' in r else f"{'-':>7}"
    load = r['loadavg'][0] if r['loadavg'] else '-'
    return (f"{name:<12} {r['device']:<5} {r['precision']:<5} {r['figure']:>10,.0f} {reference} {ratio} "
            f"{r['unit']:<13} {r['seconds']:>8.3f} {r['floor_seconds']:>8.3f} {r['floor_distance']:>6.1f}x {load:>5}")


HEADER = (f"{'case':<12} {'dev':<5} {'prec':<5} {'figure':>10} {'reference':>10} {'ratio':>7} {'unit':<13} "
          f"{'seconds':>8} {'floor s':>8} {'x floor':>7} {'load':>5}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Speed of every model against the reference CPU baseline.')
    parser.add_argument('--cases', default=','.join(CASES),
                        help=f'comma-separated subset of: {", ".join(CASES)}')
    parser.add_argument('--precision', default='fp32', choices=precisions.PRECISIONS,
                        help='fp32 (exact), bf16 (autocast) or int8 (dynamic quantization, inference only)')
    parser.add_argument('--json', help='write the figures to this JSON file')
    parser.add_argument('--quick', action='store_true', help='small sizes, one timed run (smoke test)')
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads on CPU')
    parser.add_argument('--devices', default=None,
                        help='comma-separated devices (default: cpu, and cuda when present)')
    parser.add_argument('--ceilings', default=None,
                        help='JSON from `python -m benchmarks.ceilings --json` (or an earlier --json of this '
                             'command) to use instead of measuring the ceilings now, e.g. ones taken on a quiet '
                             'machine')
    args = parser.parse_args(argv)
    args.cases = args.cases.split(',')
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f'--cases: unknown case {", ".join(unknown)}; choose from {", ".join(CASES)}')
    args.devices = (args.devices.split(',') if args.devices
                    else ['cpu'] + (['cuda'] if torch.cuda.is_available() else []))
    return args


def main(argv=None):
    try:
        run(parse_args(argv))
    except ValueError as error:  # bad input: one line, no traceback
        raise SystemExit(f'error: {error}') from None


def run(args):
    torch.set_num_threads(args.threads)
    reference = load_reference()
    report = {'torch': torch.__version__, 'machine': platform.machine(), 'processor': _cpu_name(),
              'threads': args.threads, 'precision': args.precision, 'quick': args.quick,
              'date': time.strftime('%Y-%m-%d %H:%M'), 'loadavg_start': ceilings.loadavg(),
              'ceilings': {}, 'cases': {}}
    for device_name in args.devices:
        device = torch.device(device_name)
        machine_ceilings = (load_ceilings(args.ceilings, device_name) if args.ceilings
                            else ceilings.measure(device, quick=args.quick))
        report['ceilings'][device_name] = machine_ceilings
        print(ceilings.format_ceilings(machine_ceilings))
        print(HEADER, flush=True)
        for name in args.cases:
            case = CASES[name]
            skip = _skip_reason(case, device, args.precision)
            if skip:
                print(f'{name:<12} {device_name:<5} {args.precision:<5} skipped: {skip}')
                continue
            record = run_case(case, device, args.precision, args.quick, reference, machine_ceilings)
            report['cases'][f'{name}/{device_name}'] = record
            print(format_row(name, record), flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)


def _skip_reason(case, device, precision):
    if precision == 'int8' and case.training:
        return 'int8 is an inference path'
    if precision == 'int8' and device.type != 'cpu':
        return 'int8 dynamic quantization runs on the CPU (fbgemm)'
    return None


def _cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            return next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        return platform.processor()


if __name__ == '__main__':
    main()
