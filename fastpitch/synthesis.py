"""FastPitch (1.0 or 1.1) as inference.py's mel generator, with the pace, pitch and speaker controls and the
text front end of its version, and as evaluate.py scores it."""
import torch

from common.text.processing import text_processing

from .data_function import get_dataset
from .model_v11 import FastPitch11

# --text-cleaners when none are given: the ones each version's recipe trains with
DEFAULT_CLEANERS = {'1.0': ['english_cleaners'], '1.1': ['english_cleaners_v2']}


def model_version(model):
    return '1.1' if isinstance(model, FastPitch11) else '1.0'


def infer(model, text, lengths, **controls):
    """(mel (B, n_mel, T), mel lengths, durations) of either version: 1.0's infer takes the text lengths, 1.1's
    (as its reference) reads them from the padding and returns pitch and energy too."""
    if isinstance(model, FastPitch11):
        mel, mel_lengths, durations, _, _ = model.infer(text, **controls)
    else:
        mel, mel_lengths, durations, _ = model.infer(text, lengths, **controls)
    return mel, mel_lengths, durations


def build_pitch_transform(args):
    """FastPitch.infer's pitch_transform from the flags, applied in the order flatten, invert, amplify, shift.

    Pitch is normalised there (pitch_hz = pitch * std + mean), so scaling it scales the deviation from the mean."""
    steps = []
    if args.pitch_transform_flatten:
        steps.append(lambda pitch, std: pitch * 0.0)
    if args.pitch_transform_invert:
        steps.append(lambda pitch, std: -pitch)
    if args.pitch_transform_amplify != 1.0:
        steps.append(lambda pitch, std: pitch * args.pitch_transform_amplify)
    if args.pitch_transform_shift != 0.0:
        steps.append(lambda pitch, std: pitch + args.pitch_transform_shift / std)
    if not steps:
        return None

    def transform(pitch, lengths, mean, std):
        for step in steps:
            pitch = step(pitch, std)
        return pitch
    return transform


class FastPitchGenerator:
    overrun_message = None  # every item gets all the frames its durations ask for
    overrun_event = None

    def __init__(self, model, args, device=None):
        self.model = model
        self.n_mel_channels = model.n_mel_channels
        version = model_version(model)
        self.controls = {'pace': args.pace, 'pitch_transform': build_pitch_transform(args)}
        if version == '1.1':
            self.controls['speaker'] = args.speaker
        elif args.speaker != 0:
            raise ValueError(f'--speaker {args.speaker}: FastPitch 1.0 has one speaker')
        self.text_processing = text_processing(args.text_cleaners or DEFAULT_CLEANERS[version], args.p_arpabet,
                                               args.cmudict_path, args.heteronyms_path, front_end=version)
        self.description = f'FastPitch {version} (pace {args.pace})'

    def __call__(self, text, lengths):
        mel, mel_lengths, _ = infer(self.model, text, lengths, **self.controls)
        return mel, mel_lengths, None


def evaluation_pairs(model, args):
    """(synthesized mel, recorded mel) per clip of the --filelist, the durations taken from the recording so that
    the frames line up (pitch is predicted): 1.0 reads them from its mels|durations|pitch_char|text lines, 1.1 from
    its own aligner on mels|pitch|text lines."""
    args.fastpitch_version = model_version(model)
    for item in get_dataset(args, args.filelist):
        text, mel = item[0], item[1]
        durations = item[2] if args.fastpitch_version == '1.0' else model.align(text, mel, item[4]).sum(0)
        predicted, _, _ = infer(model, text[None], torch.tensor([text.numel()]), dur_tgt=durations[None])
        yield predicted[0], mel
