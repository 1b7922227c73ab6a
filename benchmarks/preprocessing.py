"""Preprocessing throughput: per stage in one process, and prepare_dataset.py whole per worker count, with the
projected wall time for LJSpeech; and how far Praat's and pYIN's pitch agree on the same clips.

    python -m benchmarks.preprocessing [--dataset-path D] [--num-clips 1000] [--workers 1 2] [--stage-clips 100]
        [--whole-clips N]

D is a corpus with timings (the embedded eSpeak corpus); without it, --num-clips clips are built in a temporary
folder. Everything runs in a work folder that links to the corpus's WAVs and timings, so that every output is
computed and nothing is written into the corpus.

* Stages (the first --stage-clips clips, one process, one torch thread, as each prepare_dataset.py worker runs):
  mels (read WAV + log-mel), pitch per frame by Praat and by pYIN, durations from eSpeak timings and, for every
  model whose spec has a teacher_forced_alignment, from its attention (prepare_dataset.py's --durations-from NAME;
  the model its AlignmentCase names (the version that can align), at its default size with random weights, on at
  most --model-clips clips: the cost does not depend on the weights), one clip at a time and in batches of
  --batch-size clips of similar text lengths as prepare_dataset.py runs them, with all torch threads (it aligns in
  its main process). Each stage runs once untimed on its first clip or batch first (librosa and numba set
  themselves up on first use).
* Agreement of the two pitch estimators on those clips: the median absolute difference in cents over the frames
  both call voiced, and the share of frames on whose voicing they agree.
* Whole runs of prepare_dataset.py over every clip (or the first --whole-clips), per --workers count: the
  per-symbol data (mels, durations from eSpeak timings, per-symbol pitch by its default estimator, Praat) and the
  per-frame data (mels, per-frame pitch by its default, pYIN), with the wall time they project for LJSpeech-1.1
  (13,100 clips, 23 h 55 min of audio) at the same audio seconds per second.
"""
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

import prepare_dataset
from common.benchmarking import AlignmentCase, cases_of_kind, default_model
from common.cli import ArgumentParser, command, positive_int, run_step
from common.corpus import build
from common.audio import wav_info
from common.data_args import add_audio_args, add_text_args, stft_kwargs
from common.fileio import torch_save_atomic
from common.text import text_to_sequence

# what the stages read of the corpus; the rest of the work folder is written by them
CORPUS_INPUTS = ('wavs', prepare_dataset.TIMINGS_DIR)
PITCH_METHODS = (prepare_dataset.PRAAT, prepare_dataset.PYIN)  # in the order agreement() takes them
LJSPEECH_SECONDS = 86117  # LJSpeech-1.1's 13,100 clips: 23 h 55 min 17 s
# prepare_dataset.py's outputs for the per-symbol and the per-frame data, as scripts/prepare_dataset.sh asks for them
WHOLE_RUNS = {'per-symbol (Praat)': ['--extract-mels', '--extract-durations', '--extract-pitch'],
              'per-frame (pYIN)': ['--extract-mels', '--extract-frame-pitch']}


def time_stage(function, units, threads=1):
    """Seconds to run function(unit) over all units (clips, or batches of them) with `threads` torch threads, after
    one untimed warm-up call."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        function(units[0])
        start = time.perf_counter()
        for unit in units:
            function(unit)
        return time.perf_counter() - start
    finally:
        torch.set_num_threads(previous)


def work_folder(dataset_path, folder):
    """A folder that links to the corpus's WAVs and timings and holds nothing else, so that every stage computes its
    output (prepare_dataset.py reuses the files it finds) and nothing is written into the corpus."""
    folder.mkdir(parents=True)
    for name in CORPUS_INPUTS:
        (folder / name).symlink_to(Path(dataset_path).resolve() / name, target_is_directory=True)
    return folder


def audio_flags(args):
    """This command's audio and text flags, for prepare_dataset.py."""
    stft = stft_kwargs(args)
    flags = [f'--{key.replace("_", "-")}={value}' for key, value in stft.items()]
    return flags + ['--text-cleaners', *args.text_cleaners]


def corpus_filelist(dataset_path, folder, limit=None):
    """A filelist of the corpus's clips that have timings (wavs/ID.wav|spoken text), in name order."""
    lines = []
    for timings_file in sorted((Path(dataset_path) / prepare_dataset.TIMINGS_DIR).glob('*.json'))[:limit]:
        lines.append(f'wavs/{timings_file.stem}.wav|{json.loads(timings_file.read_text())["text"]}\n')
    path = Path(folder) / 'clips_audio_text_filelist.txt'
    path.write_text(''.join(lines))
    return path


def stage_clips(settings, stft, filelist):
    """ClipData of the filelist's clips, their audio and mel computed (inputs of the later stages), and their eSpeak
    durations written where the per-symbol pitch reads them."""
    clips = []
    for line in Path(filelist).read_text().splitlines():
        wav, text = line.split('|')
        key = prepare_dataset.clip_key(wav)
        data = prepare_dataset.ClipData(prepare_dataset.Clip(wav, key, wav, text), settings, stft)
        data.mel  # computed here, not in a timed stage: ClipData keeps it
        torch_save_atomic(prepare_dataset.clip_durations(data, settings),
                          prepare_dataset.output_path(settings.dataset_path, 'durations', key))
        clips.append(data)
    return clips


def duration_stages(settings, clips, model_clips, batch_size):
    """{stage: (function of a unit, units, clips, torch threads)}: durations from eSpeak timings (a unit is a clip),
    and from the teacher-forced alignment of each model with an AlignmentCase, built at its default size with the
    case's model flags (random weights: the cost does not depend on them), one clip at a time and in batches of
    similar text lengths (a unit is a batch)."""
    stages = {f'durations ({prepare_dataset.ESPEAK})': (partial(prepare_dataset.clip_durations, settings=settings),
                                                        clips, clips, 1)}
    model_clips = clips[:model_clips]
    ids = [torch.tensor(text_to_sequence(data.clip.text, settings.text_cleaners)) for data in model_clips]
    by_length = sorted(zip(ids, (data.mel for data in model_clips)), key=lambda pair: len(pair[0]))
    threads = torch.get_num_threads()
    for spec, case in cases_of_kind(prepare_dataset.aligning_specs().values(), AlignmentCase):
        aligner = prepare_dataset.Aligner(spec, default_model(spec, 'cpu', case.model_flags)[1])
        for size in dict.fromkeys((1, batch_size)):
            batches = [by_length[start:start + size] for start in range(0, len(by_length), size)]
            stages[f'durations ({spec.cli_name}, batches of {size})'] = (aligner.batch_durations, batches,
                                                                          model_clips, threads)
    return stages


def pitch_stage(method, settings):
    stft = settings.stft

    def estimate(data):
        return prepare_dataset.frame_pitch(data.audio, stft['sampling_rate'], stft['filter_length'], stft['hop_length'],
                           settings.pitch_fmin, settings.pitch_fmax, method)
    return estimate


def agreement(praat_tracks, pyin_tracks):
    """(median |Praat - pYIN| in cents over frames both call voiced, share of frames with the same voicing)."""
    praat, pyin = (np.concatenate([track.numpy() for track in tracks]) for tracks in (praat_tracks, pyin_tracks))
    both = (praat > 0) & (pyin > 0)
    cents = 1200 * np.abs(np.log2(praat[both] / pyin[both]))
    return float(np.median(cents)), float(np.mean((praat > 0) == (pyin > 0)))


def seconds_of(clips_audio):
    return sum(audio.numel() for audio in clips_audio)


def report_row(name, seconds, n_clips, audio_seconds, extra=''):
    print(f'{name:<40}{n_clips:>7}{seconds:>10.1f}{n_clips / seconds:>10.2f}{audio_seconds / seconds:>12.1f}{extra}')


def run_stages(dataset_path, folder, args):
    parsed = prepare_dataset.parse_args(['-d', str(work_folder(dataset_path, folder / 'stages')),
                                         '--wav-text-filelist', '-', '--extract-mels', *audio_flags(args)])
    settings = prepare_dataset.settings_from_args(parsed)
    stft = settings.mel_stft()
    clips = stage_clips(settings, stft, corpus_filelist(dataset_path, folder, args.stage_clips))
    rate = settings.stft['sampling_rate']
    stages = {'mels': (lambda data: prepare_dataset.ClipData(data.clip, settings, stft).mel, clips, clips, 1),
              **{f'pitch ({method})': (pitch_stage(method, settings), clips, clips, 1) for method in PITCH_METHODS},
              **duration_stages(settings, clips, args.model_clips, args.batch_size)}
    print(f'stages, one process, one torch thread (aligning models: {torch.get_num_threads()}):')
    print(f'{"stage":<40}{"clips":>7}{"seconds":>10}{"clips/s":>10}{"audio s/s":>12}')
    for name, (function, units, stage_clips_, threads) in stages.items():
        seconds = time_stage(function, units, threads)
        report_row(name, seconds, len(stage_clips_), seconds_of(data.audio for data in stage_clips_) / rate)
    cents, voicing = agreement(*([pitch_stage(method, settings)(data) for data in clips] for method in PITCH_METHODS))
    print(f'Praat against pYIN on these {len(clips)} clips: median |difference| {cents:.1f} cents on the frames '
          f'both call voiced; voicing agrees on {100 * voicing:.1f}% of the frames')


def run_whole(dataset_path, folder, args):
    filelist = corpus_filelist(dataset_path, folder, args.whole_clips)
    audio_seconds = sum(wav_info(Path(dataset_path) / line.split('|')[0]).duration
                        for line in filelist.read_text().splitlines())
    n_clips = len(filelist.read_text().splitlines())
    print(f'prepare_dataset.py whole, {n_clips} clips, {audio_seconds:.0f} s of audio:')
    print(f'{"data, workers":<40}{"clips":>7}{"seconds":>10}{"clips/s":>10}{"audio s/s":>12}  LJSpeech projection')
    for data, flags in WHOLE_RUNS.items():
        for workers in args.workers:
            root = work_folder(dataset_path, folder / f'{data.split()[0]}_{workers}')
            parsed = prepare_dataset.parse_args(['-d', str(root), '--wav-text-filelist', str(filelist), *flags,
                                                 '--workers', str(workers), *audio_flags(args)])
            start = time.perf_counter()
            prepare_dataset.prepare(parsed)
            seconds = time.perf_counter() - start
            projected = LJSPEECH_SECONDS / (audio_seconds / seconds)
            report_row(f'{data}, {workers}', seconds, n_clips, audio_seconds, f'  {projected / 60:.1f} min')


def run(dataset_path, args):
    with tempfile.TemporaryDirectory() as folder:
        run_stages(dataset_path, Path(folder), args)
        run_whole(dataset_path, Path(folder), args)


@command('python -m benchmarks.preprocessing')
def main(argv=None):
    parser = ArgumentParser(prog='python -m benchmarks.preprocessing',
                            description='Preprocessing throughput per stage and per worker count, with the LJSpeech '
                                        'projection, and Praat against pYIN.')
    parser.add_argument('-d', '--dataset-path', type=Path, help='Embedded corpus (default: build one)')
    parser.add_argument('--num-clips', type=positive_int, default=1000, help='Clips to build without -d')
    parser.add_argument('--stage-clips', type=positive_int, default=100, help='Clips timed per stage')
    parser.add_argument('--model-clips', type=positive_int, default=10,
                        help='Clips timed per durations-from-a-model stage (default-size models on the CPU are slow)')
    parser.add_argument('--batch-size', type=positive_int, default=prepare_dataset.DEFAULT_BATCH_SIZE,
                        help='Clips per batch of the durations-from-a-model stages (prepare_dataset.py --batch-size)')
    parser.add_argument('--whole-clips', type=positive_int, default=None,
                        help='Clips of the whole runs (default: all; pYIN takes about a second per clip)')
    parser.add_argument('--workers', type=positive_int, nargs='+', default=[1, 2],
                        help='Worker counts of the whole runs')
    add_audio_args(parser)
    add_text_args(parser)
    args = parser.parse_args(argv)
    if args.dataset_path:
        run(args.dataset_path, args)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / 'corpus'
        run_step(build.main, ['--output', str(corpus), '--num-clips', str(args.num_clips)])
        run(corpus, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
