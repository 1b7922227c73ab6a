"""How good is a learned alignment: word boundaries from each aligning model's durations against eSpeak's.

    python -m benchmarks.alignment [--dataset-path D] [--num-clips 300] [--cpu-seconds 600] [--threads 1]
                                   [--models NAME ...] [--work-dir DIR] [--output results.json]

eSpeak NG speaks the embedded corpus and says exactly when each word starts and ends (timings/ID.json), so the
alignment that a model learns can be scored, which no published recipe reports. Steps:
1. Data: the embedded corpus (D, or --num-clips clips built in the work folder), split train/val/test by
   common/splits.py as the demo splits it (into D/filelists when the split is not there yet), then
   prepare_dataset.py writes what the models' filelists need (mels, per-frame pitch); files already there are kept.
2. Training: each model's AlignmentCase (common/benchmarking.py; its package's benchmark.py) says how train.py
   trains it; every model gets the same budget of --cpu-seconds of CPU time (user + system time of the train.py
   process, not wall time: other jobs share the machine), with --threads torch threads (default 1: OpenMP threads
   that wait for a busy core burn CPU time without work, which would make the budget buy less on a loaded
   machine). train.py runs with an endless --epochs; once the budget is spent (and a step has been taken) it gets
   SIGTERM, on which it saves a checkpoint at the next step boundary and exits. The CPU time reported is the
   whole process's, that last step and save included.
3. Scoring, on the test clips: durations per symbol from the spec's teacher_forced_alignment, as prepare_dataset.py
   takes them (prepare_dataset.Aligner), for the trained model and for a freshly initialised one of the same config
   (what "no learning" scores); then word boundaries, compared with eSpeak's.
4. Report: per aligner the median and 90th percentile of |boundary error| in mel frames and milliseconds, with
   the numbers of boundaries and clips; a table on stdout and everything in JSON (--output). Two rows without a
   model frame them: even durations (every symbol of a clip as long) and eSpeak's own durations (what
   prepare_dataset.py makes of the timings for a model that trains on given durations; 0 by construction, a check
   of the mapping).

Words and boundaries, cut as prepare_dataset.py's durations from eSpeak (durations_from_espeak) cut the text, both
by common/corpus/timings.py, so that those durations score 0: each word event of the timings starts a segment that
runs to the next event (text before the first joins it; eSpeak joins some written words into one event, which then
counts as one word); a word is its segment's characters from the first to the last letter or digit. It starts at its
event (the silent closure of a word-initial stop comes before eSpeak's first phoneme event but belongs to the word)
or, where a symbol of its own precedes it (a quote), at its first non-pause phoneme; it ends where its last
non-pause phoneme ends (the pause after it goes to the space or punctuation that follows), or at the next event
where no symbol follows. Sample s lies at mel frame round(s / hop_length). An alignment's boundaries are where the
word's first symbol starts and where its last symbol ends (running sums of the durations). Left out: a start at the
clip's first symbol and an end at its last symbol, which every alignment puts on the clip's first and last frame.
"""
import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

import models
import prepare_dataset
from benchmarks.training import PREFIX, REPO_ROOT, demo_config_flags
from common.benchmarking import SEED, AlignmentCase, cases_of_kind
from common.cli import ArgumentParser, command, run_step
from common.corpus.timings import even_shares, speech_bounds, word_segments
from common.data_args import add_audio_args, add_text_args, stft_kwargs
from common.fileio import load_tensor
from common.filelist import entry_text_ids, read_filelist
from common.logger import read_json_log
from common.model_loading import ready_for_inference
from common.splits import SPLITS, audio_filelist_path, write_split_filelists
from common.text import cleaned_symbol_positions, text_to_sequence

DEFAULT_CPU_SECONDS = 600
ENDLESS = 1_000_000        # --epochs (and checkpoint and validation intervals) that the budget always ends first
POLL_SECONDS = 0.5
# prepare_dataset.py flag that writes each per-clip kind a filelist names (prepare_dataset.DERIVED_FILELISTS)
EXTRACT_FLAGS = {'mels': '--extract-mels', 'pitch': '--extract-frame-pitch', 'durations': '--extract-durations',
                 'pitch_char': '--extract-pitch'}


def alignment_cases():
    """{model's command-line name: (spec, case)} of every spec with an AlignmentCase."""
    return {spec.cli_name: (spec, case) for spec, case in cases_of_kind(models.MODELS.values(), AlignmentCase)}


def audio_settings():
    """The audio and text defaults that prepare_dataset.py and train.py use when given no flags."""
    parser = add_text_args(add_audio_args(argparse.ArgumentParser(add_help=False)))
    args = parser.parse_args([])
    return stft_kwargs(args), list(args.text_cleaners)


# ---------------------------------------------------------------- words and boundaries

@dataclass(frozen=True)
class WordSpan:
    """A word of a clip: its first and last symbol, and eSpeak's start and end frame (None: left out)."""
    text: str
    first_symbol: int
    last_symbol: int
    start_frame: Optional[int]
    end_frame: Optional[int]


def symbol_chars(text, cleaner_names):
    """{character index: symbol index} of the characters of a cleaned `text` that become symbols."""
    positions = cleaned_symbol_positions(text, cleaner_names)
    if positions is None:
        raise ValueError(f'timings text {text!r} changes under the cleaners {cleaner_names}')
    return {char: symbol for symbol, char in enumerate(positions)}


def word_spans(timings, cleaner_names, hop_length, n_frames):
    """The words of a clip with eSpeak's boundaries in mel frames (see the module docstring)."""
    text = timings['text']
    symbol_of = symbol_chars(text, cleaner_names)
    n_symbols = len(symbol_of)

    def to_frame(sample):
        return min(round(sample / hop_length), n_frames)

    def has_symbol(chars):
        return any(char in symbol_of for char in chars)

    spans = []
    for char_start, char_end, sample_start, sample_end in word_segments(timings):
        letters = [index for index in range(char_start, char_end) if text[index].isalnum()]
        speech = speech_bounds(timings['phonemes'], sample_start, sample_end, timings['num_samples'])
        if not letters or speech is None:
            continue
        first, last = symbol_of[letters[0]], symbol_of[letters[-1]]
        # silence before or after the speech belongs to the word unless a symbol of its own (space, punctuation)
        # holds it: a word-initial stop's closure, which eSpeak's word event includes, stays with the word
        if has_symbol(range(char_start, letters[0])):
            start = to_frame(speech[0])
        else:
            start = to_frame(sample_start)
        if has_symbol(range(letters[-1] + 1, char_end)):
            end = to_frame(speech[1])
        else:
            end = n_frames if char_end == len(text) else to_frame(sample_end)
        spans.append(WordSpan(text[letters[0]:letters[-1] + 1], first, last,
                              start if first > 0 else None, end if last < n_symbols - 1 else None))
    return spans


def boundary_errors(durations, spans):
    """|frame of each boundary by the durations - eSpeak's frame| of the words' measured boundaries."""
    onsets = [0, *torch.as_tensor(durations).cumsum(0).tolist()]  # onsets[i]: the frame where symbol i starts
    errors = []
    for span in spans:
        if span.start_frame is not None:
            errors.append(abs(onsets[span.first_symbol] - span.start_frame))
        if span.end_frame is not None:
            errors.append(abs(onsets[span.last_symbol + 1] - span.end_frame))
    return errors


def summary(errors_per_clip, ms_per_frame):
    """Median and 90th percentile of |error| (frames, ms) over all boundaries, and how many were measured."""
    errors = np.array([error for errors in errors_per_clip for error in errors], dtype=float)
    if errors.size == 0:
        raise ValueError('no word boundary to measure on the test clips')
    median, p90 = np.percentile(errors, [50, 90])
    return {'median_frames': float(median), 'p90_frames': float(p90), 'median_ms': float(median * ms_per_frame),
            'p90_ms': float(p90 * ms_per_frame), 'mean_frames': float(errors.mean()),
            'boundaries': int(errors.size), 'clips': len(errors_per_clip)}


# ---------------------------------------------------------------- data

@dataclass(frozen=True)
class HeldOutClip:
    clip_id: str
    ids: torch.Tensor        # symbol ids of the transcript, as the models read it
    mel: torch.Tensor        # (n_mel, frames), as prepare_dataset.py wrote it
    timings: dict
    spans: list


def extract_flags(cases):
    """prepare_dataset.py flags that write every per-clip kind the cases' filelists name."""
    kinds = {kind for _, case in cases for kind in prepare_dataset.DERIVED_FILELISTS[case.filelist_kind]}
    return [EXTRACT_FLAGS[kind] for kind in EXTRACT_FLAGS if kind in kinds]


def prepare_corpus(dataset, num_clips, cases, build):
    """Build the embedded corpus (when `build`), split it as the demo does and preprocess all three splits."""
    if build:
        from common.corpus.build import main as build_corpus
        run_step(build_corpus, ['--output', str(dataset), '--num-clips', str(num_clips)])
    filelists = [audio_filelist_path(dataset / 'filelists', PREFIX, split) for split in SPLITS]
    if not all(path.is_file() for path in filelists):
        write_split_filelists(dataset / 'metadata.csv', dataset / 'filelists', PREFIX)
    # prepare_dataset.py writes a derived filelist only once every clip of it has its files
    needed = [prepare_dataset.derived_filelist_path(path, case.filelist_kind)
              for path in filelists for _, case in cases]
    if not all(path.is_file() for path in needed):
        run_step(prepare_dataset.main, ['--dataset-path', str(dataset), '--wav-text-filelist',
                                        *map(str, filelists), *extract_flags(cases)])


def load_test_clips(dataset, stft, cleaner_names):
    """The test split's clips: symbol ids, prepared mel, eSpeak's timings and its words."""
    clips = []
    for entry in read_filelist(audio_filelist_path(dataset / 'filelists', PREFIX, 'test'), n_path_columns=1):
        timings = json.loads(prepare_dataset.timings_path(dataset, entry.clip_id).read_text())
        mel = load_tensor(prepare_dataset.output_path(dataset, 'mels', entry.clip_id), 'mel')
        ids = entry_text_ids(entry, cleaner_names)
        if ids.tolist() != text_to_sequence(timings['text'], cleaner_names):
            raise ValueError(f'{entry.location}: the transcript differs from the text of timings/{entry.clip_id}.json')
        spans = word_spans(timings, cleaner_names, stft['hop_length'], mel.size(1))
        clips.append(HeldOutClip(entry.clip_id, ids, mel, timings, spans))
    return clips


# ---------------------------------------------------------------- training on a CPU budget

@dataclass(frozen=True)
class TrainingRun:
    checkpoint: Path
    cpu_seconds: float
    wall_seconds: float
    steps: int           # optimizer steps
    epochs_completed: int


def train_argv(spec, case, dataset, output, batch_size=None):
    """train.py's flags: the shared ones, the demo size, the case's, and a batch size that overrides the case's."""
    lists = dataset / 'filelists'
    batch = ['-bs', str(batch_size)] if batch_size else []
    return ['-m', spec.name, '-o', str(output), '-d', str(dataset),
            '--training-files', str(lists / f'{PREFIX}_{case.filelist_kind}_train_filelist.txt'),
            '--validation-files', str(lists / f'{PREFIX}_{case.filelist_kind}_val_filelist.txt'),
            '--epochs', str(ENDLESS), '--epochs-per-checkpoint', str(ENDLESS), '--validation-interval', str(ENDLESS),
            '--workers', '0', '--no-tensorboard', '--log-file', str(output / 'nvlog.json'),
            *demo_config_flags(spec), *[flag.format(dataset=dataset) for flag in case.flags], *batch]


def process_cpu_seconds(pid):
    """User + system CPU time of a running process, all its threads (Linux: /proc/PID/stat fields 14 and 15)."""
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def logged_steps(log_file):
    """The (epoch, step) records of a train.py JSON log: one per optimizer step."""
    if not log_file.is_file():
        return []
    return [record for record in read_json_log(log_file)
            if isinstance(record['step'], list) and len(record['step']) == 2]


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train_for_cpu_seconds(model_name, argv, output, cpu_seconds, threads):
    """Run train.py until it has used `cpu_seconds` of CPU time, then stop it with SIGTERM (train.py saves a
    checkpoint at the next step boundary). The signal waits for a first step: before train.py has set up its
    handler, SIGTERM would kill it without a checkpoint."""
    log_file = output / 'nvlog.json'
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads)}
    cpu_before, start = children_cpu_seconds(), time.perf_counter()
    with open(output / 'train.log', 'w') as log:
        process = subprocess.Popen([sys.executable, str(REPO_ROOT / 'train.py'), *argv], cwd=REPO_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            signalled = False
            while process.poll() is None:
                if not signalled and spent(process.pid, cpu_seconds) and logged_steps(log_file):
                    process.send_signal(signal.SIGTERM)
                    signalled = True
                time.sleep(POLL_SECONDS)
        except BaseException:
            process.kill()
            process.wait()
            raise
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f'error: train.py {" ".join(argv)} failed ({process.returncode}):\n'
                         f'{(output / "train.log").read_text()[-3000:]}')
    checkpoint = output / f'checkpoint_{model_name}_last.pt'
    if not checkpoint.exists():
        raise SystemExit(f'error: train.py stopped without a checkpoint; see {output / "train.log"}')
    records = read_json_log(log_file)
    epochs = sum(1 for record in records if record['step'] != [] and len(record['step']) == 1
                 and 'train_epoch_loss' in record['data'])
    return TrainingRun(checkpoint, children_cpu_seconds() - cpu_before, wall, len(logged_steps(log_file)), epochs)


def spent(pid, cpu_seconds):
    try:
        return process_cpu_seconds(pid) >= cpu_seconds
    except (OSError, IndexError, ValueError):  # the process ended between poll() and the read
        return False


# ---------------------------------------------------------------- scoring

def trained_and_untrained(spec, checkpoint):
    """{'trained': the checkpoint's model, 'untrained': a fresh one of its config}, both ready for inference."""
    model, config = models.build_model_from_checkpoint(spec.name, checkpoint)
    torch.manual_seed(SEED)
    fresh = spec.model_class(**config)
    return {'trained': ready_for_inference(spec, model, 'cpu'), 'untrained': ready_for_inference(spec, fresh, 'cpu')}


def model_errors(spec, model, clips):
    """Boundary errors per clip of the durations that the model's teacher-forced alignment gives."""
    aligner = prepare_dataset.Aligner(spec, model)
    with torch.inference_mode():
        return [boundary_errors(aligner.durations(clip.ids, clip.mel), clip.spans) for clip in clips]


def espeak_durations(clip, stft, cleaner_names):
    return prepare_dataset.durations_from_espeak(clip.timings, cleaner_names, clip.mel.size(1), stft['hop_length'])


def reference_rows(clips, stft, cleaner_names, ms_per_frame):
    """The rows without a model: even durations (an alignment that knows nothing), and eSpeak's own durations
    (0: a check of the mapping)."""
    even = [boundary_errors(even_shares(clip.mel.size(1), len(clip.ids)), clip.spans) for clip in clips]
    espeak = [boundary_errors(espeak_durations(clip, stft, cleaner_names), clip.spans) for clip in clips]
    return {'even durations (no model)': summary(even, ms_per_frame),
            "eSpeak's durations (prepare_dataset.py)": summary(espeak, ms_per_frame)}


# ---------------------------------------------------------------- report

def table(results, references):
    width = max(len(name) for name in [*results, *references, 'alignment'])
    lines = [f'{"alignment":<{width}} {"weights":<10} {"median":>7} {"p90":>7} {"median":>8} {"p90":>8} '
             f'{"bounds":>7} {"clips":>6}  training',
             f'{"":<{width}} {"":<10} {"frames":>7} {"frames":>7} {"ms":>8} {"ms":>8}']

    def row(name, label, s, note=''):
        return (f'{name:<{width}} {label:<10} {s["median_frames"]:>7.1f} {s["p90_frames"]:>7.1f} '
                f'{s["median_ms"]:>8.1f} {s["p90_ms"]:>8.1f} {s["boundaries"]:>7} {s["clips"]:>6}  {note}').rstrip()
    for name, result in results.items():
        run = result['training']
        note = (f'{run["cpu_seconds"]:.0f} CPU s, {run["steps"]} steps, {run["epochs_completed"]} epochs, '
                f'{run["wall_seconds"]:.0f} s wall')
        lines.append(row(name, 'trained', result['trained'], note))
        lines.append(row(name, 'untrained', result['untrained']))
    for name, s in references.items():
        lines.append(row(name, '-', s))
    return lines


def run(args, dataset, work):
    cases = alignment_cases()
    chosen = [cases[name] for name in args.models]
    stft, cleaner_names = audio_settings()
    ms_per_frame = 1000 * stft['hop_length'] / stft['sampling_rate']
    prepare_corpus(dataset, args.num_clips, chosen, build=args.dataset_path is None)
    clips = load_test_clips(dataset, stft, cleaner_names)
    torch.set_num_threads(args.threads)

    results = {}
    for spec, case in chosen:
        output = work / spec.cli_name
        output.mkdir(parents=True, exist_ok=True)
        print(f'training {case.name} for {args.cpu_seconds:g} CPU seconds ({args.threads} thread(s))', flush=True)
        argv = train_argv(spec, case, dataset, output, args.batch_size)
        training = train_for_cpu_seconds(spec.name, argv, output, args.cpu_seconds, args.threads)
        result = {label: summary(model_errors(spec, model, clips), ms_per_frame)
                  for label, model in trained_and_untrained(spec, training.checkpoint).items()}
        result['training'] = {'cpu_seconds': training.cpu_seconds, 'wall_seconds': training.wall_seconds,
                              'steps': training.steps, 'epochs_completed': training.epochs_completed,
                              'model': spec.name,
                              'flags': train_argv(spec, case, Path('{dataset}'), Path('{output}'), args.batch_size)}
        results[case.name] = result
    references = reference_rows(clips, stft, cleaner_names, ms_per_frame)
    report = {'settings': {'cpu_seconds_budget': args.cpu_seconds, 'threads': args.threads,
                           'dataset': str(dataset), 'test_clips': [clip.clip_id for clip in clips],
                           'hop_length': stft['hop_length'], 'sampling_rate': stft['sampling_rate'],
                           'ms_per_frame': ms_per_frame},
              'aligners': results, 'references': references}
    print('\n'.join(['', f'|word boundary error| on {len(clips)} held-out clips (1 frame = {ms_per_frame:.1f} ms)',
                     *table(results, references)]))
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=1) + '\n')
    return report


@command('python -m benchmarks.alignment')
def main(argv=None):
    cases = alignment_cases()
    parser = ArgumentParser(prog='python -m benchmarks.alignment', description=__doc__.splitlines()[0])
    parser.add_argument('-d', '--dataset-path', type=Path,
                        help='The embedded corpus, built (scripts/build_corpus.sh) or prepared; default: build one')
    parser.add_argument('--num-clips', type=int, default=300,
                        help="Clips to build without --dataset-path (the demo's)")
    parser.add_argument('--cpu-seconds', type=float, default=DEFAULT_CPU_SECONDS,
                        help='CPU time of training per model (process CPU time, not wall time)')
    parser.add_argument('--threads', type=int, default=1, help='Torch threads of training and scoring')
    parser.add_argument('--models', nargs='+', default=list(cases), choices=list(cases))
    parser.add_argument('--batch-size', type=int,
                        help="Override the cases' batch sizes (a tiny corpus needs a small one)")
    parser.add_argument('--work-dir', type=Path,
                        help='Keep the training runs (and a built corpus) here; default: a temporary folder')
    parser.add_argument('--output', help='Write the results to this JSON file')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work_dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        run(args, args.dataset_path or work / 'corpus', work)
    return 0


if __name__ == '__main__':
    sys.exit(main())
