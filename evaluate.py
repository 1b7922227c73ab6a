"""Objective quality of a trained model on held-out recordings (mel L1 and mel-cepstral distortion, common/quality.py).

  FastPitch: synthesize each sentence with the recording's own durations (so the frames line up; pitch is
             predicted) and compare the mel with the recording's mel.
  WaveGlow:  vocode each recording's mel (sigma 0) and compare the mel of that audio with the recording's mel.
`--untrained` scores the same architecture freshly initialised, the "before training" figure.

  python evaluate.py -m FastPitch --checkpoint C -d DATA --filelist F [--pitch-mean-std-file S] [--untrained]
"""
import argparse
import json
import sys

import torch

import models
from common.audio import AudioError, load_wav
from common.checkpoint import CheckpointError, load_checkpoint, split_checkpoint
from common.data_args import add_audio_args, add_text_args, stft_kwargs
from common.filelist import FilelistError, read_filelist
from common.quality import mel_cepstral_distortion, mel_l1
from common.stft import TacotronSTFT


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-m', '--model-name', required=True, choices=['FastPitch', 'WaveGlow'])
    parser.add_argument('--checkpoint', required=True, help='Checkpoint of the model to score')
    parser.add_argument('-d', '--dataset-path', default='./', help='Folder the filelist paths are relative to')
    parser.add_argument('--filelist', required=True,
                        help='FastPitch: mels|durations|pitch|text filelist; WaveGlow: wavs/ID.wav|text filelist')
    parser.add_argument('--pitch-mean-std-file', default=None, help='FastPitch pitch statistics (JSON)')
    parser.add_argument('--untrained', action='store_true', help='Score a freshly initialised model of this config')
    parser.add_argument('--seed', type=int, default=1234, help='Seed of the fresh initialisation')
    parser.add_argument('--label', default='', help='Name of this measurement in the output')
    add_audio_args(parser)
    add_text_args(parser)
    return parser.parse_args(argv)


def load_scored_model(args):
    if not args.untrained:
        return models.load_model_from_checkpoint(args.model_name, args.checkpoint)
    _, config, _ = split_checkpoint(load_checkpoint(args.checkpoint), source=args.checkpoint)
    torch.manual_seed(args.seed)
    model = models.get_model(args.model_name, config, 'cpu')
    prepare = getattr(models.model_package(args.model_name), 'prepare_for_inference', None)
    return (prepare(model) if prepare else model).eval()


def fastpitch_pairs(model, args):
    """(synthesized mel, recorded mel) per clip, durations taken from the recording."""
    package = models.model_package('FastPitch')
    for text, mel, durations, _, _ in package.get_dataset(args, args.filelist):
        predicted, _, _, _ = model.infer(text[None], torch.tensor([text.numel()]), dur_tgt=durations[None])
        yield predicted[0], mel


def waveglow_pairs(model, args):
    """(mel of the vocoded audio, recorded mel) per clip."""
    stft = TacotronSTFT(**stft_kwargs(args))
    for entry in read_filelist(args.filelist, n_path_columns=1):
        audio, _ = load_wav(f'{args.dataset_path}/{entry.paths[0]}', args.sampling_rate)
        mel = stft.mel_spectrogram(audio[None])
        vocoded = model.infer(mel, sigma=0.0).clamp(-1, 1)
        yield stft.mel_spectrogram(vocoded)[0], mel[0]


PAIRS = {'FastPitch': fastpitch_pairs, 'WaveGlow': waveglow_pairs}


def score(pairs):
    l1_sum, mcd_sum, frames = 0.0, 0.0, 0
    for predicted, target in pairs:
        n = min(predicted.size(1), target.size(1))
        lengths = torch.tensor([n])
        l1_sum += mel_l1(predicted[None, :, :n], target[None, :, :n], lengths) * n
        mcd_sum += mel_cepstral_distortion(predicted[None, :, :n], target[None, :, :n], lengths) * n
        frames += n
    return {'mel_l1': l1_sum / frames, 'mcd_db': mcd_sum / frames, 'frames': frames}


def main(argv=None):
    args = parse_args(argv)
    try:
        model = load_scored_model(args)
        with torch.no_grad():
            result = score(PAIRS[args.model_name](model, args))
    except (CheckpointError, FilelistError, AudioError, ValueError) as error:
        sys.exit(f'error: {error}')
    result = {'model': args.model_name, 'label': args.label or ('untrained' if args.untrained else 'trained'),
              **result}
    print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
