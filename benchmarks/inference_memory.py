"""Peak memory of inference.py on one long paragraph, with glibc's default heap and with common/native_memory.py's
setting.

    python -m benchmarks.inference_memory GENERATOR.pt VOCODER.pt [--chars 4000] [--repeats 1] [--batch-size 8]

The checkpoints are a mel generator's and a vocoder's, e.g. the last two of those `make demo` synthesizes with (in
output/demo); each one's model is read from the file. Text:
phrases/paragraph_500.txt repeated to --chars characters on one line (one WAV). Each run is inference.py in a child
process, and its peak resident memory is the kernel's (ru_maxrss of that child); the two settings alternate,
--repeats runs each, and the median, range and wall time per setting are printed.
"""
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import models
from common.checkpoint import load_checkpoint
from common.cli import ArgumentParser, command
from common.model_loading import checkpoint_model_name

REPO_ROOT = Path(__file__).resolve().parents[1]
PARAGRAPH = REPO_ROOT / 'phrases' / 'paragraph_500.txt'
# inference.py's main, with or without the setting (the `default` run undoes it before inference imports it)
CHILD = '''
import sys
import common.native_memory
if sys.argv[1] == 'default':
    common.native_memory.release_large_blocks = lambda: False
import inference
sys.exit(inference.main(sys.argv[2:]))
'''
SETTINGS = {'default': "glibc's default heap", 'release': 'large blocks released (common/native_memory.py)'}


def checkpoint_flag(path):
    """inference.py's flag for a checkpoint (the spec's inference_flag), by the model the file holds."""
    name = checkpoint_model_name(load_checkpoint(path), path, models.MODELS.values())
    if name is None:
        raise SystemExit(f'error: {path}: holds no model of models.py')
    return models.model_spec(name).inference_flag


def long_paragraph(chars):
    """PARAGRAPH's words over and over, cut at the first word boundary past `chars` characters."""
    words = itertools.cycle(PARAGRAPH.read_text().split())
    text = next(words)
    while len(text) < chars:
        text += ' ' + next(words)
    return text


def peak_memory_run(setting, argv):
    """(peak resident MB, seconds) of inference.py run with `argv` in a child process."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, '-c', CHILD, setting, *argv], cwd=REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f'error: inference.py ({setting}) failed: {stderr.decode().strip().splitlines()[-1:]}')
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def parse_args(argv):
    parser = ArgumentParser(prog='python -m benchmarks.inference_memory', description=__doc__.split('\n\n')[0])
    parser.add_argument('checkpoints', nargs=2, metavar='CHECKPOINT', help='a mel generator\'s and a vocoder\'s')
    parser.add_argument('--chars', type=int, default=4000, help='characters of the paragraph (default 4000)')
    parser.add_argument('--repeats', type=int, default=1, help='runs per setting (default 1)')
    parser.add_argument('--batch-size', type=int, default=8, help="inference.py's -bs (default 8)")
    return parser.parse_args(argv)


@command('benchmarks.inference_memory')
def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    flags = [token for path in args.checkpoints for token in (checkpoint_flag(path), str(Path(path).resolve()))]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / 'paragraph.txt').write_text(long_paragraph(args.chars) + '\n')
        argv = ['-i', str(folder / 'paragraph.txt'), '-o', str(folder / 'wavs'), '-bs', str(args.batch_size), *flags]
        runs = {setting: [] for setting in SETTINGS}
        for _ in range(args.repeats):
            for setting in SETTINGS:
                runs[setting].append(peak_memory_run(setting, argv))
                print(f'{setting}: {runs[setting][-1][0]:,.0f} MB in {runs[setting][-1][1]:.0f} s', flush=True)
    print(f'\n{args.chars:,}-character paragraph, {" + ".join(map(str, args.checkpoints))}, -bs {args.batch_size}, '
          f'{args.repeats} run(s) each, load average {os.getloadavg()[0]:.1f}')
    median = {}
    for setting, label in SETTINGS.items():
        peaks = [peak for peak, _ in runs[setting]]
        median[setting] = statistics.median(peaks)
        print(f'  {label}: peak {median[setting]:,.0f} MB (range {min(peaks):,.0f}-{max(peaks):,.0f}), '
              f'{statistics.median(seconds for _, seconds in runs[setting]):.0f} s')
    print(f'  default / released: {median["default"] / median["release"]:.2f}x')
    return 0


if __name__ == '__main__':
    sys.exit(main())
