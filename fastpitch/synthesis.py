"""FastPitch as inference.py's mel generator, with the pace and pitch controls, and as evaluate.py scores it."""
import torch

from .data_function import get_dataset


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
        self.pace = args.pace
        self.pitch_transform = build_pitch_transform(args)
        self.description = f'FastPitch (pace {args.pace})'

    def __call__(self, text, lengths):
        mel, mel_lengths, _, _ = self.model.infer(text, lengths, pace=self.pace, pitch_transform=self.pitch_transform)
        return mel, mel_lengths, None


def evaluation_pairs(model, args):
    """(synthesized mel, recorded mel) per clip of the --filelist (mels|durations|pitch|text lines), the durations
    taken from the recording so that the frames line up (pitch is predicted)."""
    for text, mel, durations, _, _ in get_dataset(args, args.filelist):
        predicted, _, _, _ = model.infer(text[None], torch.tensor([text.numel()]), dur_tgt=durations[None])
        yield predicted[0], mel
