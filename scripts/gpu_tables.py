"""Helpers of scripts/gpu_check.sh: installing the carried wheels, random default-size checkpoints for the latency
tables, and the tables read back out of the logs.

    python scripts/gpu_tables.py wheels .whl /tmp/site            # install what this Python lacks (or has older)
    python scripts/gpu_tables.py checkpoints DIR [--t2-steps 860] [--wg-channels 256] [--fp-frames-per-symbol 7]
    python scripts/gpu_tables.py latency LOG.json ...             # Markdown latency table of inference.py logs
    python scripts/gpu_tables.py training NAME=NVLOG ... [--skip 2]  # training throughput against one V100
    python scripts/gpu_tables.py resumed NVLOG --epochs 2         # the log of a resumed run has every epoch
    python scripts/gpu_tables.py summary STATUS_DIR               # the steps' PASS/FAIL/SKIP as Markdown

Each subcommand prints Markdown (or one line) on stdout and exits non-zero, saying why on stderr, when its input
cannot give what it asks for.
"""
import argparse
import json
import math
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# One V100 16 GB, mixed precision, from the seeds' published training-performance tables (LJSpeech).
V100_AMP_TRAINING = {'Tacotron2': (20992, 'mel frames/s'), 'WaveGlow': (81503, 'samples/s'),
                     'FastPitch': (109769, 'mel frames/s')}


def fail(message):
    print(f'gpu_tables.py: {message}', file=sys.stderr)
    return 1


# --- wheels -------------------------------------------------------------------------------------------------------

def _normalized(name):
    return re.sub(r'[-_.]+', '_', name).lower()


def _version_key(version):
    """A sortable key of a release version ('4.15.0' -> (4, 15, 0)); pre-release tails are ignored."""
    return tuple(int(part) for part in re.findall(r'\d+', version.split('+')[0])[:4])


def wheels_to_install(wheel_dir):
    """[(wheel path, reason)] of the wheels whose package this Python lacks or has in an older version."""
    from importlib import metadata
    chosen = []
    for wheel in sorted(Path(wheel_dir).glob('*.whl')):
        name, version = wheel.name.split('-')[:2]
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
            for dist in metadata.distributions():  # names differ in spelling: Unidecode, jaraco.functools
                if _normalized(dist.metadata['Name'] or '') == _normalized(name):
                    installed = dist.version
                    break
        if installed is None:
            chosen.append((wheel, 'missing'))
        elif _version_key(installed) < _version_key(version):
            chosen.append((wheel, f'{installed} here, older'))
        else:
            print(f'  {name} {installed} already here (wheel {version} not needed)')
    return chosen


def cmd_wheels(args):
    chosen = wheels_to_install(args.wheel_dir)
    if not chosen:
        print('  every carried package is already here: nothing to install')
        return 0
    for wheel, reason in chosen:
        print(f'  installing {wheel.name} ({reason})')
    command = [sys.executable, '-m', 'pip', 'install', '-q', '--no-index', '--no-deps', '--no-compile',
               '--no-cache-dir', '--disable-pip-version-check', '--upgrade', '--target', args.target,
               *map(str, (wheel for wheel, _ in chosen))]
    return subprocess.run(command).returncode


# --- random checkpoints --------------------------------------------------------------------------------------------

T2_GATE_NEVER = -30.0  # stop-gate logit: sigmoid(-30) ~ 1e-13, never above the 0.5 threshold (fp16 holds it)


def random_checkpoints(folder, t2_steps, wg_channels, fp_frames_per_symbol, seed=0):
    """Default-size Tacotron 2, WaveGlow, FastPitch and HiFi-GAN (V1) with random weights, in our checkpoint format,
    written to `folder` -> {model name: path}. Tacotron 2 always runs `t2_steps` decoder steps and its output is
    that long (decoder_no_early_stopping, and a stop gate that never fires: random weights would stop at random,
    and an item's length is where its gate first fires); FastPitch's duration predictor always says
    `fp_frames_per_symbol` (random durations would make random lengths); WaveGlow has `wg_channels` WN channels."""
    sys.path.insert(0, str(REPO))
    import torch

    import models
    from common.checkpoint import save_checkpoint
    from fastpitch.benchmark import pin_durations

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    overrides = {
        'Tacotron2': {'decoder_no_early_stopping': True, 'max_decoder_steps': t2_steps},
        'WaveGlow': {'WN_config': {**models.default_model_config('WaveGlow')['WN_config'], 'n_channels': wg_channels}},
        'FastPitch': {},
        'HiFiGAN': {},
    }
    names = {'Tacotron2': f'tacotron2_random_{t2_steps}steps.pt', 'WaveGlow': f'waveglow{wg_channels}_random.pt',
             'FastPitch': 'fastpitch_random.pt', 'HiFiGAN': 'hifigan_random.pt'}
    paths = {}
    for name, override in overrides.items():
        torch.manual_seed(seed)
        config = {**models.default_model_config(name), **override}
        model = models.get_model(name, config, 'cpu')
        with torch.no_grad():
            if name == 'Tacotron2':  # a stop gate that never fires: every item is t2_steps frames long
                model.decoder.gate_layer.linear_layer.weight.zero_()
                model.decoder.gate_layer.linear_layer.bias.fill_(T2_GATE_NEVER)
            if name == 'FastPitch':
                pin_durations(model, fp_frames_per_symbol)
        paths[name] = folder / names[name]
        save_checkpoint({'model_name': name, 'config': config, 'state_dict': model.state_dict()}, paths[name])
        print(f'{name}: {sum(p.numel() for p in model.parameters()):,} parameters, random weights (seed {seed}), '
              f'{json.dumps(override) if override else "default config"} -> {paths[name]}')
    print(f'Tacotron2: stop gate fixed at logit {T2_GATE_NEVER} (never fires: {t2_steps} frames per item)')
    print(f'FastPitch: durations fixed at {fp_frames_per_symbol} frames per symbol')
    return paths


def cmd_checkpoints(args):
    random_checkpoints(args.folder, args.t2_steps, args.wg_channels, args.fp_frames_per_symbol)
    return 0


# --- log readers ---------------------------------------------------------------------------------------------------

def json_records(path):
    records = []
    for line in Path(path).read_text().splitlines():
        if line.startswith('DLLL '):
            records.append(json.loads(line[5:]))
    return records


def number(value, digits=4):
    if value is None or value == '':
        return '-'
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int):
        return f'{value:,}'
    if abs(value) >= 1000:
        return f'{value:,.0f}'
    return f'{value:.{digits}g}'


def markdown(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(cell) for cell in row) + ' |' for row in rows]
    return '\n'.join(lines)


LATENCY_COLUMNS = (('latency_mean', 'avg (s)'), ('latency_std', 'std (s)'), ('latency_p50', 'p50 (s)'),
                   ('latency_p90', 'p90 (s)'), ('latency_p95', 'p95 (s)'), ('latency_p99', 'p99 (s)'),
                   ('latency_max', 'max (s)'), ('generator_latency_mean', 'generator avg (s)'),
                   ('vocoder_latency_mean', 'vocoder avg (s)'), ('throughput_samples_per_s', 'samples/s'),
                   ('realtime_factor', 'RTF (x real time)'), ('mel_frames_mean', 'mel frames/run'))


def latency_rows(logs, fp32_label):
    rows = []
    for path in logs:
        path = Path(path)
        summaries = [record['data'] for record in json_records(path) if record.get('step') == []]
        pipeline = re.sub(r'_(cuda|cpu)_bs\d+_\w+$', '', path.stem).replace('_', ' + ')
        if not summaries:
            rows.append([pipeline, '-', '-', 'no summary (run cut short?)'] + ['-'] * len(LATENCY_COLUMNS))
            continue
        summary = summaries[-1]
        precision = summary.get('precision', '?')
        if precision == 'fp32' and str(summary.get('device', '')).startswith('cuda'):
            precision = fp32_label
        rows.append([pipeline, summary.get('batch_size', '?'), precision, summary.get('runs', '?'),
                     *(number(summary.get(key)) for key, _ in LATENCY_COLUMNS)])
    return rows


def cmd_latency(args):
    logs = [path for path in args.logs if Path(path).is_file()]
    if not logs:
        return fail('latency: none of the logs exists')
    print(markdown(['models', 'batch', 'precision', 'runs', *(label for _, label in LATENCY_COLUMNS)],
                   latency_rows(logs, args.fp32_label)))
    return 0


def training_throughput(log, skip):
    """(mean items/s over the steps after the first `skip`, steps used, batch size, precision) from an nvlog."""
    records = json_records(log)
    steps = [record['data'] for record in records
             if isinstance(record.get('step'), list) and len(record['step']) == 2
             and 'train_items_per_sec' in record.get('data', {})]
    params = next((record['data'] for record in records if record.get('step') == 'PARAMETER'), {})
    kept = steps[skip:]
    if not kept:
        raise ValueError(f'{log}: {len(steps)} logged steps, none after the first {skip}')
    items = sum(step['train_items_per_sec'] * step['train_iter_time'] for step in kept)
    seconds = sum(step['train_iter_time'] for step in kept)
    precision = ('bf16' if params.get('amp_dtype') == 'bf16' else 'fp16') if params.get('amp') else 'fp32'
    batch = f"{params.get('batch_size', '?')} x {params.get('gradient_accumulation_steps', 1)}"
    return items / seconds, len(kept), batch, precision


def cmd_training(args):
    rows, status = [], 0
    for pair in args.logs:
        name, _, log = pair.partition('=')
        if not Path(log).is_file():
            rows.append([name, '-', '-', '-', 'no log (run failed?)', '-', '-'])
            status = 1
            continue
        try:
            rate, used, batch, precision = training_throughput(log, args.skip)
        except (ValueError, KeyError) as error:
            rows.append([name, '-', '-', '-', f'unreadable: {error}', '-', '-'])
            status = 1
            continue
        reference, unit = V100_AMP_TRAINING.get(name, (None, ''))
        ratio = f'{rate / reference:.2f}x' if reference else '-'
        rows.append([name, batch, precision, used, f'{number(rate)} {unit}',
                     f'{number(reference)} {unit}' if reference else '-', ratio])
    print(markdown(['model', 'batch x accumulation', 'precision', 'steps averaged', 'here',
                    'one V100, AMP (seeds)', 'ratio'], rows))
    return status


def cmd_resumed(args):
    records = json_records(args.log)
    epochs = sorted({record['step'][0] for record in records
                     if isinstance(record.get('step'), list) and len(record['step']) == 2})
    wanted = list(range(1, args.epochs + 1))
    if epochs != wanted:
        return fail(f'resumed: {args.log} has steps of epochs {epochs}, expected {wanted}')
    print(f'{args.log}: steps of epochs {epochs} (the second run resumed after epoch {args.epochs - 1})')
    return 0


def cmd_summary(args):
    rows = []
    for path in sorted(Path(args.status_dir).glob('*.status')):
        status, seconds, log, note = (path.read_text().rstrip('\n').split('\t') + ['', '', '', ''])[:4]
        rows.append([path.stem, status, f'{seconds} s' if seconds else '-', f'`{log}`' if log else '-', note])
    if not rows:
        return fail(f'summary: no *.status files in {args.status_dir}')
    print(markdown(['step', 'result', 'time', 'log', 'note'], rows))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    commands = parser.add_subparsers(dest='command', required=True)
    wheels = commands.add_parser('wheels', help='install the carried wheels this Python lacks')
    wheels.add_argument('wheel_dir')
    wheels.add_argument('target')
    wheels.set_defaults(run=cmd_wheels)
    checkpoints = commands.add_parser('checkpoints', help='random default-size checkpoints')
    checkpoints.add_argument('folder')
    checkpoints.add_argument('--t2-steps', type=int, default=860,
                             help='Tacotron 2 decoder steps, always run (frames of a 128-character LJSpeech line)')
    checkpoints.add_argument('--wg-channels', type=int, default=256, help='WaveGlow WN channels')
    checkpoints.add_argument('--fp-frames-per-symbol', type=float, default=7.0,
                             help='FastPitch duration of every symbol, in frames (860 / 128 rounded)')
    checkpoints.set_defaults(run=cmd_checkpoints)
    latency = commands.add_parser('latency', help='Markdown latency table of inference.py JSON logs')
    latency.add_argument('logs', nargs='+')
    latency.add_argument('--fp32-label', default='fp32', help='what to call fp32 on a GPU (TF32 where it is on)')
    latency.set_defaults(run=cmd_latency)
    training = commands.add_parser('training', help='training throughput from train.py nvlogs')
    training.add_argument('logs', nargs='+', metavar='NAME=NVLOG')
    training.add_argument('--skip', type=int, default=2, help='first steps left out (warm-up, cuDNN autotuning)')
    training.set_defaults(run=cmd_training)
    resumed = commands.add_parser('resumed', help='check that a resumed run logged every epoch')
    resumed.add_argument('log')
    resumed.add_argument('--epochs', type=int, default=2)
    resumed.set_defaults(run=cmd_resumed)
    summary = commands.add_parser('summary', help='the steps of a gpu_check run as Markdown')
    summary.add_argument('status_dir')
    summary.set_defaults(run=cmd_summary)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == '__main__':
    sys.exit(main())
