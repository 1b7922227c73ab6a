"""Throughput of each preprocessing stage, in clips per second of one worker process (one torch thread, as
prepare_dataset.py runs them; --workers processes run side by side).

    python -m benchmarks.preprocessing [--dataset-path D] [--num-clips N]

D is a corpus with timings (the embedded eSpeak corpus); without it, N clips are built in a temporary folder.
Stages: mels (read WAV + log-mel), pitch (pYIN per frame + mean per symbol), durations from eSpeak timings, and
durations from the attention of a default-size Tacotron 2 (random weights: the cost does not depend on them).
Each stage runs once untimed on the first clip first (librosa and numba set themselves up on first use).
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from common.audio import load_wav
from common.corpus import build
from common.data_args import add_audio_args, add_text_args, stft_kwargs
from common.stft import TacotronSTFT
from common.text import text_to_sequence
from fastpitch.durations import durations_from_espeak, durations_from_tacotron2, mel_frame_count
from fastpitch.pitch import char_pitch, frame_pitch
from tacotron2.data_function import mel_from_audio


def time_stage(function, clips):
    """Seconds to run function(clip) over all clips, after one untimed warm-up call."""
    function(clips[0])
    start = time.perf_counter()
    for clip in clips:
        function(clip)
    return time.perf_counter() - start


def load_clips(dataset_path, args, limit):
    clips = []
    for timings_file in sorted((dataset_path / 'timings').glob('*.json'))[:limit]:
        timings = json.loads(timings_file.read_text())
        path = dataset_path / 'wavs' / f'{timings_file.stem}.wav'
        audio, _ = load_wav(path, args.sampling_rate)
        ids = torch.tensor(text_to_sequence(timings['text'], args.text_cleaners))
        clips.append({'path': path, 'timings': timings, 'audio': audio, 'ids': ids})
    if not clips:
        raise SystemExit(f'error: {dataset_path}/timings holds no clips (is it the embedded corpus?)')
    return clips


def run(dataset_path, args):
    clips = load_clips(dataset_path, args, args.num_clips)
    stft = TacotronSTFT(**stft_kwargs(args))
    hop = args.hop_length

    def espeak(clip):
        timings = clip['timings']
        return durations_from_espeak(timings, args.text_cleaners, mel_frame_count(timings['num_samples'], hop), hop)

    for clip in clips:  # inputs of the later stages
        clip['mel'] = mel_from_audio(stft, clip['audio'])
        clip['durations'] = espeak(clip)

    from models import default_model_config, get_model  # heavy import, only for this stage
    tacotron2 = get_model('Tacotron2', default_model_config('Tacotron2'), 'cpu')
    stages = {
        'mels': lambda clip: mel_from_audio(stft, load_wav(clip['path'], args.sampling_rate)[0]),
        'pitch': lambda clip: char_pitch(frame_pitch(clip['audio'], args.sampling_rate, args.filter_length, hop),
                                         clip['durations']),
        'durations (espeak)': espeak,
        'durations (tacotron2)': lambda clip: durations_from_tacotron2(tacotron2, clip['ids'], clip['mel']),
    }
    audio_seconds = sum(clip['audio'].numel() for clip in clips) / args.sampling_rate
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
        build.main(['--output', str(corpus), '--num-clips', str(args.num_clips),
                    '--filelists-dir', str(corpus / 'filelists')])
        run(corpus, args)


if __name__ == '__main__':
    main()
