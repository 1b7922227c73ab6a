"""Throughput of each preprocessing stage, in clips per second of one worker process (one torch thread, as
prepare_dataset.py runs them; --workers processes run side by side).

    python -m benchmarks.preprocessing [--dataset-path D] [--num-clips N]

D is a corpus with timings (the embedded eSpeak corpus); without it, N clips are built in a temporary folder.
Stages, each through prepare_dataset.py's own per-clip functions: mels (read WAV + log-mel), pitch (pYIN per frame
+ mean per symbol), durations from eSpeak timings and, for every model whose spec has a teacher_forced_alignment,
durations from its attention (prepare_dataset.py's --durations-from NAME; the model at its default size with random
weights: the cost does not depend on them). Each stage runs once untimed on the first clip first (librosa and numba
set themselves up on first use).
"""
import argparse
import dataclasses
import json
import tempfile
import time
from functools import partial
from pathlib import Path

import torch

import prepare_dataset
from common.benchmarking import default_model
from common.corpus import build
from common.data_args import add_audio_args, add_text_args, stft_kwargs
from common.fileio import torch_save_atomic

# what the stages read of the corpus; the rest of the work folder is written by them
CORPUS_INPUTS = ('wavs', prepare_dataset.TIMINGS_DIR)


def time_stage(function, clips):
    """Seconds to run function(clip) over all clips, after one untimed warm-up call."""
    function(clips[0])
    start = time.perf_counter()
    for clip in clips:
        function(clip)
    return time.perf_counter() - start


def work_folder(dataset_path, folder):
    """A folder that links to the corpus's WAVs and timings and holds nothing else, so that every stage computes its
    output (prepare_dataset.py reuses the mels it finds) and nothing is written into the corpus."""
    for name in CORPUS_INPUTS:
        (folder / name).symlink_to(Path(dataset_path).resolve() / name, target_is_directory=True)
    return folder


def clip_settings(folder, args):
    """prepare_dataset.py's settings for every stage with durations from eSpeak timings: this command's audio and
    text flags, prepare_dataset.py's defaults for the rest."""
    defaults = prepare_dataset.parse_args(['--dataset-path', str(folder), '--wav-text-filelist', '-',
                                           '--extract-mels', '--extract-durations', '--extract-pitch'])
    return dataclasses.replace(prepare_dataset.settings_from_args(defaults), stft=stft_kwargs(args),
                               text_cleaners=tuple(args.text_cleaners))


def load_clips(settings, stft, limit):
    """ClipData of the first `limit` clips with timings, their audio and mel computed (inputs of the later stages),
    and their eSpeak durations written where the pitch stage reads them."""
    clips = []
    for timings_file in sorted((settings.dataset_path / prepare_dataset.TIMINGS_DIR).glob('*.json'))[:limit]:
        clip_id = timings_file.stem
        text = json.loads(timings_file.read_text())['text']
        data = prepare_dataset.ClipData(prepare_dataset.Clip(str(timings_file), clip_id, f'wavs/{clip_id}.wav', text),
                                        settings, stft)
        data.mel  # computed here, not in a timed stage: ClipData keeps it
        torch_save_atomic(prepare_dataset.clip_durations(data, settings, None),
                          prepare_dataset.output_path(settings.dataset_path, 'durations', clip_id))
        clips.append(data)
    return clips


def duration_stages(settings):
    """{stage: function of a clip}: durations from eSpeak timings and from the teacher-forced alignment of each model
    whose spec has one, at its default size (random weights: the cost does not depend on them)."""
    aligners = {prepare_dataset.ESPEAK: None}
    aligners.update({name: prepare_dataset.Aligner(spec, default_model(spec, 'cpu')[1])
                     for name, spec in prepare_dataset.aligning_specs().items()})
    return {f'durations ({source})': partial(prepare_dataset.clip_durations,
                                             settings=dataclasses.replace(settings, durations_from=source),
                                             aligner=aligner)
            for source, aligner in aligners.items()}


def run(dataset_path, args):
    with tempfile.TemporaryDirectory() as folder:
        settings = clip_settings(work_folder(dataset_path, Path(folder)), args)
        stft = settings.mel_stft()
        clips = load_clips(settings, stft, args.num_clips)
        if not clips:
            raise SystemExit(f'error: {dataset_path}/timings holds no clips (is it the embedded corpus?)')
        stages = {
            'mels': lambda data: prepare_dataset.ClipData(data.clip, settings, stft).mel,  # a fresh read of the WAV
            'pitch': lambda data: prepare_dataset.clip_pitch(data, settings),
            **duration_stages(settings),
        }
        audio_seconds = sum(data.audio.numel() for data in clips) / args.sampling_rate
        print(f'{len(clips)} clips, {audio_seconds:.1f} s of audio, torch threads {torch.get_num_threads()}')
        print(f'{"stage":<24}{"seconds":>10}{"clips/s":>10}{"x real time":>14}')
        for name, function in stages.items():
            seconds = time_stage(function, clips)
            print(f'{name:<24}{seconds:>10.2f}{len(clips) / seconds:>10.1f}{audio_seconds / seconds:>14.1f}')


def main(argv=None):
    parser = argparse.ArgumentParser(description='Clips per second of each preprocessing stage.')
    parser.add_argument('-d', '--dataset-path', type=Path, help='Embedded corpus (default: build one)')
    parser.add_argument('--num-clips', type=int, default=20, help='Clips to time (and to build without -d)')
    add_audio_args(parser)
    add_text_args(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.dataset_path:
        run(args.dataset_path, args)
        return
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / 'corpus'
        build.main(['--output', str(corpus), '--num-clips', str(args.num_clips)])
        run(corpus, args)


if __name__ == '__main__':
    main()
