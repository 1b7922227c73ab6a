"""Speed of every model against the reference implementation's CPU baseline, and against this machine's floor.

    python -m benchmarks.speed [--cases t2_infer,wg256_infer,...] [--precision fp32|fp16|bf16|int8]
                               [--backend pytorch|onnxruntime] [--json out.json] [--quick] [--threads 2]
                               [--devices cuda,cpu] [--no-tf32]

The cases are the SpeedCases of the model specs (common/benchmarking.py; each model package's benchmark.py).
Method (../shared/reference/BASELINE_CPU.md): build each model under torch.manual_seed(0) at its default config,
one untimed warm-up call, 3 timed calls, report the median; torch.set_num_threads(2) on CPU. Inference runs in
eval mode without gradients; a training step is forward + loss + backward + clip_grad_norm_ + optimizer.step() +
zero_grad(set_to_none=True). Per case it prints the throughput, the reference's throughput and the ratio, the
ratio a run at this machine's floor would reach ("floor r": the most any code with the same arithmetic can get here;
below 1, the reference was measured on a faster machine), the floor
time (benchmarks/floors.py with the ceilings measured at start, benchmarks/ceilings.py) and how far above it we
are, and the 1-minute load average (other jobs share the machine). --quick runs smaller sizes once: a smoke test
whose ratios are not printed (the sizes differ from the reference's), though its floor distances are.
On a GPU the cases run first (they take seconds where the CPU's take minutes), fp32 with TF32 as train.py runs it
unless --no-tf32, and fp16 is a precision of its own (autocast, as train.py --amp and inference.py --amp).
--backend onnxruntime runs each inference case's model exported to ONNX (common/export.py, checked as export.py
checks it) by ONNX Runtime with --threads threads on the same inputs, at fp32 or int8 (ONNX Runtime's dynamic
quantization); the ratio to the reference is printed as for PyTorch, and --json records both for a side by side.
"""
import argparse
import dataclasses
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

import models
from benchmarks import ceilings, floors
from common.cli import ArgumentParser, command
from common.benchmarking import PRECISION_BYTES, SpeedCase, cases_of_kind, onnx_call
from common.precision import Precision, configure_backends

REFERENCE_FILE = Path(__file__).resolve().parents[2] / 'shared' / 'reference' / 'baseline_cpu_reference.json'
REPEATS = 3
ONNX_RUNTIME = 'onnxruntime'
BACKEND_LABELS = {'pytorch': 'pytorch', ONNX_RUNTIME: 'onnxrt'}


def speed_cases(specs):
    """{case name: (spec, case)}, inference cases before training ones as in the reference's table."""
    found = cases_of_kind(specs, SpeedCase)
    return {case.name: (spec, case) for spec, case in sorted(found, key=lambda pair: pair[1].training)}


CASES = speed_cases(models.MODELS.values())


def load_reference(processor, path=REFERENCE_FILE):
    """The reference's per-case records measured on this processor (the file keeps one set per processor the
    project's machines have had), or None, with the reason printed: no file, or no figures for this processor."""
    if not path.is_file():
        print(f'reference figures: {path} not found; ratios are left out')
        return None
    with open(path) as f:
        by_processor = json.load(f)['by_processor']
    if processor not in by_processor:
        print(f'reference figures: none for this processor ({processor!r}; {path.name} has '
              f'{", ".join(map(repr, by_processor))}); ratios are left out')
        return None
    return by_processor[processor]['cases']


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


class CaseSkipped(Exception):
    """A case that the chosen backend does not run; the message says why."""


def through_onnx_runtime(spec, workload, precision, threads):
    """The workload with its call run by ONNX Runtime on an export of its model (int8: quantized by ONNX
    Runtime); warmed up once as the PyTorch call is."""
    run = onnx_call(spec, workload.onnx, precision == 'int8', threads)
    return dataclasses.replace(workload, warmup=run, run=run, setup=f'{workload.setup}; ONNX Runtime')


def run_case(spec, case, device, precision, quick, reference, machine_ceilings, backend='pytorch', threads=2):
    workload = case.build(spec, device, Precision(device.type, 'fp32' if backend == ONNX_RUNTIME else precision),
                          quick)
    if backend == ONNX_RUNTIME:
        if workload.onnx is None:
            raise CaseSkipped('no ONNX Runtime run of this case (the same model runs in the case without a suffix)')
        workload = through_onnx_runtime(spec, workload, precision, threads)
    runs = time_workload(workload, device, 1 if quick else REPEATS)
    seconds = statistics.median(runs)
    figure = workload.items / seconds
    phases = case.floor(workload.config, precision, **workload.sizes)
    floor = floors.floor_seconds(phases, machine_ceilings, precision)
    record = {'device': str(device), 'backend': backend, 'precision': precision, 'seconds': seconds, 'runs': runs,
              'items': workload.items, 'figure': figure, 'unit': case.unit,
              'floor_seconds': floor, 'floor_distance': seconds / floor,
              'floor_flops': sum(p.flops for p in phases), 'floor_bytes': sum(p.bytes for p in phases),
              'loadavg': ceilings.loadavg(), 'setup': workload.setup, 'quick': quick}
    reference_record = (reference or {}).get(case.name)
    if reference_record and device.type == 'cpu' and not quick:
        record['reference'] = reference_record[case.reference_field]
        record['ratio'] = figure / record['reference']
        record['ratio_at_floor'] = floors.reference_over_floor(workload.items, record['reference'], floor)
    return record


def format_row(name, r):
    reference = f"{r['reference']:>10,.0f}" if 'reference' in r else f"{'-':>10}"
    ratio = f"{r['ratio']:>6.2f}x" if 'ratio' in r else f"{'-':>7}"
    at_floor = f"{r['ratio_at_floor']:>6.2f}x" if 'ratio_at_floor' in r else f"{'-':>7}"
    load = r['loadavg'][0] if r['loadavg'] else '-'
    return (f"{name:<15} {r['device']:<5} {BACKEND_LABELS[r['backend']]:<7} {r['precision']:<5} {r['figure']:>10,.0f} "
            f"{reference} {ratio} {at_floor} "
            f"{r['unit']:<13} {r['seconds']:>8.3f} {r['floor_seconds']:>8.3f} {r['floor_distance']:>6.1f}x {load:>5}")


HEADER = (f"{'case':<15} {'dev':<5} {'backend':<7} {'prec':<5} {'figure':>10} {'reference':>10} {'ratio':>7} "
          f"{'floor r':>7} "
          f"{'unit':<13} "
          f"{'seconds':>8} {'floor s':>8} {'x floor':>7} {'load':>5}")


def case_names(parser, text):
    """--cases as a list of names; an unknown name is a usage error."""
    names = text.split(',')
    unknown = [name for name in names if name not in CASES]
    if unknown:
        parser.error(f'--cases: unknown case {", ".join(unknown)}; choose from {", ".join(CASES)}')
    return names


def parse_args(argv=None):
    parser = ArgumentParser(prog='python -m benchmarks.speed', description='Speed of every model against the reference CPU baseline.')
    parser.add_argument('--cases', default=','.join(CASES),
                        help=f'comma-separated subset of: {", ".join(CASES)}')
    parser.add_argument('--precision', default='fp32', choices=list(PRECISION_BYTES),
                        help='fp32 (TF32 on a GPU unless --no-tf32), fp16 (autocast, GPU only), bf16 (autocast) or '
                             'int8 (dynamic quantization, CPU inference only)')
    parser.add_argument('--backend', default='pytorch', choices=list(BACKEND_LABELS),
                        help='onnxruntime: each inference case exported (export.py) and run by ONNX Runtime on the '
                             'CPU, at fp32 or int8 (ONNX Runtime\'s dynamic quantization)')
    parser.add_argument('--tf32', default=True, action=argparse.BooleanOptionalAction,
                        help='TF32 for fp32 products on Ampere or newer GPUs, as train.py uses by default')
    parser.add_argument('--json', help='write the figures to this JSON file')
    parser.add_argument('--quick', action='store_true', help='small sizes, one timed run (smoke test)')
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads on CPU')
    parser.add_argument('--devices', default=None,
                        help='comma-separated devices, in order (default: cuda when present, then cpu)')
    parser.add_argument('--ceilings', default=None,
                        help='JSON from `python -m benchmarks.ceilings --json` (or an earlier --json of this '
                             'command) to use instead of measuring the ceilings now, e.g. ones taken on a quiet '
                             'machine')
    args = parser.parse_args(argv)
    args.cases = case_names(parser, args.cases)
    args.devices = (args.devices.split(',') if args.devices
                    else (['cuda'] if torch.cuda.is_available() else []) + ['cpu'])
    return args


@command('python -m benchmarks.speed')
def main(argv=None):
    run(parse_args(argv))
    return 0


def run(args):
    torch.set_num_threads(args.threads)
    reference = load_reference(cpu_name())
    report = {'torch': torch.__version__, 'machine': platform.machine(), 'processor': cpu_name(),
              'threads': args.threads, 'backend': args.backend, 'precision': args.precision, 'quick': args.quick,
              'tf32': {},
              'date': time.strftime('%Y-%m-%d %H:%M'), 'loadavg_start': ceilings.loadavg(),
              'ceilings': {}, 'cases': {}}
    for device_name in args.devices:
        device = torch.device(device_name)
        report['tf32'][device_name] = configure_backends(device, True, False, args.tf32)
        machine_ceilings = (load_ceilings(args.ceilings, device_name) if args.ceilings
                            else ceilings.measure(device, quick=args.quick))
        report['ceilings'][device_name] = machine_ceilings
        print(ceilings.format_ceilings(machine_ceilings))
        print(HEADER, flush=True)
        for name in args.cases:
            spec, case = CASES[name]
            try:
                skip = _skip_reason(case, device, args.precision, args.backend)
                if skip:
                    raise CaseSkipped(skip)
                record = run_case(spec, case, device, args.precision, args.quick, reference, machine_ceilings,
                                  args.backend, args.threads)
            except CaseSkipped as skipped:
                print(f'{name:<15} {device_name:<5} {BACKEND_LABELS[args.backend]:<7} {args.precision:<5} '
                      f'skipped: {skipped}')
                continue
            report['cases'][f'{name}/{device_name}'] = record
            print(format_row(name, record), flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)


def _skip_reason(case, device, precision, backend):
    if backend == ONNX_RUNTIME:
        if case.training or device.type != 'cpu' or precision not in ('fp32', 'int8'):
            return 'ONNX Runtime runs the inference cases on the CPU, at fp32 or int8'
    if precision == 'int8' and case.training:
        return 'int8 is an inference path'
    if precision == 'int8' and device.type != 'cpu':
        return 'int8 dynamic quantization runs on the CPU (fbgemm)'
    if precision == 'fp16' and device.type != 'cuda':
        return 'fp16 autocast runs on a GPU (use bf16 on the CPU)'
    return None


def cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            return next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        return platform.processor()


if __name__ == '__main__':
    sys.exit(main())
